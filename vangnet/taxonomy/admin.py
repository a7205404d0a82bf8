from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from vangnet.audit.services import Actor

from . import services
from .models import FormOfViolence, LegalGround


@admin.register(FormOfViolence)
class FormOfViolenceAdmin(admin.ModelAdmin):
    list_display = ["name_nl", "name_en", "slug", "is_active", "sort_order"]
    list_editable = ["is_active", "sort_order"]
    prepopulated_fields = {"slug": ["name_en"]}
    search_fields = ["name_nl", "name_en", "slug"]


@admin.register(LegalGround)
class LegalGroundAdmin(admin.ModelAdmin):
    """Legal grounds with their source; every change (provision, mapping) is an audited service call."""

    list_display = ["name_nl", "provision", "law", "sor_category", "checked", "verified_on", "is_active"]
    list_filter = ["is_active", "sor_category", "law"]
    search_fields = ["name_nl", "name_en", "slug", "provision", "law"]
    prepopulated_fields = {"slug": ["name_en"]}
    filter_horizontal = ["forms"]
    fieldsets = [
        (None, {"fields": ["name_nl", "name_en", "slug", "is_active", "sort_order"]}),
        (_("Provision"), {"fields": ["provision", "law", "in_force_from", "sor_category"]}),
        (_("Explanation used in notices"), {"fields": ["explanation_nl", "explanation_en"]}),
        (_("Source"), {"fields": ["source_url", "source_note", "verified_on"]}),
        (_("Forms of violence"), {"fields": ["forms"]}),
    ]

    @admin.display(boolean=True, description=_("checked"))
    def checked(self, obj: LegalGround) -> bool:
        return not obj.needs_checking

    def save_model(self, request: HttpRequest, obj: LegalGround, form: Any, change: bool) -> None:
        services.save_legal_ground(legal_ground=obj, actor=Actor.staff(request.user))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        services.set_legal_ground_forms(legal_ground=form.instance, forms=form.cleaned_data["forms"],
                                        actor=Actor.staff(request.user))
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
