"""Text normalisation before either stage: undo the disguises people use to slip past filters.

Abusive words are written in leetspeak (``h03r``, ``b1tch``), with spacing or dots
between letters (``k u t``, ``n.e.g.e.r``), with symbols for letters (``f*ck``), or with
stretched letters (``hoooeeer``). The stages see the normalised text, so ``b!tch`` and
``bitch`` give the same features. Digits that stand alone (phone numbers, years) are left
as they are: only digits inside a word that also has letters are read as letters. The
doxing rules always see the raw text, never this one.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["normalize", "ENCODER_MAX_CHARS"]

# The encoder reads one 512-token window; about 2,000 characters of Dutch or English fill
# it, so longer texts are cut there rather than paying for many windows (a 10,000-character
# text would otherwise take seconds).
ENCODER_MAX_CHARS = 2000
# Normalisation is linear, but the first stage's n-grams need not see more than this either.
MAX_CHARS = 10_000

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
                       "@": "a", "$": "s", "!": "i", "|": "i", "€": "e", "£": "l"})
# A word with at least one letter that mixes in leet characters (not a pure number); a
# symbol counts only before a word character, so "bitch!" keeps its exclamation mark.
_LEET_WORD = re.compile(
    r"(?<![\w@$!|€£])(?=[\w@$!|€£]*[^\W\d_])(?=[\w@$!|€£]*[0-9@$!|€£])(?:[@$!|€£]+(?=\w)|\w)+"
)
# Symbols standing for a letter inside a word: f*ck, k#t, n-gg-r is left alone (hyphens are real).
_MASK_IN_WORD = re.compile(r"(?<=[^\W\d_])[*#%]+(?=[^\W\d_])")
# Single letters separated by spaces, dots, dashes or underscores: "k u t", "h.o.e.r", "s-l-e-t".
_SPACED = re.compile(r"(?<![^\W\d_])(?:[^\W\d_][ ._\-]{1,2}){2,}[^\W\d_](?![^\W\d_])")
_REPEAT = re.compile(r"([^\W\d_])\1{2,}")
_SPACES = re.compile(r"\s+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"(?<!\w)@\w{2,}")


def _unleet(match: re.Match[str]) -> str:
    word = match.group(0)
    return word.translate(_LEET)


def _unspace(match: re.Match[str]) -> str:
    return re.sub(r"[ ._\-]", "", match.group(0))


def normalize(text: str) -> str:
    """`text` in a canonical form: NFKC, case-folded, leetspeak and letter spacing undone.

    URLs and @mentions become placeholders (``url``, ``usermention``) since they carry no meaning
    for the labels and would otherwise be read as leetspeak.
    """
    text = unicodedata.normalize("NFKC", text[:MAX_CHARS])
    # Drop combining marks that were used to disguise letters (zalgo text), keep accents
    # on letters that NFKC composed.
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Mn", "Cf", "Cc") or ch in "\n\t")
    text = text.casefold()
    text = _URL.sub(" url ", text)
    text = _MENTION.sub(" usermention ", text)
    text = _MASK_IN_WORD.sub("", text)
    text = _LEET_WORD.sub(_unleet, text)
    text = _SPACED.sub(_unspace, text)
    text = _REPEAT.sub(r"\1\1", text)
    return _SPACES.sub(" ", text).strip()
