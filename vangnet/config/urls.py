"""Top-level URLs: reporter pages are translated (/nl/, /en/), staff, admin and API are not."""

from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from vangnet.common.views import favicon, quick_exit, set_language
from vangnet.config.api import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", api.urls),
    path("exit/", quick_exit, name="quick_exit"),
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("i18n/setlang/", set_language, name="set_language"),
    path("staff/", include("vangnet.accounts.urls")),
    path("staff/cases/", include("vangnet.cases.urls")),
    path("staff/cases/", include("vangnet.evidence.urls")),
    path("staff/cases/", include("vangnet.notices.urls")),
    path("staff/providers/performance/", include("vangnet.notices.performance_urls")),
    path("staff/moderation/", include("vangnet.moderation.urls")),
]
urlpatterns += i18n_patterns(
    path("", include("vangnet.intake.urls")),
    prefix_default_language=True,
)

handler500 = "vangnet.common.views.server_error"
