"""Hash banks in the admin: banks edited through the services, entries listed and removed, CSV in and out.

Scoped like every staff read (``selectors``): a superuser sees the banks of organisations where
she holds a role, and the shared ones. Changing a bank takes the right to work cases in its
organisation; a shared bank only a superuser changes. Every change goes through ``services``
(or ``bank_csv``), which log it.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from vangnet.accounts.access import organisation_ids_where
from vangnet.accounts.choices import Permission
from vangnet.accounts.models import Organisation
from vangnet.audit.services import Actor
from vangnet.cases.models import Case
from vangnet.common.forms import UnicodeSafeForm

from . import services
from .bank_csv import BankImportError, export_lines, import_bank_csv, record_export
from .models import Bank, BankEntry
from .selectors import banks_for_user, entries_for_user, may_change_bank


class BankImportForm(UnicodeSafeForm):
    file = forms.FileField(label=_("CSV file"),
                           help_text=_("UTF-8, with a header row: hash_type, hash, label, quality (as an export)."))


@admin.register(Bank)
class BankAdmin(admin.ModelAdmin):
    """Banks and their thresholds; links to their entries, CSV import and export."""

    list_display = ["name", "slug", "organisation", "case", "is_active", "pdq_max_distance", "pdq_min_quality",
                    "version"]
    list_filter = ["is_active"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    raw_id_fields = ["case"]
    readonly_fields = ["entry_count", "version", "removals", "created_at"]
    fields = ["name", "slug", "description", "organisation", "case", "is_active", "pdq_max_distance",
              "pdq_min_quality", "entry_count", "version", "removals", "created_at"]
    actions = ["export_csv"]
    change_form_template = "admin/hashing/bank/change_form.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Bank]:
        return banks_for_user(request.user).select_related("organisation", "case")

    def has_change_permission(self, request: HttpRequest, obj: Bank | None = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or may_change_bank(request.user, obj))

    def has_delete_permission(self, request: HttpRequest, obj: Bank | None = None) -> bool:
        return super().has_delete_permission(request, obj) and (obj is None or may_change_bank(request.user, obj))

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        organisation_ids = organisation_ids_where(request.user, Permission.WORK_CASES)
        if db_field.name == "organisation":
            kwargs["queryset"] = (Organisation.objects.none() if organisation_ids is None
                                  else Organisation.objects.filter(pk__in=organisation_ids))
            kwargs["required"] = not getattr(request.user, "is_superuser", False)  # only superusers keep shared banks
        if db_field.name == "case":
            kwargs["queryset"] = Case.objects.restrict(request.user, Permission.WORK_CASES)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("hashes"))
    def entry_count(self, obj: Bank) -> int:
        return obj.entries.count() if obj.pk else 0

    def save_model(self, request: HttpRequest, obj: Bank, form: Any, change: bool) -> None:
        services.save_bank(bank=obj, actor=Actor.staff(request.user))

    def delete_model(self, request: HttpRequest, obj: Bank) -> None:
        services.delete_bank(bank=obj, actor=Actor.staff(request.user))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Bank]) -> None:
        for bank in queryset:
            if not may_change_bank(request.user, bank):
                raise PermissionDenied
            services.delete_bank(bank=bank, actor=Actor.staff(request.user))

    @admin.action(description=_("Export the selected bank as CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Bank]) -> StreamingHttpResponse | None:
        banks = list(queryset[:2])
        if len(banks) != 1:
            self.message_user(request, gettext("Select one bank to export."), messages.WARNING)
            return None
        return self._export(request, banks[0])

    def get_urls(self) -> list[URLPattern]:
        return [path("<int:bank_id>/import/", self.admin_site.admin_view(self.import_view),
                     name="hashing_bank_import"),
                path("<int:bank_id>/export/", self.admin_site.admin_view(self.export_view),
                     name="hashing_bank_export"),
                *super().get_urls()]

    def _export(self, request: HttpRequest, bank: Bank) -> StreamingHttpResponse:
        record_export(bank=bank, actor=Actor.staff(request.user), destination="download")
        lines = export_lines(bank)
        response = StreamingHttpResponse(_with_bom(lines), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{bank.slug}.csv"'
        return response

    def export_view(self, request: HttpRequest, bank_id: int) -> StreamingHttpResponse:
        """The bank's hashes as CSV (for spreadsheets: a byte-order mark, formulas neutralised)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        return self._export(request, get_object_or_404(self.get_queryset(request), pk=bank_id))

    def import_view(self, request: HttpRequest, bank_id: int) -> HttpResponse:
        """Upload a CSV of hashes: all rows are added, or none (with every error and its line)."""
        bank = get_object_or_404(self.get_queryset(request), pk=bank_id)
        if not self.has_change_permission(request, bank):
            raise PermissionDenied
        errors: list[str] = []
        form = BankImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                summary = import_bank_csv(bank=bank, stream=form.cleaned_data["file"],
                                          actor=Actor.staff(request.user))
            except BankImportError as exc:
                errors = exc.errors
            else:
                self.message_user(request, gettext("Hashes imported: %(added)s added, %(present)s already in the "
                                                   "bank.") % {"added": summary.added,
                                                               "present": summary.already_present},
                                  messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:hashing_bank_change", args=[bank.pk]))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form, "bank": bank,
                   "errors": errors, "title": gettext("Import hashes into %(bank)s") % {"bank": bank.name}}
        return TemplateResponse(request, "admin/hashing/bank/import.html", context)


def _with_bom(lines: Any) -> Any:
    yield "\ufeff"
    yield from lines


@admin.register(BankEntry)
class BankEntryAdmin(admin.ModelAdmin):
    """The hashes of the banks one may see; added by import or by the services, removed here (logged).

    The case an entry came from is shown for a bank of an organisation only: a shared bank (the
    NCII bank) keeps its case for vangnet's own use (taking the hashes out when consent is
    withdrawn), not for the other organisations that see the bank.
    """

    list_display = ["pk", "bank", "sha256", "pdq", "pdq_quality", "label", "source_case", "added_at", "added_by"]
    search_fields = ["sha256", "pdq", "label"]
    list_select_related = ["bank", "case"]
    readonly_fields = ["bank", "sha256", "pdq", "pdq_quality", "label", "source_case", "added_at", "added_by"]
    fields = ("bank", "sha256", "pdq", "pdq_quality", "label", "source_case", "added_at", "added_by")

    @admin.display(description=_("case"))
    def source_case(self, obj: BankEntry) -> str:
        if obj.bank.organisation_id is None or obj.case is None:
            return "—"
        return str(obj.case)

    def get_queryset(self, request: HttpRequest) -> QuerySet[BankEntry]:
        return entries_for_user(request.user)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        return lookup == "bank__id__exact" or super().lookup_allowed(lookup, value, request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: BankEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: BankEntry | None = None) -> bool:
        return super().has_delete_permission(request, obj) and (
            obj is None or may_change_bank(request.user, obj.bank))

    def delete_model(self, request: HttpRequest, obj: BankEntry) -> None:
        services.remove_entry(entry=obj, actor=Actor.staff(request.user))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[BankEntry]) -> None:
        for entry in queryset.select_related("bank"):
            if not may_change_bank(request.user, entry.bank):
                raise PermissionDenied
            services.remove_entry(entry=entry, actor=Actor.staff(request.user))
