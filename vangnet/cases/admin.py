from django.contrib import admin

from vangnet.common.admin import ReadOnlyAdmin

from .models import Case, TriageRule


@admin.register(TriageRule)
class TriageRuleAdmin(admin.ModelAdmin):
    """Triage rules are data: administrators change them here without a release."""

    list_display = ["name", "priority", "is_active", "order"]
    list_editable = ["is_active", "order"]
    filter_horizontal = ["suggest_referrals"]


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    """Read-only overview; cases change only through the staff pages, which write events."""

    list_display = ["reference", "organisation", "status", "priority", "owner", "created_at"]
    list_filter = ["status", "priority", "organisation"]
