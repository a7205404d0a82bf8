"""Benchmark: the moderation classifiers' throughput and single-text latency, against a baseline in the same run.

In-process classification (no server, so no separate load generator): the full pipeline
(`vangnet.moderation.classifier.classify`: normalisation, language, doxing rules, the fast
stage and gate, the encoder for what they did not settle) and, as the baseline, the plain
encoder + heads on every text without any first stage (`Pipeline.classify(...,
use_fast_stage=False)`, which still does language and doxing).

The texts ("short texts", a documented platform-like mix): at most 200 characters; 10%
abusive (a positive gold label), 45% everyday chatter, 45% benign rows of the labelled
sets; 30% Dutch, 70% English. All are held out from training *and* from the gate's fitting
and calibration:

- chatter: the held-out templates of ``own/chatter.json`` (split by template) and the
  benign hand-written rows of the training script's test split;
- benign / abusive rows: the training script's test split of EDOS (plus the EDOS test
  rows its subsampling left out) and Davidson, the own test-split template rows
  (templates held out whole), and the functional sentences (hard cases: negation,
  counter-speech, profanity). EDOS "not sexist" is benign only for the labels EDOS
  annotates, so the full pipeline flags many of these rows (toxicity, hate).

Drawn with a fixed seed (with replacement: the Dutch pool is small).

- throughput: texts per second over batches of 64, with 1 process and with 2 worker
  processes (one per core, each its own model, encoder on 1 thread; the web server runs 2
  workers too); the baseline gets the same treatment;
- latency: single-text `classify([text])` calls in this process after the workers have
  exited, p50/p95/p99 overall and per path (settled by the fast stage / encoder).

The last line reads ``texts_s=<n> p99_ms=<n> encoder_only_texts_s=<n>``: the 2-process
throughputs of the full pipeline and of the baseline, and the overall single-text p99.

    python bench/classify.py [--texts 4096] [--single 500]
    python bench/classify.py --quick         # CI smoke run: 256 texts, 100 single calls
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BATCH = 64
MAX_CHARS = 200
ABUSIVE_SHARE = 0.10
DUTCH_SHARE = 0.30


def _pools(seed: int) -> dict[str, list[str]]:
    """Held-out short texts by kind (see the module docstring)."""
    import csv

    from vangnet.moderation.classifier import train

    rng = random.Random(seed)  # the training script's own draws: its test split
    rows = train.load_edos(rng) + train.load_davidson(rng) + train.load_own(rng)
    kinds = ("en-chatter", "nl-chatter", "en-benign", "nl-benign", "en-abusive", "nl-abusive")
    pools: dict[str, list[str]] = {kind: [] for kind in kinds}
    for row in rows:
        if row.split == train.TEST and len(row.text) <= MAX_CHARS:
            abusive = max(row.labels) == 1
            kind = "chatter" if row.source.startswith("handwritten") and not abusive else \
                "abusive" if abusive else "benign"
            pools[f"{row.language}-{kind}"].append(row.text)
    for row in train.load_chatter(seed):
        if row.split == train.CHATTER_TEST:
            pools[f"{row.language}-chatter"].append(row.text)
    with open(train.DATA / "edos" / "edos_labelled_aggregated.csv", encoding="utf-8") as f:
        seen = set(pools["en-benign"]) | set(pools["en-abusive"])
        for record in csv.DictReader(f):  # EDOS test rows the subsampling left out are unseen too
            if record["split"] == "test" and len(record["text"]) <= MAX_CHARS and record["text"] not in seen:
                pools["en-abusive" if record["label_sexist"] == "sexist" else "en-benign"].append(record["text"])
    for record in train.load_functional():
        if len(record["text"]) <= MAX_CHARS:
            pools[f"{record['language']}-{'abusive' if record['labels'] else 'benign'}"].append(record["text"])
    return pools


def _mix(count: int, seed: int) -> tuple[list[str], list[str]]:
    """`count` texts and their kinds: 10% abusive, 45% everyday chatter, 45% benign rows of
    the labelled sets; 30% Dutch."""
    pools = _pools(seed)
    rng = random.Random(seed)
    texts, kinds = [], []
    for _ in range(count):
        draw = rng.random()
        kind = "abusive" if draw < ABUSIVE_SHARE else "chatter" if draw < (1 + ABUSIVE_SHARE) / 2 else "benign"
        kind = f"{'nl' if rng.random() < DUTCH_SHARE else 'en'}-{kind}"
        texts.append(rng.choice(pools[kind]))
        kinds.append(kind)
    return texts, kinds


def _run(texts: list[str], baseline: bool) -> list[str]:
    """Classify `texts` in batches; returns each text's stage."""
    from vangnet.moderation.classifier import classify
    from vangnet.moderation.classifier.pipeline import get_pipeline

    stages: list[str] = []
    if baseline:
        pipeline = get_pipeline()
        for i in range(0, len(texts), BATCH):
            pipeline.classify(texts[i:i + BATCH], use_fast_stage=False)
    else:
        for i in range(0, len(texts), BATCH):
            stages.extend(r.stage for r in classify(texts[i:i + BATCH]))
    return stages


