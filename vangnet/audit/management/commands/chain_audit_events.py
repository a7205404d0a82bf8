"""``vangnet chain_audit_events``: chain every event that waits (the scheduler does this every few seconds)."""

from django.core.management.base import BaseCommand

from vangnet.audit.services import chain_all_pending


class Command(BaseCommand):
    help = "Give every waiting event its place in the hash chain."

    def handle(self, *args: object, **options: object) -> None:
        self.stdout.write(f"Chained {chain_all_pending()} event(s).")
