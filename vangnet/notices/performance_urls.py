"""Provider performance on the staff pages, mounted at ``staff/providers/performance/``."""

from django.urls import path

from . import performance_views

app_name = "performance"

urlpatterns = [
    path("", performance_views.providers, name="providers"),
]
