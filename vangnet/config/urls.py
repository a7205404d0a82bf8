"""Top-level URLs: reporter pages are translated (/nl/, /en/), staff, admin and API are not."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from vangnet.common.views import quick_exit
from vangnet.intake.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", api.urls),
    path("exit/", quick_exit, name="quick_exit"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("staff/", include("vangnet.accounts.urls")),
    path("staff/cases/", include("vangnet.cases.urls")),
]
urlpatterns += i18n_patterns(
    path("", include("vangnet.intake.urls")),
    prefix_default_language=True,
)
