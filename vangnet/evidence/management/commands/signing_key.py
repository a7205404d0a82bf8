"""``vangnet signing_key ORGANISATION``: the public key and fingerprint an organisation publishes for its bundles."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vangnet.accounts.models import Organisation
from vangnet.evidence.custody import signing_key_for


class Command(BaseCommand):
    help = ("Print the organisation's bundle-signing public key (PEM) and its SHA-256 fingerprint, making the "
            "key if it has none yet. Publish both, so police and courts can check a bundle's signature.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organisation", help="the organisation's slug")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug=options["organisation"]).first()
        if organisation is None:
            raise CommandError(f"No organisation with the slug {options['organisation']!r}.")
        key = signing_key_for(organisation)
        self.stdout.write(key.public_key.rstrip("\n"))
        self.stdout.write(f"SHA-256 fingerprint (DER): {key.fingerprint}")
