"""Text classifiers of the moderation engine (issue 8): misogyny, hate, threat, sexual harassment, doxing, toxicity.

Offline, on CPU, inside the package. Two stages (`fast.FastStage`, `encoder.EncoderStage`,
both `base.TextClassifierStage`) combined by `pipeline.Pipeline`; `doxing` comes from the
rule detector `vangnet.moderation.doxing`. Nothing loads at import: the weights and the
encoder load on the first `classify` call, once per process.

Rebuild the weights with ``python -m vangnet.moderation.classifier.train``; the model
cards in ``docs/model-cards/`` give the data, metrics and limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .language import VALIDATED_LANGUAGES
from .language import detect_language as _detect_language

__all__ = ["LABELS", "VALIDATED_LANGUAGES", "Classification", "classify", "default_thresholds",
           "detect_language", "model_version"]

LABELS: tuple[str, ...] = ("misogyny", "hate", "threat", "sexual_harassment", "doxing", "toxicity")


@dataclass(frozen=True)
class Classification:
    """Scores of one text. `stage` says which stage decided: "fast" or "encoder"."""

    scores: dict[str, float]
    language: str
    language_validated: bool
    doxing_kinds: tuple[str, ...]
    stage: str


def classify(texts: Sequence[str], languages: Sequence[str | None] | None = None) -> list[Classification]:
    """Classify `texts` (each up to 10,000 characters); `languages` overrides detection per text."""
    from .pipeline import get_pipeline

    if isinstance(texts, str):
        raise TypeError("classify takes a sequence of texts, not one string")
    results = get_pipeline().classify(list(texts), languages)
    return [Classification(scores={label: r.scores[label] for label in LABELS}, language=r.language,
                           language_validated=r.language_validated, doxing_kinds=r.doxing_kinds, stage=r.stage)
            for r in results]


def default_thresholds() -> dict[str, float]:
    """Per label, the review threshold calibrated on the validation split and shipped with the weights."""
    from .pipeline import get_pipeline

    thresholds = dict(get_pipeline().thresholds)
    return {label: thresholds[label] for label in LABELS}


def model_version() -> str:
    """A short hash of the weight files, to record with each check."""
    from .pipeline import get_pipeline

    return get_pipeline().version


def detect_language(text: str) -> tuple[str, bool]:
    """(ISO 639-1 code or "und", validated)."""
    return _detect_language(text)
