"""``vangnet create_platform_key ORG_SLUG NAME --scopes check,notices,appeals [--rate N]``: print a new key once."""

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from vangnet.accounts.models import Organisation
from vangnet.audit.services import Actor
from vangnet.moderation.choices import KeyScope
from vangnet.moderation.keys import create_key


class Command(BaseCommand):
    help = "Create an API key for a platform's moderation API and print it once (only its hash is stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organisation", help="the platform's slug")
        parser.add_argument("name", help="what the key is for")
        parser.add_argument("--scopes", default=KeyScope.CHECK.value,
                            help=f"comma-separated, of: {', '.join(KeyScope.values)} (default: check)")
        parser.add_argument("--rate", type=int, default=600, help="requests per minute (default: 600)")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug=options["organisation"]).first()
        if organisation is None:
            raise CommandError(f"No organisation with slug {options['organisation']!r}.")
        scopes = [scope.strip() for scope in options["scopes"].split(",") if scope.strip()]
        try:
            _row, key = create_key(organisation=organisation, name=options["name"], scopes=scopes,
                                   actor=Actor.system("create_platform_key"), rate_per_minute=options["rate"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(key)
