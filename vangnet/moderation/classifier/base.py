"""The pluggable part: one abstract base class for a text classifier stage (ThreatExchange's pattern).

A stage turns normalised texts into per-label probabilities. Each stage has a stable
`name` that is recorded with results and never changes meaning; a stage whose behaviour
changes gets a new weight version (see `model_version`), not a new name. Every stage
passes the shared contract test in ``tests/test_classifier_contract.py``.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import ClassVar

import numpy as np
import numpy.typing as npt

__all__ = ["MODEL_LABELS", "TextClassifierStage", "sigmoid"]

# The labels that models score; `doxing` comes from the rule detector, not a model.
MODEL_LABELS: tuple[str, ...] = ("misogyny", "hate", "threat", "sexual_harassment", "toxicity")


class TextClassifierStage(abc.ABC):
    """A stage that scores normalised texts on `labels`.

    `predict_logits` is the one method to implement; the logits feed the pipeline's
    combination step, the probabilities are what a stage says on its own.
    """

    name: ClassVar[str]
    labels: ClassVar[tuple[str, ...]] = MODEL_LABELS

    @abc.abstractmethod
    def predict_logits(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """(len(texts), len(labels)) log-odds, one row per text, in `labels` order."""

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """(len(texts), len(labels)) probabilities in 0..1."""
        return sigmoid(self.predict_logits(texts))


def sigmoid(x: npt.NDArray[np.floating]) -> npt.NDArray[np.float32]:
    """A numerically safe logistic function."""
    return (1.0 / (1.0 + np.exp(-np.clip(x, -40.0, 40.0)))).astype(np.float32)
