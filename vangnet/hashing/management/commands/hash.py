"""``vangnet hash FILE...``: one JSON line per file with its SHA-256 and PDQ (contract: keep the keys)."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from vangnet.hashing.hashers import HASHERS


class Command(BaseCommand):
    help = 'Print {"file", "sha256", "pdq", "quality"} as one JSON line per file (pdq and quality null if no image).'

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("files", nargs="+")

    def handle(self, *args: object, **options: object) -> None:
        missing = [name for name in options["files"] if not Path(str(name)).is_file()]  # type: ignore[attr-defined]
        if missing:
            raise CommandError(f"Not a readable file: {', '.join(missing)}")
        for name in options["files"]:  # type: ignore[attr-defined]
            data = Path(name).read_bytes()
            pdq = HASHERS["pdq"].hash_bytes(data)
            self.stdout.write(json.dumps({
                "file": name, "sha256": HASHERS["sha256"].hash_bytes(data).value,  # type: ignore[union-attr]
                "pdq": pdq.value if pdq else None, "quality": pdq.quality if pdq else None}))
