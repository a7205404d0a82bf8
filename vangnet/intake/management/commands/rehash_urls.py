"""``vangnet rehash_urls``: re-key the stored URL hashes with the current VANGNET_URL_HASH_KEYS key."""

from django.core.management.base import BaseCommand

from vangnet.intake.services import rehash_urls


class Command(BaseCommand):
    help = ("Recompute every reported URL's keyed hash with the first key of VANGNET_URL_HASH_KEYS "
            "(run after rotating the key; then the old key can be removed).")

    def handle(self, *args: object, **options: object) -> None:
        count = rehash_urls()
        self.stdout.write(f"Re-keyed {count} URL hash(es).")