def _worker(texts: list[str], baseline: bool, barrier: Any, done: Any) -> None:
    os.environ["OMP_NUM_THREADS"] = "1"  # one core each: two workers on two cores
    _run(texts[:BATCH], baseline)  # load weights and encoder
    barrier.wait()
    _run(texts, baseline)
    done.put(os.getpid())


def _throughput(texts: list[str], baseline: bool, processes: int) -> tuple[float, list[str]]:
    """(texts per second, each text's stage; empty when run in workers)."""
    if processes == 1:
        start = time.perf_counter()
        stages = _run(texts, baseline)
        return len(texts) / (time.perf_counter() - start), stages
    ctx = mp.get_context("spawn")
    barrier, done = ctx.Barrier(processes + 1), ctx.Queue()
    share = -(-len(texts) // processes)
    workers = [ctx.Process(target=_worker, args=(texts[i * share:(i + 1) * share], baseline, barrier, done))
               for i in range(processes)]
    for w in workers:
        w.start()
    barrier.wait()
    start = time.perf_counter()
    for _ in workers:
        done.get()
    elapsed = time.perf_counter() - start
    for w in workers:
        w.join()
    return len(texts) / elapsed, []


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered))) - 1))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=4096, help="texts for the full pipeline's throughput runs")
    parser.add_argument("--single", type=int, default=500, help="single-text calls for the latency figures")
    parser.add_argument("--quick", action="store_true", help="a small run for CI (256 texts, 100 single calls)")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    if args.quick:
        args.texts, args.single = 256, 100

    texts, kinds = _mix(args.texts, args.seed)
    baseline_texts = texts[: max(2 * BATCH, len(texts) // 8)]  # the baseline is slow; an eighth suffices

    # Two-process runs first, in fresh processes; then this process loads its own model.
    full_2, _ = _throughput(texts, False, 2)
    encoder_2, _ = _throughput(baseline_texts, True, 2)

    from vangnet.moderation.classifier import classify, model_version

    _run(texts[:BATCH], False)
    _run(texts[:8], True)
    full_1, stages = _throughput(texts, False, 1)
    encoder_1, _ = _throughput(baseline_texts, True, 1)
    settled = stages.count("fast") / len(texts)
    pairs = list(zip(kinds, stages, strict=True))
    by_kind = {kind: (pairs.count((kind, "fast")), kinds.count(kind)) for kind in sorted(set(kinds))}

    latencies: dict[str, list[float]] = {"fast": [], "encoder": []}
    for text in texts[len(texts) - args.single:]:
        start = time.perf_counter()
        (result,) = classify([text])
        latencies[result.stage].append((time.perf_counter() - start) * 1000)
    every = latencies["fast"] + latencies["encoder"]
    p99 = _pct(every, 0.99)

    def line(values: list[float]) -> str:
        return (f"p50 {statistics.median(values):.1f} ms, p95 {_pct(values, 0.95):.1f} ms, "
                f"p99 {_pct(values, 0.99):.1f} ms ({len(values)} calls)" if values else "no calls")

    load = os.getloadavg()[0]
    print(f"model {model_version()}; {len(texts)} short held-out texts (<= {MAX_CHARS} chars; {ABUSIVE_SHARE:.0%} "
          f"abusive, 45% everyday chatter, 45% benign rows of the labelled sets; {DUTCH_SHARE:.0%} Dutch), "
          f"batches of {BATCH}; 1-min load average {load:.2f}")
    print("settled by kind: " + ", ".join(f"{kind} {n}/{total}" for kind, (n, total) in by_kind.items()))
    print(f"full pipeline:      {full_1:8.1f} texts/s 1 process, {full_2:8.1f} texts/s 2 processes "
          f"({settled:.1%} settled by the fast stage)")
    print(f"encoder + heads:    {encoder_1:8.1f} texts/s 1 process, {encoder_2:8.1f} texts/s 2 processes "
          f"(baseline, no first stage, {len(baseline_texts)} texts)")
    print(f"single text, all:     {line(every)}")
    print(f"single text, settled: {line(latencies['fast'])}")
    print(f"single text, encoder: {line(latencies['encoder'])}")
    print("texts_s and encoder_only_texts_s: 2 worker processes; p99_ms: single-text calls, one process")
    print(f"texts_s={full_2:.0f} p99_ms={p99:.1f} encoder_only_texts_s={encoder_2:.0f}")


if __name__ == "__main__":
    main()
