"""Shared views: the kind answer to a rate-limited request."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def rate_limited(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "common/rate_limited.html", status=429)
