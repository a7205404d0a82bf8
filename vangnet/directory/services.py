"""Writes for providers, their domains, unknown websites and Digital Services Coordinators.

Each change writes its event (``choices.DirectoryEvent``). Event payloads hold the provider's
business data (names, addresses of its points of contact, flags); the free-text fields that
may name a person (the legal representative, notes) are logged as changed, never with their text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from vangnet.audit.services import Actor, record_event

from .choices import DirectoryEvent
from .domains import normalize_domain
from .models import DigitalServicesCoordinator, Provider, ProviderDomain, UnknownHost
from .selectors import resolve_url

# Fields whose old and new values the log keeps; TEXT_FIELDS are logged by name only.
PROVIDER_FIELDS = ("slug", "name", "contact_email", "webform_url", "api_channel", "api_endpoint", "country",
                   "is_vlop", "language", "coordinator", "upstream", "is_active")
PROVIDER_TEXT_FIELDS = ("legal_representative", "notes")
COORDINATOR_FIELDS = ("slug", "name_nl", "name_en", "country", "website", "complaint_url", "complaint_email",
                      "is_active", "sort_order")


def _value(obj: Any, field: str) -> Any:
    value = getattr(obj, field)
    return value.slug if hasattr(value, "slug") else value


@transaction.atomic
def save_provider(*, provider: Provider, actor: Actor) -> Provider:
    """Create or change a provider (the admin and the CSV import call this); logs which fields changed to what."""
    before = Provider.objects.select_for_update().filter(pk=provider.pk).first() if provider.pk else None
    provider.full_clean()
    provider.save()
    changed = [f for f in PROVIDER_FIELDS if before is None or _value(before, f) != _value(provider, f)]
    changed_text = [f for f in PROVIDER_TEXT_FIELDS
                    if before is not None and getattr(before, f) != getattr(provider, f)]
    if before is not None and not changed and not changed_text:
        return provider
    data: dict[str, Any] = {field: _value(provider, field) for field in changed}
    if changed_text:
        data["changed"] = changed_text
    record_event(actor=actor, subject=provider, data=data,
                 event_type=DirectoryEvent.PROVIDER_CREATED if before is None else DirectoryEvent.PROVIDER_CHANGED)
    return provider


@transaction.atomic
def add_provider_domain(*, provider: Provider, domain: str, actor: Actor) -> ProviderDomain:
    """Register a domain for a provider; one that another provider had moves here (both logged).

    An unknown website waiting under this exact domain counts as assigned from now on.
    Raises ``DomainError`` for a text that is not a domain a provider can have.
    """
    name = normalize_domain(domain)
    row = ProviderDomain.objects.select_for_update().filter(domain=name).first()
    if row is not None and row.provider_id == provider.pk:
        return row
    if row is not None:
        previous = row.provider
        row.provider = provider
        row.save(update_fields=["provider"])
        record_event(actor=actor, event_type=DirectoryEvent.PROVIDER_DOMAIN_REMOVED, subject=previous,
                     data={"domain": name, "moved_to": provider.slug})
    else:
        row = ProviderDomain(provider=provider, domain=name)
        row.full_clean()
        row.save()
    record_event(actor=actor, event_type=DirectoryEvent.PROVIDER_DOMAIN_ADDED, subject=provider,
                 data={"domain": name})
    UnknownHost.objects.filter(domain=name, provider__isnull=True).update(provider=provider,
                                                                         assigned_at=timezone.now())
    return row


@transaction.atomic
def remove_provider_domain(*, provider_domain: ProviderDomain, actor: Actor) -> None:
    provider = provider_domain.provider
    name = provider_domain.domain
    provider_domain.delete()
    record_event(actor=actor, event_type=DirectoryEvent.PROVIDER_DOMAIN_REMOVED, subject=provider,
                 data={"domain": name})


@transaction.atomic
def set_provider_domains(*, provider: Provider, domains: Iterable[str], actor: Actor) -> None:
    """Make a provider's domains exactly these (adding, moving and removing, each logged)."""
    wanted = {normalize_domain(d) for d in domains}
    for row in list(provider.domains.all()):
        if row.domain not in wanted:
            remove_provider_domain(provider_domain=row, actor=actor)
    for name in sorted(wanted):
        add_provider_domain(provider=provider, domain=name, actor=actor)


def record_unknown_host(*, domain: str) -> UnknownHost:
    """Count one failed lookup of ``domain`` (a registrable domain), flagging it the first time."""
    now = timezone.now()
    updated = UnknownHost.objects.filter(domain=domain).update(seen_count=F("seen_count") + 1, last_seen=now)
    if not updated:
        try:
            with transaction.atomic():
                return UnknownHost.objects.create(domain=domain, first_seen=now, last_seen=now)
        except IntegrityError:  # another process flagged it a moment ago
            UnknownHost.objects.filter(domain=domain).update(seen_count=F("seen_count") + 1, last_seen=now)
    return UnknownHost.objects.get(domain=domain)


def resolve_provider(*, url: str) -> Provider | None:
    """The provider that serves ``url``; when there is none, its registrable domain is flagged for a handler.

    IP literals and URLs without a host name return None and flag nothing: they have no domain
    to assign. Use ``selectors.provider_for_url`` where only reading is wanted.
    """
    resolution = resolve_url(url)
    if resolution.provider is None and resolution.domain is not None:
        record_unknown_host(domain=resolution.domain)
    return resolution.provider


@transaction.atomic
def assign_unknown_host(*, unknown_host: UnknownHost, provider: Provider, actor: Actor) -> ProviderDomain:
    """Name the provider of an unknown website: its domain joins the provider, so the next lookup finds it."""
    unknown_host = UnknownHost.objects.select_for_update().get(pk=unknown_host.pk)
    previous = unknown_host.provider
    row = add_provider_domain(provider=provider, domain=unknown_host.domain, actor=actor)
    unknown_host.provider = provider
    unknown_host.assigned_at = timezone.now()
    unknown_host.save(update_fields=["provider", "assigned_at"])
    data = {"domain": unknown_host.domain, "provider": provider.slug, "seen_count": unknown_host.seen_count}
    if previous is not None and previous.pk != provider.pk:
        data["previous_provider"] = previous.slug
    record_event(actor=actor, event_type=DirectoryEvent.UNKNOWN_HOST_ASSIGNED, subject=unknown_host, data=data)
    return row


@transaction.atomic
def save_coordinator(*, coordinator: DigitalServicesCoordinator, actor: Actor) -> DigitalServicesCoordinator:
    before = (DigitalServicesCoordinator.objects.select_for_update().filter(pk=coordinator.pk).first()
              if coordinator.pk else None)
    coordinator.full_clean()
    coordinator.save()
    changed = [f for f in COORDINATOR_FIELDS if before is None or getattr(before, f) != getattr(coordinator, f)]
    if before is not None and not changed and before.notes == coordinator.notes:
        return coordinator
    data: dict[str, Any] = {field: getattr(coordinator, field) for field in changed}
    if before is None or before.notes != coordinator.notes:
        data["changed"] = ["notes"]
    record_event(actor=actor, event_type=DirectoryEvent.COORDINATOR_SAVED, subject=coordinator, data=data)
    return coordinator
