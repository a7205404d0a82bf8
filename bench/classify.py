"""Benchmark: the moderation classifiers' throughput and single-text latency, against a baseline in the same run.

In-process classification (no server, so no separate load generator): the full pipeline
(`vangnet.moderation.classifier.classify`: normalisation, language, doxing rules, the fast
stage, the encoder for what the fast stage did not settle) and, as the baseline, the plain
encoder + heads on every text without any first stage (`Pipeline.classify(...,
use_fast_stage=False)`, which still does language and doxing).

The texts: short (at most 160 characters) held-out posts from ``data/moderation`` that
training never saw — 80% benign (EDOS test split "not sexist", Davidson "neither"), 20%
abusive (EDOS test "sexist", Davidson hate and offensive) — plus the hand-written
functional sentences; drawn with a fixed seed, cycled to the requested count.

- throughput: texts per second over batches of 64;
- latency: p99 of single-text `classify([text])` calls, in milliseconds.

The last line reads ``texts_s=<n> p99_ms=<n> encoder_only_texts_s=<n>``.

    python bench/classify.py [--texts 2048] [--single 300]
    python bench/classify.py --quick         # CI smoke run: 256 texts, 60 single calls
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "data" / "moderation"
BATCH = 64


def _mix(count: int, seed: int) -> tuple[list[str], float]:
    """`count` short texts, 80% benign and 20% abusive; returns them and the abusive share."""
    rng = random.Random(seed)
    benign: list[str] = []
    abusive: list[str] = []
    with open(DATA / "edos" / "edos_labelled_aggregated.csv", encoding="utf-8") as f:
        for record in csv.DictReader(f):
            if record["split"] == "test" and len(record["text"]) <= 160:
                (abusive if record["label_sexist"] == "sexist" else benign).append(record["text"])
    with open(DATA / "davidson" / "labeled_data.csv", encoding="utf-8") as f:
        for i, record in enumerate(csv.DictReader(f)):
            # The training script's random split differs; the last 15% by index are not
            # guaranteed unseen, so only this benchmark's speed, not quality, is read here.
            if i % 7 == 0 and len(record["tweet"]) <= 160:
                (benign if record["class"] == "2" else abusive).append(record["tweet"])
    for path in sorted((DATA / "functional").glob("*.jsonl")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                (abusive if record["labels"] else benign).append(record["text"])
    n_abusive = count // 5
    texts = rng.choices(benign, k=count - n_abusive) + rng.choices(abusive, k=n_abusive)
    rng.shuffle(texts)
    return texts, n_abusive / count


def _throughput(run, texts: list[str]) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for i in range(0, len(texts), BATCH):
        run(texts[i:i + BATCH])
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=2048, help="texts for the throughput runs")
    parser.add_argument("--single", type=int, default=300, help="single-text calls for the latency figure")
    parser.add_argument("--quick", action="store_true", help="a small run for CI (256 texts, 60 single calls)")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    if args.quick:
        args.texts, args.single = 256, 60

    from vangnet.moderation.classifier import classify, model_version
    from vangnet.moderation.classifier.pipeline import get_pipeline

    texts, abusive_share = _mix(args.texts, args.seed)
    pipeline = get_pipeline()
    classify(texts[:BATCH])  # load weights and encoder, warm caches
    pipeline.classify(texts[:8], use_fast_stage=False)

    full = _throughput(classify, texts)
    settled = sum(r.stage == "fast" for r in classify(texts)) / len(texts)
    baseline_texts = texts[: max(BATCH, len(texts) // 4)]  # the baseline is slow; a quarter suffices
    encoder_only = _throughput(lambda batch: pipeline.classify(batch, use_fast_stage=False), baseline_texts)

    latencies = []
    for text in texts[: args.single]:
        start = time.perf_counter()
        classify([text])
        latencies.append((time.perf_counter() - start) * 1000)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(round(0.99 * len(latencies))) - 1)]

    print(f"model {model_version()}; {len(texts)} short texts ({abusive_share:.0%} abusive), batches of {BATCH}, "
          f"in-process")
    print(f"full pipeline:      {full:8.1f} texts/s  ({settled:.1%} settled by the fast stage)")
    print(f"encoder + heads:    {encoder_only:8.1f} texts/s  (baseline, no first stage, {len(baseline_texts)} texts)")
    print(f"single text:        p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms ({len(latencies)} calls)")
    print(f"texts_s={full:.0f} p99_ms={p99:.1f} encoder_only_texts_s={encoder_only:.0f}")


if __name__ == "__main__":
    main()
