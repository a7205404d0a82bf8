"""Shared views: quick exit, language switch, error pages and the kind answer to a rate-limited request."""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, HttpResponseServerError
from django.templatetags.static import static
from django.shortcuts import redirect, render
from django.utils import translation
from django.views import i18n
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST


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


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch language and stay on the same page, step and answers.

    Django's view translates ``next`` only when it resolves in the active language, which
    for ``/en/...`` from a Dutch request it does not: so the page's own language is made
    active first. Answers live in the session, which a language switch keeps.
    """
    path_language = translation.get_language_from_path(urlsplit(request.POST.get("next", "")).path)
    if path_language:
        translation.activate(path_language)
    return i18n.set_language(request)


def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for ``/favicon.ico`` on their own; send them to the static file (cached there)."""
    return HttpResponseRedirect(static("vangnet/favicon.ico"))


def server_error(request: HttpRequest) -> HttpResponse:
    """vangnet's own 500 page, in the page's language, with the quick exit and the help lines.

    Django's default renders without the request, so the quick-exit target and the
    language switch would be missing; if even this page fails, a plain text still answers.
    """
    try:
        return render(request, "500.html", status=500)
    except Exception:  # noqa: BLE001 - the error page must never fail
        return HttpResponseServerError("Server error. In danger right now? Call 112.", content_type="text/plain")


def guarded_file(response: HttpResponse) -> HttpResponse:
    """A file from a case (evidence, a notice's PDF) never runs as a page of ours, is never cached,
    and the browser never guesses its type."""
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store, private"
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
