"""``vangnet verify_audit_chain``: exit 1 and name the events where the log was tampered with."""

from django.core.management.base import BaseCommand, CommandError

from vangnet.audit.models import Event
from vangnet.audit.selectors import verify_chain, waiting_events


class Command(BaseCommand):
    help = "Verify the hash chain of the event log (it only reads; events not yet chained are counted)."

    def handle(self, *args: object, **options: object) -> None:
        problems = list(verify_chain())
        for problem in problems:
            self.stderr.write(f"event #{problem.seq}: {problem.reason}")
        if problems:
            raise CommandError(f"The event log is NOT intact: {len(problems)} problem(s).")
        waiting = waiting_events()
        chained = Event.objects.filter(seq__isnull=False).count()
        self.stdout.write(f"The event log is intact: {chained} events verified.")
        if waiting.count:
            oldest = waiting.oldest.isoformat(timespec="seconds") if waiting.oldest else "?"
            self.stdout.write(f"{waiting.count} newer event(s) wait to be chained (oldest {oldest}); the "
                              "scheduler chains them within seconds, or run `vangnet chain_audit_events`.")
