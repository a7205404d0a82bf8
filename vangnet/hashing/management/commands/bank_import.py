"""``vangnet bank_import SLUG FILE``: add the hashes of a CSV file to a bank, all or nothing ('-' reads stdin)."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from vangnet.audit.services import Actor
from vangnet.hashing.bank_csv import BankImportError, import_bank_csv
from vangnet.hashing.models import Bank


class Command(BaseCommand):
    help = "Import hashes into a hash bank from CSV (columns hash_type, hash, label, quality); '-' reads stdin."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the bank's slug")
        parser.add_argument("file", help="the CSV file, or '-'")

    def handle(self, *args: Any, **options: Any) -> None:
        bank = Bank.objects.filter(slug=options["slug"]).first()
        if bank is None:
            raise CommandError(f"No hash bank with slug {options['slug']!r}.")
        path = options["file"]
        try:
            stream = sys.stdin.buffer if path == "-" else open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        try:
            summary = import_bank_csv(bank=bank, stream=stream, actor=Actor.system("bank_import"))
        except BankImportError as exc:
            raise CommandError("Nothing was imported:\n" + "\n".join(exc.errors)) from exc
        finally:
            if stream is not sys.stdin.buffer:
                stream.close()
        self.stdout.write(f"Imported into {bank.slug}: {summary.rows} rows, {summary.added} added, "
                          f"{summary.already_present} already in the bank.")
