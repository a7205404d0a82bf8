"""Evidence in the admin: metadata and signing keys only, read-only. Bytes are seen on the case page, logged."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from vangnet.accounts.access import RestrictedQuerySet
from vangnet.accounts.choices import Permission
from vangnet.common.admin import ReadOnlyAdmin

from .models import EvidenceItem, SigningKey


@admin.register(EvidenceItem)
class EvidenceItemAdmin(ReadOnlyAdmin):
    """Fingerprints and where each item came from; scoped like every staff read."""

    list_display = ["pk", "case", "kind", "media_type", "size", "source", "added_at", "purged_at"]
    list_filter = ["kind", "source", "has_location"]
    search_fields = ["sha256", "pdq"]
    exclude = ["original_name", "source_url", "storage_name"]  # personal data and storage paths stay off this page

    def get_queryset(self, request: HttpRequest) -> QuerySet[EvidenceItem]:
        items = super().get_queryset(request)
        assert isinstance(items, RestrictedQuerySet)
        return items.restrict(request.user, Permission.VIEW_CASES)


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    """The public half and its fingerprint, to publish so police can check a bundle's signature."""

    list_display = ["organisation", "fingerprint", "created_at", "is_active"]
    fields = ["organisation", "fingerprint", "public_key", "created_at", "is_active"]  # never the private key
