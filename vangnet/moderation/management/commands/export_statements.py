"""``vangnet export_statements ORG_SLUG [--out FILE]``: a platform's new statements of reasons as JSON batches.

One line per batch, ``{"statements": [...]}`` with at most 100 statements: each line is the
body of one request to the DSA Transparency Database's API. Statements are marked exported
only when every line was written.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from vangnet.accounts.models import Organisation
from vangnet.moderation.sor import MAX_BATCH, export_batches


class Command(BaseCommand):
    help = "Export a platform's statements of reasons not yet exported, as JSON batches (one per line)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("organisation", help="the platform's slug")
        parser.add_argument("--out", help="write to this file instead of standard output")
        parser.add_argument("--batch-size", type=int, default=MAX_BATCH, help="statements per batch (at most 100)")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug=options["organisation"], is_platform=True).first()
        if organisation is None:
            raise CommandError(f"No platform with slug {options['organisation']!r}.")
        if not 1 <= options["batch_size"] <= MAX_BATCH:
            raise CommandError(f"--batch-size must be between 1 and {MAX_BATCH}.")
        with transaction.atomic():  # a failed write leaves the statements unexported
            batches = export_batches(organisation=organisation, user=None, batch_size=options["batch_size"])
            lines = "".join(json.dumps({"statements": batch}, ensure_ascii=False, separators=(",", ":")) + "\n"
                            for batch in batches)
            if options["out"]:
                with open(options["out"], "w", encoding="utf-8") as out:
                    out.write(lines)
            else:
                self.stdout.write(lines, ending="")
        count = sum(len(batch) for batch in batches)
        self.stderr.write(f"{count} statements in {len(batches)} batches.")
