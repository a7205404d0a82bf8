"""``vangnet create_api_token ORG NAME``: print a new partner token once."""

from django.core.management.base import BaseCommand, CommandError

from vangnet.accounts.models import Organisation
from vangnet.accounts.services import create_api_token
from vangnet.audit.services import Actor


class Command(BaseCommand):
    help = "Create an API token for a partner organisation and print it once."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("organisation", help="organisation slug")
        parser.add_argument("name", help="what the token is for")

    def handle(self, *args: object, **options: str) -> None:
        organisation = Organisation.objects.filter(slug=options["organisation"]).first()
        if organisation is None:
            raise CommandError(f"No organisation with slug {options['organisation']!r}.")
        _token, plain = create_api_token(organisation=organisation, name=options["name"], actor=Actor.system())
        self.stdout.write(plain)
