from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from vangnet.accounts.access import RestrictedQuerySet
from vangnet.accounts.choices import Permission
from vangnet.audit.services import Actor
from vangnet.common.admin import ReadOnlyAdmin

from . import services
from .models import Case, TriageRule


@admin.register(TriageRule)
class TriageRuleAdmin(admin.ModelAdmin):
    """Triage rules are data: administrators change them here without a release."""

    list_display = ["name", "priority", "is_active", "order"]
    list_editable = ["is_active", "order"]
    filter_horizontal = ["suggest_referrals"]

    def save_model(self, request: HttpRequest, obj: TriageRule, form: Any, change: bool) -> None:
        services.save_triage_rule(rule=obj, actor=Actor.staff(request.user))

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # switch a rule off instead: case pages still explain why it fired


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    """Read-only overview; cases change only through the staff pages, which write events.

    Scoped like every staff read (``accounts.access``): a superuser sees here only the cases
    of organisations where she holds a role that may view cases, none without a membership.
    """

    list_display = ["reference", "organisation", "status", "priority", "owner", "created_at", "legal_hold"]
    list_filter = ["status", "priority", "organisation", ("legal_hold_set_at", admin.EmptyFieldListFilter)]

    @admin.display(boolean=True, description=_("legal hold"))
    def legal_hold(self, obj: Case) -> bool:
        return obj.on_legal_hold

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        cases = super().get_queryset(request)
        assert isinstance(cases, RestrictedQuerySet)
        return cases.restrict(request.user, Permission.VIEW_CASES)
