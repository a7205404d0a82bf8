"""Providers for tests, on reserved example domains only."""

from __future__ import annotations

from typing import Any

from vangnet.audit.services import Actor
from vangnet.directory import services
from vangnet.directory.models import Provider

SYSTEM = Actor.system("tests")


def make_provider(slug: str, *domains: str, **fields: Any) -> Provider:
    fields.setdefault("name", slug.replace("-", " ").title())
    if not {"contact_email", "webform_url", "api_channel", "upstream"} & set(fields):
        fields["contact_email"] = f"dsa@{slug}.example.org"
    provider = services.save_provider(provider=Provider(slug=slug, **fields), actor=SYSTEM)
    for domain in domains:
        services.add_provider_domain(provider=provider, domain=domain, actor=SYSTEM)
    return provider
