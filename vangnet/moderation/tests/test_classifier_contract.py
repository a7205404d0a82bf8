"""The shared contract every `TextClassifierStage` passes (ThreatExchange's SignalTypeAutoTest pattern).

A new stage gets a subclass of `StageContract` with its `make_stage`; nothing else.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from vangnet.moderation.classifier.base import MODEL_LABELS, TextClassifierStage
from vangnet.moderation.classifier.encoder import EncoderStage
from vangnet.moderation.classifier.fast import FastStage
from vangnet.moderation.classifier.gate import GATE_LABELS, GateStage
from vangnet.moderation.classifier.pipeline import WEIGHTS

TEXTS = ["you are a stupid bitch", "ik hou van mijn moeder", "", "🙂" * 3, "a" * 10_000, "I will kill you tonight"]


class StageContract:
    """What every stage promises: a stable name, one row per text, finite logits, probabilities in 0..1."""

    expected_labels: tuple[str, ...] = MODEL_LABELS
    abuse_label = "misogyny"

    @classmethod
    def make_stage(cls) -> TextClassifierStage:
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def stage(cls) -> TextClassifierStage:
        return cls.make_stage()

    def test_name_is_a_stable_slug(self, stage: TextClassifierStage) -> None:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]+", stage.name)
        assert type(stage).name == stage.name

    def test_labels(self, stage: TextClassifierStage) -> None:
        assert stage.labels == self.expected_labels

    def test_shape_and_range(self, stage: TextClassifierStage) -> None:
        logits = stage.predict_logits(TEXTS)
        assert logits.shape == (len(TEXTS), len(self.expected_labels))
        assert np.isfinite(logits).all()
        proba = stage.predict_proba(TEXTS)
        assert ((proba >= 0) & (proba <= 1)).all()

    def test_empty_batch(self, stage: TextClassifierStage) -> None:
        assert stage.predict_logits([]).shape == (0, len(self.expected_labels))

    def test_rows_are_independent_of_the_batch(self, stage: TextClassifierStage) -> None:
        together = stage.predict_logits(TEXTS[:2])
        alone = np.vstack([stage.predict_logits([t]) for t in TEXTS[:2]])
        np.testing.assert_allclose(together, alone, atol=1e-4)

    def test_deterministic(self, stage: TextClassifierStage) -> None:
        np.testing.assert_array_equal(stage.predict_logits(TEXTS), stage.predict_logits(TEXTS))

    def test_abuse_scores_above_benign(self, stage: TextClassifierStage) -> None:
        proba = stage.predict_proba(["you are a worthless stupid bitch", "what a lovely day in the park"])
        toxic = self.expected_labels.index(self.abuse_label)
        assert proba[0, toxic] > proba[1, toxic]


class TestFastStage(StageContract):
    @classmethod
    def make_stage(cls) -> TextClassifierStage:
        return FastStage.load(WEIGHTS)


class TestEncoderStage(StageContract):
    @classmethod
    def make_stage(cls) -> TextClassifierStage:
        return EncoderStage.load(WEIGHTS)


class TestGateStage(StageContract):
    expected_labels = GATE_LABELS
    abuse_label = "flagged"

    @classmethod
    def make_stage(cls) -> TextClassifierStage:
        return GateStage.load(WEIGHTS)
