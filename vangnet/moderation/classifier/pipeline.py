"""The two-stage pipeline: normalise, score cheaply, send only the unsettled texts to the encoder.

For each text: normalisation (once), language (given, or detected on the normalised
text), doxing by rules on the raw text, the fast stage and the gate (one sparse product on
the shared TF-IDF features). A text is *settled* by the fast stage when

- its language has a calibrated band and every label's fast probability lies below the
  band's low edge or above its high edge (English only; >= 99% agreement), or
- its language group has a calibrated gate edge, the gate's "full pipeline would flag
  this" probability is below it and every fast probability is below its threshold
  (the clear "not flagged" cases; >= 99.5% agreement on held-out texts).

Both rules were calibrated on texts the models never trained on so that settled texts get
the flagged set the full pipeline would have given (see the fast-stage model card). Every
other text goes to the encoder in batches, and its scores are the stacked combination of
both stages' log-odds, fitted per label on the validation split.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..doxing import find_personal_data
from .base import MODEL_LABELS, sigmoid
from .encoder import EncoderStage, embed
from .fast import FastStage
from .gate import GateStage
from .language import resolve_language
from .normalize import normalize

__all__ = ["WEIGHTS", "FORMAT", "Pipeline", "Scored", "get_pipeline"]

WEIGHTS = Path(__file__).resolve().parent / "weights"
# The meta.json format this code reads; bump with any change to the weight files' layout.
FORMAT = 2
WEIGHT_FILES = ("fast.npz", "fast_vocab.json", "encoder.npz", "gate.npz", "meta.json")
# The gate's language groups: a validated language, or everything else (incl. "und").
OTHER = "other"


@dataclass(frozen=True, slots=True)
class Scored:
    """One text's result before it becomes a public `Classification`."""

    scores: dict[str, float]
    language: str
    language_validated: bool
    doxing_kinds: tuple[str, ...]
    stage: str


class Pipeline:
    """Both stages, the settle bands, the stacking weights and the thresholds of one weight version."""

    def __init__(self, folder: Path = WEIGHTS) -> None:
        meta: dict[str, Any] = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or tuple(meta.get("labels", ())) != MODEL_LABELS:
            raise RuntimeError(f"classifier weights in {folder} have format {meta.get('format')}, expected {FORMAT}")
        self.meta = meta
        self.fast = FastStage.load(folder)
        self.encoder = EncoderStage.load(folder)
        self.gate = GateStage.load(folder, self.fast)
        self.gate_edges: dict[str, float] = {k: float(v) for k, v in meta["gate"].items()}
        # Fast stage and gate in one product over the shared features.
        self._coef = np.ascontiguousarray(np.hstack([self.fast.coef, self.gate.coef]))
        self._intercept = np.concatenate([self.fast.intercept, self.gate.intercept])
        self.thresholds: dict[str, float] = {k: float(v) for k, v in meta["thresholds"].items()}
        stack = np.asarray([meta["stack"][label] for label in MODEL_LABELS], dtype=np.float32)
        self.stack_fast, self.stack_encoder, self.stack_bias = stack[:, 0], stack[:, 1], stack[:, 2]
        self.bands: dict[str, tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]] = {
            language: (np.asarray([edges[label][0] for label in MODEL_LABELS], dtype=np.float32),
                       np.asarray([edges[label][1] for label in MODEL_LABELS], dtype=np.float32))
            for language, edges in meta["bands"].items()
        }
        self._threshold_arr = np.asarray([self.thresholds[label] for label in MODEL_LABELS], dtype=np.float32)
        digest = hashlib.sha256()
        for name in WEIGHT_FILES:
            digest.update(name.encode())
            digest.update((folder / name).read_bytes())
        self.version = f"{meta['name']}-{digest.hexdigest()[:12]}"

    def combine(self, fast_logits: npt.NDArray[np.float32],
                encoder_logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """The full pipeline's probabilities from both stages' log-odds."""
        return sigmoid(self.stack_fast * fast_logits + self.stack_encoder * encoder_logits + self.stack_bias)

    def settled(self, fast_proba: npt.NDArray[np.float32], languages: Sequence[str],
                gate_proba: npt.NDArray[np.float32] | None = None) -> npt.NDArray[np.bool_]:
        """Which rows the fast stage may decide alone (band rule, or the gate's "clearly not flagged")."""
        mask = np.zeros(len(languages), dtype=bool)
        below = np.all(fast_proba < self._threshold_arr, axis=1)
        for i, language in enumerate(languages):
            band = self.bands.get(language)
            if band is not None:
                low, high = band
                mask[i] = bool(np.all((fast_proba[i] < low) | (fast_proba[i] > high)))
            if gate_proba is not None and not mask[i] and below[i]:
                edge = self.gate_edges.get(language if language in self.gate_edges else OTHER)
                mask[i] = edge is not None and bool(gate_proba[i] < edge)
        return mask

    def scores(self, normalized: Sequence[str]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """(fast-stage log-odds (n, labels), gate probabilities (n,)) of normalised texts."""
        if not normalized:
            return np.zeros((0, len(MODEL_LABELS)), dtype=np.float32), np.zeros(0, dtype=np.float32)
        logits = np.asarray(self.fast.features(normalized) @ self._coef + self._intercept, dtype=np.float32)
        return logits[:, :-1], sigmoid(logits[:, -1])

    def classify(self, texts: Sequence[str], languages: Sequence[str | None] | None = None,
                 *, use_fast_stage: bool = True) -> list[Scored]:
        """Score `texts`; `use_fast_stage=False` sends every text to the encoder (the baseline)."""
        if languages is not None and len(languages) != len(texts):
            raise ValueError("languages must be as long as texts")
        given = list(languages) if languages is not None else [None] * len(texts)
        normalized = [normalize(text) for text in texts]
        resolved = [resolve_language(text, language, norm)
                    for text, language, norm in zip(texts, given, normalized, strict=True)]
        fast_logits, gate_proba = self.scores(normalized)
        fast_proba = sigmoid(fast_logits)
        if use_fast_stage:
            settled = self.settled(fast_proba, [code for code, _ in resolved], gate_proba)
        else:
            settled = np.zeros(len(texts), dtype=bool)
        proba = fast_proba.copy()
        pending = np.flatnonzero(~settled)
        if len(pending):
            encoder_logits = self.encoder.logits_from_embeddings(embed([normalized[i] for i in pending]))
            if use_fast_stage:
                proba[pending] = self.combine(fast_logits[pending], encoder_logits)
            else:
                proba[pending] = sigmoid(encoder_logits)
        rows = proba.tolist()
        results = []
        for i, text in enumerate(texts):
            findings = find_personal_data(text)
            scores = {label: round(value, 4) for label, value in zip(MODEL_LABELS, rows[i], strict=True)}
            scores["doxing"] = round(max((f.confidence for f in findings), default=0.0), 4)
            results.append(Scored(
                scores=scores, language=resolved[i][0], language_validated=resolved[i][1],
                doxing_kinds=tuple(sorted({f.kind.value for f in findings})),
                stage="fast" if settled[i] else "encoder",
            ))
        return results


_pipeline: Pipeline | None = None
_lock = threading.Lock()


def get_pipeline() -> Pipeline:
    """The process's pipeline, loaded once on first use (never at import: Django starts without it)."""
    global _pipeline
    if _pipeline is None:
        with _lock:
            if _pipeline is None:
                _pipeline = Pipeline()
    return _pipeline
