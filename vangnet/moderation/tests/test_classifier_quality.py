"""Quality gate: the functional sets and the held-out sample may not fall clearly below the model card.

The reference figures are the ones the training run measured (``docs/model-cards/metrics.json``,
quoted in the model cards); the gate allows a margin for noise (`MARGIN`), so it catches a
broken pipeline or a bad retrain, not a single flipped sentence.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vangnet.moderation.classifier import train
from vangnet.moderation.classifier.normalize import normalize
from vangnet.moderation.classifier.pipeline import get_pipeline

ROOT = Path(__file__).resolve().parents[3]
METRICS = json.loads((ROOT / "docs" / "model-cards" / "metrics.json").read_text())
MARGIN = 0.1


@pytest.fixture(scope="module")
def functional() -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    return train.functional_scores(get_pipeline())


def test_functional_sets_are_not_training_data() -> None:
    functional = {normalize(r["text"]) for r in train.load_functional()}
    with open(train.DATA / "own" / "handwritten.jsonl", encoding="utf-8") as f:
        handwritten = {normalize(json.loads(line)["text"]) for line in f}
    assert not functional & handwritten


def test_functional_sets_cover_both_languages_and_every_function() -> None:
    records = train.load_functional()
    assert len(records) >= 200
    functions = {r["function"] for r in records}
    assert {"negated_hate", "counter_speech", "neutral_identity", "profanity_nonhateful", "threat", "non_threat",
            "slur_spelling", "polite_hate"} <= functions
    for function in functions:
        assert {r["language"] for r in records if r["function"] == function} == {"en", "nl"}


def test_functional_macro_f1_per_function_and_language(
        functional: tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]) -> None:
    macro, _ = functional
    reference = METRICS["functional_macro_f1"]
    low = {(f, lang): (macro[f][lang], reference[f][lang]) for f in reference for lang in reference[f]
           if macro[f][lang] < reference[f][lang] - MARGIN}
    assert not low, low


def test_heldout_sample_macro_f1() -> None:
    measured = train.heldout_macro_f1(get_pipeline())
    for language, reference in METRICS["heldout_sample"].items():
        assert measured[language] >= reference - MARGIN, (language, measured[language], reference)
