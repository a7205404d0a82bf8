"""The first stage: TF-IDF word and character n-grams with one logistic regression per label.

Cheap (no encoder, a few hundred microseconds per short text) and good at the clear
cases: benign chatter and texts full of slurs. The pipeline lets it settle a text only
inside a band calibrated on a validation split (see `pipeline`).

The weights are plain arrays (`fast.npz`) and a vocabulary (`fast_vocab.json`), not a
pickle: inference rebuilds scikit-learn's analyzers from the stored parameters and does
the TF-IDF arithmetic itself, which `tests/test_classifier_fast.py` checks against
scikit-learn's own transform.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import sparse

from .base import MODEL_LABELS, TextClassifierStage

__all__ = ["FastStage", "VECTORIZER_PARAMS"]

# The two n-gram vectorizers, shared by training and inference.
VECTORIZER_PARAMS: dict[str, dict[str, Any]] = {
    "word": {"analyzer": "word", "ngram_range": (1, 2), "lowercase": False, "sublinear_tf": True,
             "token_pattern": r"(?u)\b\w+\b"},
    "char": {"analyzer": "char_wb", "ngram_range": (2, 5), "lowercase": False, "sublinear_tf": True},
}


def _analyzer(params: dict[str, Any]) -> Callable[[str], list[str]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    analyzer: Callable[[str], list[str]] = TfidfVectorizer(**params).build_analyzer()
    return analyzer


class FastStage(TextClassifierStage):
    """TF-IDF (word 1-2-grams + char_wb 2-5-grams) -> linear model per label."""

    name: ClassVar[str] = "tfidf-linear"

    def __init__(self, vocabularies: dict[str, dict[str, int]], idf: dict[str, npt.NDArray[np.float32]],
                 coef: npt.NDArray[np.float32], intercept: npt.NDArray[np.float32]) -> None:
        self._blocks = []
        offset = 0
        for block in ("word", "char"):
            vocab = vocabularies[block]
            self._blocks.append((_analyzer(VECTORIZER_PARAMS[block]), vocab, idf[block].astype(np.float32), offset))
            offset += len(vocab)
        self.n_features = offset
        self.coef = np.ascontiguousarray(coef.astype(np.float32).T)  # (features, labels)
        self.intercept = intercept.astype(np.float32)

    @classmethod
    def load(cls, folder: Path) -> FastStage:
        with np.load(folder / "fast.npz") as arrays:
            coef, intercept = arrays["coef"], arrays["intercept"]
            idf = {"word": arrays["idf_word"], "char": arrays["idf_char"]}
        terms: dict[str, list[str]] = json.loads((folder / "fast_vocab.json").read_text(encoding="utf-8"))
        vocabularies = {block: {term: i for i, term in enumerate(terms[block])} for block in ("word", "char")}
        return cls(vocabularies, idf, coef, intercept)

    def features(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """The TF-IDF matrix (rows l2-normalised per block, as a FeatureUnion of two vectorizers)."""
        indptr = [0]
        indices: list[int] = []
        data: list[float] = []
        for text in texts:
            for analyze, vocab, idf, offset in self._blocks:
                counts = Counter(term for term in analyze(text) if term in vocab)
                if not counts:
                    continue
                cols = np.fromiter((vocab[t] for t in counts), dtype=np.int64, count=len(counts))
                tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
                values = (1.0 + np.log(tf)) * idf[cols]
                values /= np.sqrt(np.dot(values, values))
                indices.extend((cols + offset).tolist())
                data.extend(values.tolist())
            indptr.append(len(indices))
        return sparse.csr_matrix((np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int64),
                                  np.asarray(indptr, dtype=np.int64)), shape=(len(texts), self.n_features))

    def predict_logits(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, len(MODEL_LABELS)), dtype=np.float32)
        logits = self.features(texts) @ self.coef + self.intercept
        return np.asarray(logits, dtype=np.float32)
