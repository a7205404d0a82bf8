"""``vangnet verify_audit_chain``: exit 1 and name the events where the log was tampered with."""

from django.core.management.base import BaseCommand, CommandError

from vangnet.audit.models import Event
from vangnet.audit.selectors import verify_chain


class Command(BaseCommand):
    help = "Verify the hash chain of the event log."

    def handle(self, *args: object, **options: object) -> None:
        problems = list(verify_chain())
        for problem in problems:
            self.stderr.write(f"event #{problem.seq}: {problem.reason}")
        if problems:
            raise CommandError(f"The event log is NOT intact: {len(problems)} problem(s).")
        self.stdout.write(f"The event log is intact: {Event.objects.count()} events verified.")
