"""Benchmark: PDQ lookups in a bank of N random hashes with planted near-duplicates, against numpy brute force.

Builds vangnet's match index (``vangnet.hashing.index.PdqIndex``, exact multi-index hashing)
over N random 256-bit hashes, then runs lookups as ``matching.match`` does them: each lookup is
one piece of content with its 8 hashes (its PDQ and the flips and rotations), searched within
distance 31. Every lookup has a planted near-duplicate in the bank at a distance from 1 to 31
(half of them with the differing bits spread over every chunk of the index, its hardest case),
and for a third of the lookups the near-duplicate is of one of the other 7 variants (the
uploaded copy is mirrored or rotated). It measures:

- recall: the share of planted near-duplicates found at their exact distance (must be 1.0);
- lookups/s with 1 process and with ``--processes`` (default 2) processes sharing the index;
- the resident memory of the process holding the index (VmRSS after the build, with the
  generated input freed; VmHWM is the peak while building);
- the same lookups by numpy brute force (XOR and popcount over all N hashes, in blocks) in the
  same run and on the same number of processes, on fewer lookups; its results must be the index's.

The last line reads ``recall=<n> lookups_s=<n> numpy_lookups_s=<n> rss_mb=<n>`` (``lookups_s``
and ``numpy_lookups_s`` with ``--processes`` processes).

    python bench/hash_match.py [--hashes 1000000] [--lookups 4000] [--processes 2]
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vangnet.hashing.index import CHUNKS, PdqIndex, chunk_bits_for  # noqa: E402

RADIUS = 31
VARIANTS = 8
BLOCK = 1 << 18

_index: PdqIndex | None = None  # shared with the forked workers (copy on write, never written)
_words: np.ndarray | None = None
_keys: np.ndarray | None = None


def _status(field: str) -> float:
    """A ``/proc/self/status`` figure in MB (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _flip(word: np.ndarray, bits: list[int]) -> np.ndarray:
    out = word.copy()
    for bit in bits:
        out[bit // 64] ^= np.uint64(1 << (63 - bit % 64))
    return out


def _plant(rng: np.random.Generator, words: np.ndarray, lookups: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Queries ``(lookups, 8, 4)``, each with one variant near a bank row: the rows and the distances."""
    n = len(words)
    width = chunk_bits_for(n)
    targets = rng.choice(n, size=lookups, replace=False)
    distances = rng.integers(1, RADIUS + 1, size=lookups)
    queries = rng.integers(0, 2**64, size=(lookups, VARIANTS, 4), dtype=np.uint64)
    for number, (target, distance) in enumerate(zip(targets, distances, strict=True)):
        if number % 2:  # spread over the chunks: every chunk differs in distance // 11 or one more bits
            bits = [int(b) + c * width for c in range(CHUNKS)
                    for b in rng.permutation(width)[:distance // CHUNKS + (1 if c < distance % CHUNKS else 0)]]
        else:
            bits = [int(b) for b in rng.choice(256, int(distance), replace=False)]
        variant = int(rng.integers(1, VARIANTS)) if number % 3 == 0 else 0  # a mirrored or rotated upload
        queries[number, variant] = _flip(words[target], bits)
    return queries, targets.astype(np.int64), distances.astype(np.int64)


def _lookup_index(queries: np.ndarray) -> list[dict[int, int]]:
    assert _index is not None
    return [_index.search(query, RADIUS) for query in queries]


def _lookup_numpy(queries: np.ndarray) -> list[dict[int, int]]:
    """Brute force: every query hash against every bank hash, in blocks of rows."""
    assert _words is not None and _keys is not None
    results = []
    for query in queries:
        found: dict[int, int] = {}
        for start in range(0, len(_words), BLOCK):
            block = _words[start:start + BLOCK]
            for variant in query:
                counts = np.bitwise_count(block ^ variant)
                distance = counts[:, 0].astype(np.int16)
                for column in range(1, 4):
                    distance += counts[:, column]
                for row in np.flatnonzero(distance <= RADIUS):
                    key, value = int(_keys[start + row]), int(distance[row])
                    found[key] = min(value, found.get(key, value))
        results.append(found)
    return results


def _worker(kind: str, queries: np.ndarray, barrier: Any, results: Any, number: int) -> None:
    barrier.wait()
    found = (_lookup_index if kind == "index" else _lookup_numpy)(queries)
    results.put((number, time.perf_counter(), found))


def _run(kind: str, queries: np.ndarray, processes: int) -> tuple[float, list[dict[int, int]]]:
    """Lookups per second over ``processes`` forked processes, and every lookup's result in order."""
    if processes == 1:
        start = time.perf_counter()
        found = (_lookup_index if kind == "index" else _lookup_numpy)(queries)
        return len(queries) / (time.perf_counter() - start), found
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(processes + 1), context.Queue()
    shares = np.array_split(queries, processes)
    workers = [context.Process(target=_worker, args=(kind, share, barrier, results, number))
               for number, share in enumerate(shares)]
    for worker in workers:
        worker.start()
    barrier.wait()
    start = time.perf_counter()
    parts = sorted(results.get(timeout=3600) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
    elapsed = max(part[1] for part in parts) - start
    return len(queries) / elapsed, [found for part in parts for found in part[2]]


def main() -> None:
    global _index, _words, _keys
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hashes", type=int, default=1_000_000, help="hashes in the bank")
    parser.add_argument("--lookups", type=int, default=4000, help="lookups (8 hashes each) through the index")
    parser.add_argument("--numpy-lookups", type=int, default=0,
                        help="lookups by brute force (default: 2e8 / hashes, 8 to 200)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    n, lookups = args.hashes, min(args.lookups, args.hashes)
    numpy_lookups = args.numpy_lookups or int(min(200, max(8, 2e8 / n)))
    numpy_lookups = min(numpy_lookups, lookups)
    rng = np.random.default_rng(args.seed)

    words = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    queries, targets, planted = _plant(rng, words, lookups)
    keys = np.arange(n, dtype=np.int64)
    rss_before = _status("VmRSS")
    start = time.perf_counter()
    _index = PdqIndex.build(words, keys)
    build_s = time.perf_counter() - start
    del words, keys
    gc.collect()
    rss_mb, peak_mb = _status("VmRSS"), _status("VmHWM")
    part = _index.main
    # The brute force reads the index's own copy of the hashes (no second copy in memory).
    _words, _keys = (part.words, part.keys) if part is not None else (_index.flat.words, _index.flat.keys)

    single_s, _ = _run("index", queries[:max(1, lookups // 4)], 1)
    lookups_s, found = _run("index", queries, args.processes)
    hits = [found[i].get(int(targets[i])) == int(planted[i]) for i in range(lookups)]
    recall = sum(hits) / lookups
    numpy_s, brute = _run("numpy", queries[:numpy_lookups], args.processes)
    agree = all(brute[i] == found[i] for i in range(numpy_lookups))

    layout = f"multi-index, {CHUNKS} chunks of {part.width} bits" if part is not None else "flat (faiss)"
    print(f"bank: {n} random PDQ hashes; index: {layout}, built in {build_s:.1f}s, "
          f"{_index.nbytes / 2**20:.0f} MB of arrays ({_index.nbytes / max(n, 1):.0f} bytes/hash)")
    print(f"memory: rss {rss_mb:.0f} MB with the index (input freed; {rss_before:.0f} MB before the build with the "
          f"input), peak {peak_mb:.0f} MB while building")
    print(f"lookups: {lookups} x {VARIANTS} hashes within {RADIUS} bits, planted near-duplicates at 1..{RADIUS} "
          f"(a third through a mirrored/rotated variant): recall {recall:.4f}, "
          f"{sum(len(f) for f in found) / lookups:.2f} matches per lookup")
    print(f"index: 1 process {single_s:.0f} lookups/s, {args.processes} processes {lookups_s:.0f} lookups/s; "
          f"numpy brute force: {args.processes} processes {numpy_s:.2f} lookups/s on {numpy_lookups} lookups "
          f"(ratio {lookups_s / numpy_s:.0f}); same results: {agree}; cores={len(os.sched_getaffinity(0))}")
    if not agree or recall != 1.0:
        sys.exit("ERROR: the index missed a near-duplicate or disagrees with brute force")
    print(f"recall={recall:g} lookups_s={lookups_s:.1f} numpy_lookups_s={numpy_s:.2f} rss_mb={rss_mb:.0f}")


if __name__ == "__main__":
    main()
