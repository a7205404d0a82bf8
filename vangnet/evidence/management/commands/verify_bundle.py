"""``vangnet verify_bundle FILE``: prints OK and exits 0 for an intact bundle; otherwise names every
altered, missing or extra file and exits 1 (contract: keep this behaviour)."""

from __future__ import annotations

import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from vangnet.evidence.bundle import verify_bundle


class Command(BaseCommand):
    help = "Verify an evidence bundle: signature, every file's size and SHA-256, nothing missing or extra."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("file")

    def handle(self, *args: object, **options: object) -> None:
        path = Path(str(options["file"]))
        if not path.is_file():
            self.stderr.write(f"{path}: no such file")
            sys.exit(1)
        check = verify_bundle(path.read_bytes())
        if check.ok:
            self.stdout.write("OK")
            return
        for problem in check.problems:
            self.stderr.write(problem)
        sys.exit(1)
