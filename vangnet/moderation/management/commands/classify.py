"""``vangnet classify``: JSON lines in, JSON lines out, through the check API's own assessment.

Reads ``{"id": ..., "text": ...}`` per line on standard input (an optional ``"language"``
hint as in the API) and writes one line per input,
``{"id": ..., "scores": {label: 0..1}, "flagged": [...], "language": ...}``, where ``flagged``
holds the labels over the default policy's review thresholds. The assessment is
``moderation.checking.assess``, the function the API's checks go through; nothing is stored.
A line that is not a JSON object with a text gets ``{"id": ..., "error": ...}`` and the rest
goes on; the exit status is 1 when any line failed.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand

from vangnet.moderation import checking

BATCH = checking.MAX_BATCH


class Command(BaseCommand):
    help = "Classify JSON lines {\"id\", \"text\"} from standard input; one JSON line out per line in."

    def handle(self, *args: Any, **options: Any) -> None:
        failed = False
        pending: list[tuple[Any, checking.ItemIn]] = []
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            parsed = self._parse(line, number)
            if isinstance(parsed, dict):
                failed = True
                self._write(parsed)
                continue
            pending.append(parsed)
            if len(pending) == BATCH:
                self._flush(pending)
                pending = []
        self._flush(pending)
        if failed:
            sys.exit(1)

    def _parse(self, line: str, number: int) -> tuple[Any, checking.ItemIn] | dict[str, Any]:
        try:
            record = json.loads(line)
        except ValueError:
            return {"id": None, "error": f"line {number}: not JSON"}
        if not isinstance(record, dict):
            return {"id": None, "error": f"line {number}: not a JSON object"}
        ident, text, language = record.get("id"), record.get("text"), record.get("language")
        if not isinstance(text, str) or not text.strip():
            return {"id": ident, "error": f"line {number}: no text"}
        if len(text) > checking.MAX_TEXT_CHARS:
            return {"id": ident, "error": f"line {number}: text longer than {checking.MAX_TEXT_CHARS} characters"}
        if language is not None and not isinstance(language, str):
            return {"id": ident, "error": f"line {number}: language must be a text"}
        return ident, checking.ItemIn(external_id=str(number), text=text, language=language or None)

    def _flush(self, pending: list[tuple[Any, checking.ItemIn]]) -> None:
        if not pending:
            return
        for (ident, _item), assessment in zip(pending, checking.assess([item for _i, item in pending]), strict=True):
            self._write({"id": ident, "scores": assessment.scores, "flagged": list(assessment.verdict.flagged),
                         "language": assessment.language})
        sys.stdout.flush()

    @staticmethod
    def _write(record: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
