"""Language identification with py3langid (its model ships inside the package, nothing downloads).

Only Dutch and English are validated: the training data, functional tests and thresholds
cover those two. Any other language still gets scores (the encoder is multilingual) but
is marked not validated so a moderator knows to read them with care.
"""

from __future__ import annotations

import re
import threading
from typing import Any

__all__ = ["VALIDATED_LANGUAGES", "UNDETERMINED", "detect_language", "detect_normalized", "resolve_language"]

VALIDATED_LANGUAGES = frozenset({"nl", "en"})
UNDETERMINED = "und"
# Below this many letters, or this probability, langid's guess is noise ("ok" -> Afrikaans).
_MIN_LETTERS = 8
_MIN_PROBABILITY = 0.5
_LETTER = re.compile(r"[^\W\d_]")
# Close relatives langid confuses with Dutch on short, informal text.
_DUTCH_LOOKALIKES = frozenset({"af", "fy", "li", "lb"})
_CODE = re.compile(r"^[a-z]{2,3}$")
# Detection reads the first this many characters.
DETECT_CHARS = 2000

_identifier: Any = None
_lock = threading.Lock()


def _langid() -> Any:
    global _identifier
    if _identifier is None:
        with _lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def detect_language(text: str) -> tuple[str, bool]:
    """(ISO 639-1 code or ``"und"``, validated) for `text`.

    Very short or letterless text is ``"und"``: a guess on three letters would be wrong
    more often than right.
    """
    from .normalize import normalize

    return detect_normalized(normalize(text[:DETECT_CHARS]))


def detect_normalized(sample: str) -> tuple[str, bool]:
    """`detect_language` for a text already normalised (``normalize(text[:DETECT_CHARS])``),
    so the pipeline normalises each text once."""
    if len(_LETTER.findall(sample)) < _MIN_LETTERS:
        return UNDETERMINED, False
    ranked = dict(_langid().rank(sample))
    code = max(ranked, key=ranked.__getitem__)
    probability = float(ranked[code])
    if code not in VALIDATED_LANGUAGES and (code in _DUTCH_LOOKALIKES or probability < _MIN_PROBABILITY):
        # Posts here are mostly Dutch or English: on short, informal text langid spreads its
        # mass over look-alikes (Afrikaans, Frisian) and rare languages, so a validated
        # language with a fair share of the mass wins; a clear Afrikaans text stays Afrikaans.
        best = max(VALIDATED_LANGUAGES, key=lambda c: float(ranked.get(c, 0.0)))
        share = float(ranked.get(best, 0.0))
        if share >= 0.25 * probability and share >= 0.1:
            code, probability = best, max(share, _MIN_PROBABILITY)
    if probability < _MIN_PROBABILITY:
        return UNDETERMINED, False
    return code, code in VALIDATED_LANGUAGES


def resolve_language(text: str, given: str | None, normalized: str | None = None) -> tuple[str, bool]:
    """The caller's language when given (``nl-NL`` -> ``nl``), else the detected one;
    `normalized`, when given, is ``normalize(text)`` and saves normalising again."""
    if given:
        code = given.strip().lower().replace("_", "-").split("-")[0]
        if _CODE.match(code):
            return code, code in VALIDATED_LANGUAGES
        return UNDETERMINED, False
    if normalized is not None and len(text) <= DETECT_CHARS:
        return detect_normalized(normalized)
    return detect_language(text)
