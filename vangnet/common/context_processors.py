"""Template context every reporter page needs: the quick-exit target."""

from django.conf import settings
from django.http import HttpRequest


def safety(request: HttpRequest) -> dict[str, str]:
    return {"quick_exit_url": settings.VANGNET_QUICK_EXIT_URL}
