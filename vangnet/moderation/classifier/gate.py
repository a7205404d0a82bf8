"""The gate: a distilled predictor of the full pipeline's decision, on the fast stage's features.

One logistic regression on the same TF-IDF features as `fast.FastStage`, trained to
predict whether the *full* pipeline (both stages, stacked) flags a text on any model
label at its default threshold. Its targets need no gold labels, so it learns from a
large pool of texts with cached encoder outputs (see ``train.gate_pool``).

The pipeline lets the gate settle a text as "not flagged" without the encoder when its
probability is below a per-language edge and every fast-stage score is below its
threshold; the edges (``meta.json`` -> ``gate``) were calibrated on held-out texts so
that >= 99.5% of the texts it settles get the same (empty) flagged set as the full
pipeline (see the fast-stage model card). The gate adds one column to the fast stage's
matrix product, so it costs nothing measurable.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from .base import TextClassifierStage
from .fast import FastStage

__all__ = ["GateStage", "GATE_LABELS"]

GATE_LABELS: tuple[str, ...] = ("flagged",)


class GateStage(TextClassifierStage):
    """TF-IDF features of a `FastStage` -> one logit: "the full pipeline flags this text"."""

    name: ClassVar[str] = "tfidf-gate"
    labels: ClassVar[tuple[str, ...]] = GATE_LABELS

    def __init__(self, fast: FastStage, coef: npt.NDArray[np.float32], intercept: float) -> None:
        self.fast = fast
        self.coef = np.ascontiguousarray(np.asarray(coef, dtype=np.float32).reshape(-1, 1))  # (features, 1)
        if self.coef.shape[0] != fast.n_features:
            raise ValueError(f"gate has {self.coef.shape[0]} weights, the fast stage {fast.n_features} features")
        self.intercept = np.asarray([intercept], dtype=np.float32)

    @classmethod
    def load(cls, folder: Path, fast: FastStage | None = None) -> GateStage:
        fast = fast if fast is not None else FastStage.load(folder)
        with np.load(folder / "gate.npz") as arrays:
            return cls(fast, arrays["coef"], float(arrays["intercept"][0]))

    def predict_logits(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.asarray(self.fast.features(texts) @ self.coef + self.intercept, dtype=np.float32)
