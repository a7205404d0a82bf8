"""Organisations, staff roles and API tokens in the admin; every change goes through an audited service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from vangnet.audit.services import Actor

from . import services
from .models import ApiToken, Membership, Organisation


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_active", "handles_reports", "receives_web_reports", "is_trusted_flagger",
                    "is_platform"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [MembershipInline]

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        services.save_organisation(organisation=obj, actor=Actor.staff(request.user))

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Memberships: each addition, role change and removal is its own audited service call."""
        if formset.model is not Membership:
            super().save_formset(request, form, formset, change)
            return
        actor = Actor.staff(request.user)
        # The admin's change message reads these lists, which formset.save() would have filled.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed() and inline_form.instance.pk is None:
                continue
            membership = inline_form.instance
            if formset.can_delete and formset._should_delete_form(inline_form):
                if membership.pk is not None:
                    services.remove_membership(membership=Membership.objects.get(pk=membership.pk), actor=actor)
                continue
            if inline_form.has_changed():
                data = inline_form.cleaned_data
                if membership.pk is not None and data["user"].pk != Membership.objects.get(pk=membership.pk).user_id:
                    services.remove_membership(membership=Membership.objects.get(pk=membership.pk), actor=actor)
                services.set_membership(user=data["user"], organisation=form.instance, role=data["role"],
                                        actor=actor)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # switch an organisation off (active) instead: its cases and log stay whole


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made with ``vangnet create_api_token``; here they can only be revoked (an audited action)."""

    list_display = ["name", "organisation", "created_at", "revoked_at"]
    readonly_fields = ["organisation", "name", "token_hash", "created_at", "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            services.revoke_api_token(token=token, actor=Actor.staff(request.user))
        self.message_user(request, _("The selected tokens no longer work."), messages.SUCCESS)
