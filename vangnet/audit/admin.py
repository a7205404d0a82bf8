from django.contrib import admin

from vangnet.common.admin import ReadOnlyAdmin

from .models import Event


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """Read-only: the log is append-only, even for administrators."""

    list_display = ["seq", "occurred_at", "event_type", "subject_type", "subject_id", "organisation_id",
                    "actor_label"]
    list_filter = ["event_type", "actor_type", "subject_type"]
