"""``vangnet bank_export SLUG FILE``: write a hash bank as CSV (hashes and labels only; '-' for stdout)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vangnet.audit.services import Actor
from vangnet.hashing.bank_csv import export_bank_csv
from vangnet.hashing.models import Bank


class Command(BaseCommand):
    help = "Export a hash bank as CSV (columns hash_type, hash, label, quality); '-' writes to stdout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the bank's slug")
        parser.add_argument("file", help="where to write the CSV, or '-'")

    def handle(self, *args: Any, **options: Any) -> None:
        bank = Bank.objects.filter(slug=options["slug"]).first()
        if bank is None:
            raise CommandError(f"No hash bank with slug {options['slug']!r}.")
        actor = Actor.system("bank_export")
        path = options["file"]
        if path == "-":
            count = export_bank_csv(bank=bank, out=sys.stdout, actor=actor, destination="stdout")
        else:
            try:
                with open(path, "w", encoding="utf-8", newline="") as out:
                    count = export_bank_csv(bank=bank, out=out, actor=actor, destination="file")
            except OSError as exc:
                raise CommandError(f"Cannot write {path}: {exc.strerror}") from exc
        self.stderr.write(f"Exported {count} hashes of {bank.slug}.")
