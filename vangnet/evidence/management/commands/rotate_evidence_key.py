"""``vangnet rotate_evidence_key``: rewrap every evidence file's key with the first VANGNET_EVIDENCE_KEYS key."""

from django.core.management.base import BaseCommand

from vangnet.audit.services import Actor
from vangnet.evidence.services import rotate_evidence_key


class Command(BaseCommand):
    help = ("After putting a new master key first in VANGNET_EVIDENCE_KEYS: rewrap every file's key with it "
            "(files are not re-encrypted); then the old key can be removed.")

    def handle(self, *args: object, **options: object) -> None:
        count = rotate_evidence_key(actor=Actor.system("rotate_evidence_key"))
        self.stdout.write(f"Rewrapped the keys of {count} evidence file(s).")
