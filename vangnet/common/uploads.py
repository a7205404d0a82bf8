"""The one limit on the size of a request, applied before a byte of its body is read.

Django limits the fields of a form (``DATA_UPLOAD_MAX_MEMORY_SIZE``) but not the files in
it: a multipart body is read in full by whoever first touches ``request.POST`` (the CSRF
check, before any view). ``UploadLimitMiddleware`` looks at ``Content-Length`` first and
answers a request larger than ``VANGNET_UPLOAD_MAX_BYTES`` with 413 at once: a page in the
reporter's language that says nothing was stored, or the API's ``Problem``
(``body_too_large``). A body can never be longer than its ``Content-Length`` (Django reads no
further), so every upload that passes fits in memory: the settings keep uploaded files there
and never in a temporary file, because evidence is sealed before it reaches a disk and the
bytes of sexual images of a minor are never written at all.

It runs in ``__call__``, which every middleware passes through before any ``process_view``
(the CSRF check's included), so it can sit after the middleware that make a page (sessions,
language, messages).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

API_PREFIX = "/api/"


def upload_limit_mb() -> int:
    return int(settings.VANGNET_UPLOAD_MAX_BYTES // 2**20)


def content_length(request: HttpRequest) -> int:
    try:
        return max(int(request.META.get("CONTENT_LENGTH") or 0), 0)
    except ValueError:
        return 0


def too_large_message(limit_bytes: int | None = None) -> str:
    mb = (limit_bytes or settings.VANGNET_UPLOAD_MAX_BYTES) // 2**20
    return _("The request is larger than %(mb)d MB. Send fewer or smaller files at a time.") % {"mb": mb}


def large_json_limit(path: str) -> int | None:
    """The body limit of an API endpoint that takes larger JSON bodies (``VANGNET_LARGE_JSON_BODIES``), or None."""
    for prefix, limit in settings.VANGNET_LARGE_JSON_BODIES.items():
        if path.startswith(prefix):
            return int(limit)
    return None


class UploadLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = content_length(request)
        if length > settings.VANGNET_UPLOAD_MAX_BYTES:
            return self.refuse(request)
        limit = large_json_limit(request.path)
        if limit is not None and length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            if length > limit:
                return self.refuse(request)
            # A JSON body larger than Django's general limit, on an endpoint that takes one (images as
            # base64): read it here, bounded by its Content-Length, so request.body need not refuse it.
            request._body = request.read(length)  # type: ignore[attr-defined]
        return self.get_response(request)

    @staticmethod
    def refuse(request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX):
            from vangnet.common.api import problem

            return problem(request, 413, "body_too_large", too_large_message(large_json_limit(request.path)))
        return render(request, "common/request_too_large.html", {"limit_mb": upload_limit_mb()}, status=413)
