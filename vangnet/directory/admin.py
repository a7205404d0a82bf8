"""The directory in the admin: referral organisations; providers, their domains and coordinators (every
change through an audited service); unknown websites waiting for a provider; CSV import and export."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from vangnet.audit.services import Actor
from vangnet.common.forms import UnicodeSafeForm

from . import services
from .models import DigitalServicesCoordinator, Provider, ProviderDomain, ReferralOrganisation, UnknownHost
from .providers_csv import MAX_BYTES, ProviderImportError, export_providers_csv, import_providers_csv


@admin.register(ReferralOrganisation)
class ReferralOrganisationAdmin(admin.ModelAdmin):
    list_display = ["name_nl", "phone", "accepts_warm_handover", "is_active"]
    list_filter = ["accepts_warm_handover", "is_active", "handles_minors"]
    filter_horizontal = ["forms"]
    search_fields = ["name_nl", "name_en"]


class ProviderDomainInline(admin.TabularInline):
    model = ProviderDomain
    extra = 1
    fields = ["domain"]


class ProviderImportForm(UnicodeSafeForm):
    file = forms.FileField(label=_("CSV file"),
                           help_text=_("UTF-8, with a header row; the columns are those of an export."))


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    """Providers with their domains inline; saving goes through ``services.save_provider`` and the domain services."""

    list_display = ["name", "slug", "contact_email", "language", "country", "is_vlop", "is_active"]
    list_filter = ["is_active", "is_vlop", "language", "coordinator"]
    search_fields = ["name", "slug", "domains__domain", "contact_email"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["upstream"]
    inlines = [ProviderDomainInline]
    actions = ["export_csv"]
    change_list_template = "admin/directory/provider/change_list.html"
    fieldsets = [
        (None, {"fields": ["name", "slug", "is_active", "country", "language", "is_vlop"]}),
        (_("Points of contact for notices"), {"fields": ["contact_email", "webform_url", "api_channel",
                                                         "api_endpoint"]}),
        (_("Escalation"), {"fields": ["upstream", "coordinator", "legal_representative"]}),
        (None, {"fields": ["notes"]}),
    ]

    def save_model(self, request: HttpRequest, obj: Provider, form: Any, change: bool) -> None:
        services.save_provider(provider=obj, actor=Actor.staff(request.user))

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        """Domains: each addition, change and removal is its own audited service call."""
        actor = Actor.staff(request.user)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            row = inline_form.instance
            if formset.can_delete and formset._should_delete_form(inline_form):
                if row.pk is not None:
                    services.remove_provider_domain(provider_domain=ProviderDomain.objects.get(pk=row.pk),
                                                    actor=actor)
                    formset.deleted_objects.append(row)
                continue
            if not inline_form.has_changed():
                continue
            if row.pk is not None:
                services.remove_provider_domain(provider_domain=ProviderDomain.objects.get(pk=row.pk), actor=actor)
            added = services.add_provider_domain(provider=form.instance, domain=inline_form.cleaned_data["domain"],
                                                 actor=actor)
            formset.new_objects.append(added)

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # retire a provider (active off) instead: its notices and log stay whole

    @admin.action(description=_("Export the selected providers as CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Provider]) -> HttpResponse:
        text = export_providers_csv(queryset.select_related("coordinator", "upstream").prefetch_related("domains")
                                    .order_by("slug"))
        response = HttpResponse(text.encode("utf-8-sig"), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="providers.csv"'
        return response

    def get_urls(self) -> list[URLPattern]:
        return [path("import/", self.admin_site.admin_view(self.import_view), name="directory_provider_import"),
                *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload a CSV of providers: all rows are imported, or none (with every error and its line)."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        errors: list[str] = []
        form = ProviderImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            if upload.size > MAX_BYTES:
                errors = [gettext("The file is larger than 5 MB.")]
            else:
                try:
                    summary = import_providers_csv(data=upload.read(), actor=Actor.staff(request.user))
                except ProviderImportError as exc:
                    errors = exc.errors
                else:
                    self.message_user(request, gettext("Providers imported: %(created)s new, %(changed)s updated.")
                                      % {"created": len(summary.created), "changed": len(summary.changed)},
                                      messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:directory_provider_changelist"))
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "errors": errors, "title": gettext("Import providers")}
        return TemplateResponse(request, "admin/directory/provider/import.html", context)


class UnknownHostForm(forms.ModelForm):
    class Meta:
        model = UnknownHost
        fields = ["provider"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["provider"]
        assert isinstance(field, forms.ModelChoiceField)
        field.required = True
        field.queryset = Provider.objects.filter(is_active=True)


@admin.register(UnknownHost)
class UnknownHostAdmin(admin.ModelAdmin):
    """Websites no provider serves yet: choose the provider, and its domain is remembered for the next URL."""

    form = UnknownHostForm
    list_display = ["domain", "seen_count", "first_seen", "last_seen", "provider", "assigned_at"]
    list_filter = [("provider", admin.EmptyFieldListFilter)]
    search_fields = ["domain"]
    readonly_fields = ["domain", "seen_count", "first_seen", "last_seen", "assigned_at"]
    fields = ["domain", "seen_count", "first_seen", "last_seen", "provider", "assigned_at"]
    autocomplete_fields = ["provider"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # rows come from lookups that failed

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: UnknownHost, form: Any, change: bool) -> None:
        if "provider" in form.changed_data:
            services.assign_unknown_host(unknown_host=obj, provider=form.cleaned_data["provider"],
                                         actor=Actor.staff(request.user))


@admin.register(DigitalServicesCoordinator)
class DigitalServicesCoordinatorAdmin(admin.ModelAdmin):
    list_display = ["name_nl", "country", "complaint_url", "complaint_email", "is_active"]
    search_fields = ["name_nl", "name_en", "country"]
    prepopulated_fields = {"slug": ["name_en"]}

    def save_model(self, request: HttpRequest, obj: DigitalServicesCoordinator, form: Any, change: bool) -> None:
        services.save_coordinator(coordinator=obj, actor=Actor.staff(request.user))

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # retire one (active off) instead
