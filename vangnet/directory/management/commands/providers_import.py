"""``vangnet providers_import FILE``: create or update providers and their domains from CSV (all or nothing)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vangnet.audit.services import Actor
from vangnet.directory.providers_csv import ProviderImportError, import_providers_csv


class Command(BaseCommand):
    help = "Import providers with their domains from a CSV file (columns: see providers_export); '-' reads stdin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        try:
            data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        try:
            summary = import_providers_csv(data=data, actor=Actor.system("providers_import"))
        except ProviderImportError as exc:
            raise CommandError("Nothing was imported:\n" + "\n".join(exc.errors)) from exc
        self.stdout.write(f"Imported providers: {len(summary.created)} created, {len(summary.changed)} updated.")
