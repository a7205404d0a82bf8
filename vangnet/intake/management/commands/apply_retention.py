"""``vangnet apply_retention``: erase personal data of cases closed longer than the retention period."""

from django.core.management.base import BaseCommand

from vangnet.audit.services import Actor
from vangnet.evidence.services import purge_expired_evidence
from vangnet.intake.idempotency import prune_expired_keys
from vangnet.intake.services import apply_retention


class Command(BaseCommand):
    help = ("Erase personal data of cases closed more than VANGNET_RETENTION_DAYS ago, purge evidence files "
            "whose VANGNET_EVIDENCE_RETENTION_DAYS ended (cases on legal hold keep everything), and partner API "
            "answers kept for Idempotency-Key retries longer than 24 hours (run daily).")

    def handle(self, *args: object, **options: object) -> None:
        actor = Actor.system("retention")
        count = apply_retention(actor=actor)
        self.stdout.write(f"Personal data erased for {count} closed case(s).")
        purged = purge_expired_evidence(actor=actor)
        self.stdout.write(f"Evidence files purged: {purged}.")
        keys = prune_expired_keys()
        self.stdout.write(f"Expired idempotency keys deleted: {keys}.")
