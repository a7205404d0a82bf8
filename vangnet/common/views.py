"""Shared views: the kind answer to a rate-limited request."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt  # the keepalive request carries no token; the only effect is forgetting the session
def quick_exit(request: HttpRequest) -> HttpResponse:
    """Forget everything this browser's session holds (answers, an open report), then leave.

    The quick-exit link points here, so it works without JavaScript; with JavaScript the
    page posts here in the background and replaces itself in the history with the neutral site.
    """
    request.session.flush()
    return redirect(settings.VANGNET_QUICK_EXIT_URL)


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "common/rate_limited.html", status=429)
