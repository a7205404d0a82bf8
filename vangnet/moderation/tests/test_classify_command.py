"""``vangnet classify`` (Contract): JSON lines in, one JSON line out per line, the check API's assessment."""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import pytest
from django.core.management import call_command

from vangnet.moderation import checking
from vangnet.moderation.classifier import LABELS
from vangnet.moderation.models import Item

THREAT = "I will find you and kill you tonight"


def run(monkeypatch: Any, lines: list[str]) -> tuple[list[dict[str, Any]], int]:
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    out = io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    code = 0
    try:
        call_command("classify")
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    return [json.loads(line) for line in out.getvalue().splitlines()], code


@pytest.mark.django_db
def test_one_line_out_per_line_in_with_the_contract_keys(monkeypatch) -> None:
    records, code = run(monkeypatch, [json.dumps({"id": 7, "text": THREAT}),
                                      json.dumps({"id": "b", "text": "Lekker weer vandaag, we gaan naar het strand"})])
    assert code == 0 and [r["id"] for r in records] == [7, "b"]
    for record in records:
        assert set(record) == {"id", "scores", "flagged", "language"}
        assert set(record["scores"]) == set(LABELS) and all(0 <= v <= 1 for v in record["scores"].values())
    assert "threat" in records[0]["flagged"] and records[0]["language"] == "en"
    assert records[1]["flagged"] == [] and records[1]["language"] == "nl"
    assert not Item.objects.exists()  # nothing stored


@pytest.mark.django_db
def test_the_same_scores_as_the_api_code_path(monkeypatch) -> None:
    text = "Vrouwen horen in de keuken en moeten hun mond houden"
    records, _code = run(monkeypatch, [json.dumps({"id": 1, "text": text})])
    assessment = checking.assess([checking.ItemIn(external_id="1", text=text)])[0]
    assert records[0]["scores"] == assessment.scores and records[0]["flagged"] == list(assessment.verdict.flagged)


@pytest.mark.django_db
def test_bad_lines_get_an_error_line_and_the_rest_goes_on(monkeypatch) -> None:
    records, code = run(monkeypatch, ["not json", json.dumps([1]), json.dumps({"id": 3}),
                                      json.dumps({"id": 4, "text": "hallo daar, alles goed?"})])
    assert code == 1
    assert [r.get("error", "")[:6] for r in records[:3]] == ["line 1", "line 2", "line 3"]
    assert records[3]["id"] == 4 and "scores" in records[3]
