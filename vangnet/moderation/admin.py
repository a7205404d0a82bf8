"""The moderation engine in the admin: platforms' keys and policies, items, decisions, statements of reasons.

Scoped like every staff read (``accounts.access``): a superuser sees only the rows of platforms where
a membership gives her the permission (``MANAGE_MODERATION`` for keys and policies, ``MODERATE`` for
items and decisions), none without one. Nothing here is edited: policies change on the staff page
(``/staff/moderation/policy/``), keys are made there or with ``vangnet create_platform_key`` and only
revoked here (an audited action), and items, decisions and statements are records of what happened.
An item's text, address and image are never shown.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from vangnet.accounts.access import RestrictedQuerySet, holds_permission_anywhere
from vangnet.accounts.choices import Permission
from vangnet.audit.services import Actor
from vangnet.common.admin import ReadOnlyAdmin

from . import keys
from .models import Decision, Item, PlatformKey, Policy, PolicyRule, StatementOfReasons


class ScopedReadOnlyAdmin(ReadOnlyAdmin):
    """A read-only list of the rows of platforms where the user holds ``permission`` (a superuser too)."""

    permission: str = Permission.MODERATE

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rows = super().get_queryset(request)
        assert isinstance(rows, RestrictedQuerySet)
        return rows.restrict(request.user, self.permission)


@admin.register(PlatformKey)
class PlatformKeyAdmin(ScopedReadOnlyAdmin):
    """Keys are made on the staff page or with ``vangnet create_platform_key``; here they are only revoked."""

    permission = Permission.MANAGE_MODERATION
    list_display = ["name", "organisation", "prefix", "scopes", "rate_per_minute", "created_at", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    fields = ["organisation", "name", "prefix", "key_hash", "scopes", "rate_per_minute", "created_at", "created_by",
              "revoked_at"]
    actions = ["revoke"]

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request) and holds_permission_anywhere(request.user,
                                                                               Permission.MANAGE_MODERATION)

    @admin.action(description=_("Revoke the selected keys"), permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[PlatformKey]) -> None:
        for key in queryset:
            keys.revoke_key(key=key, actor=Actor.staff(request.user))
        self.message_user(request, _("The selected keys no longer work."), messages.SUCCESS)


class PolicyRuleInline(admin.TabularInline):  # type: ignore[type-arg]
    model = PolicyRule
    extra = 0
    fields = ["label", "review_threshold", "action_threshold", "action", "strike_weight", "category", "terms_clause"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Policy)
class PolicyAdmin(ScopedReadOnlyAdmin):
    """A platform's policy and its rules, as stored; it is changed on the staff page, which keeps its versions."""

    permission = Permission.MANAGE_MODERATION
    list_display = ["organisation", "version", "bank_match_action", "act_on_unvalidated_languages", "changed_at"]
    inlines = [PolicyRuleInline]


@admin.register(Item)
class ItemAdmin(ScopedReadOnlyAdmin):
    """What was checked, with its scores and outcome; never its text, address or image."""

    list_display = ["external_id", "organisation", "source", "status", "recommended_action", "language",
                    "received_at"]
    list_filter = ["status", "source", "recommended_action"]
    search_fields = ["external_id"]
    exclude = ["text", "url", "image_sealed"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).defer("text", "url", "image_sealed")


@admin.register(Decision)
class DecisionAdmin(ScopedReadOnlyAdmin):
    list_display = ["__str__", "organisation", "no_action", "decided_by", "automated_decision", "decided_at"]
    list_filter = ["no_action", "automated_decision"]
    list_select_related = ["item", "item__organisation", "organisation", "decided_by"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).defer("item__text", "item__url", "item__image_sealed")


@admin.register(StatementOfReasons)
class StatementOfReasonsAdmin(ScopedReadOnlyAdmin):
    list_display = ["puid", "organisation", "created_at", "exported_at"]
    list_filter = [("exported_at", admin.EmptyFieldListFilter)]
    search_fields = ["puid"]
