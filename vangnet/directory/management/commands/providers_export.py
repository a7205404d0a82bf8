"""``vangnet providers_export FILE``: every provider with its domains as CSV ('-' writes to stdout)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vangnet.directory.providers_csv import export_providers_csv, exportable_providers


class Command(BaseCommand):
    help = "Export every provider with its domains as CSV (UTF-8 with BOM, for spreadsheets); '-' for stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")

    def handle(self, *args: Any, **options: Any) -> None:
        providers = list(exportable_providers())
        text = export_providers_csv(providers)
        if options["file"] == "-":
            self.stdout.write(text, ending="")
            return
        try:
            Path(options["file"]).write_text(text, encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise CommandError(f"Cannot write {options['file']}: {exc.strerror}") from exc
        self.stdout.write(f"Exported {len(providers)} providers to {options['file']}.")
