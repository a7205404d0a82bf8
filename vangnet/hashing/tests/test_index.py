"""The PDQ index is exact: it finds every stored hash within the distance (checked against brute force in
numpy and faiss), including the worst cases for its pigeonhole argument, and nothing beyond it."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from vangnet.hashing import index as ix
from vangnet.hashing.index import CHUNKS, FLAT_LIMIT, FlatPart, MultiIndexPart, PdqIndex


def random_words(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)


def flip_bits(word: np.ndarray, bits: list[int]) -> np.ndarray:
    out = word.copy()
    for bit in bits:
        out[bit // 64] ^= np.uint64(1 << (63 - bit % 64))
    return out


def spread_bits(rng: np.random.Generator, count: int, width: int) -> list[int]:
    """``count`` bits spread as evenly as possible over the 11 chunks (the pigeonhole's worst case), the rest
    past the chunks: every chunk then differs in ``count // 11`` or one more bits."""
    chunks = [rng.permutation(width)[:count // CHUNKS + (1 if c < count % CHUNKS else 0)] + c * width
              for c in range(CHUNKS)]
    bits = [int(b) for chunk in chunks for b in chunk]
    return bits


def brute_force(words: np.ndarray, keys: np.ndarray, queries: np.ndarray, radius: int) -> set[tuple[int, int, int]]:
    found = set()
    for number, query in enumerate(queries):
        distances = np.bitwise_count(words ^ query).sum(axis=1)
        for row in np.flatnonzero(distances <= radius):
            found.add((number, int(keys[row]), int(distances[row])))
    return found


def searched(part: MultiIndexPart | FlatPart, queries: np.ndarray, radius: int) -> set[tuple[int, int, int]]:
    numbers, keys, distances = part.search(queries, radius)
    return set(zip(numbers.tolist(), keys.tolist(), distances.tolist(), strict=True))


@pytest.mark.parametrize("n", [1, 7, 500, 20_000, 150_000])
def test_the_multi_index_finds_exactly_what_brute_force_finds(n: int) -> None:
    rng = np.random.default_rng(n)
    words, keys = random_words(rng, n), rng.permutation(n).astype(np.int64) * 3 + 1
    part, flat = MultiIndexPart(words, keys), FlatPart(words, keys)
    width = part.width
    for radius in (0, 1, 10, 21, 31, 32, 40):
        targets = rng.integers(0, n, size=6)
        queries = np.stack([
            *(flip_bits(words[t], [int(b) for b in rng.choice(256, d, replace=False)])
              for t, d in zip(targets[:3], (0, radius, max(radius - 1, 0)), strict=True)),
            flip_bits(words[targets[3]], spread_bits(rng, radius, width)),  # every chunk differs: worst case
            flip_bits(words[targets[4]], spread_bits(rng, radius + 1, width)),  # just out of reach
            random_words(rng, 1)[0],
        ])
        expected = brute_force(words, keys, queries, radius)
        assert searched(part, queries, radius) == expected, (n, radius)
        assert searched(flat, queries, radius) == expected, (n, radius)
        assert (0, int(keys[targets[0]]), 0) in expected and (3, int(keys[targets[3]]), radius) in expected
        assert not any(number == 4 and key == int(keys[targets[4]]) for number, key, _ in expected)


def test_every_distance_up_to_31_is_found_even_when_every_chunk_differs() -> None:
    rng = np.random.default_rng(31)
    words = random_words(rng, 100_000)
    keys = np.arange(len(words), dtype=np.int64)
    index = PdqIndex.build(words, keys)
    assert index.main is not None and index.main.width == ix.chunk_bits_for(len(words))
    for distance in range(32):
        for spread in (True, False):
            target = int(rng.integers(len(words)))
            bits = (spread_bits(rng, distance, index.main.width) if spread
                    else [int(b) for b in rng.choice(256, distance, replace=False)])
            query = flip_bits(words[target], bits)
            assert index.search(query[None, :], 31).get(target) == distance, (distance, spread)


def test_the_flat_part_agrees_with_faiss_itself_and_its_radius_is_inclusive() -> None:
    rng = np.random.default_rng(3)
    words = random_words(rng, 300)
    query = flip_bits(words[5], list(range(0, 248, 8)))  # 31 bits away
    flat = FlatPart(words, np.arange(300, dtype=np.int64))
    assert (0, 5, 31) in searched(flat, query[None, :], 31)
    assert (0, 5, 31) not in searched(flat, query[None, :], 30)
    reference = faiss.IndexBinaryFlat(256)
    reference.add(words.view(np.uint8).reshape(-1, 32))
    distances, rows = reference.search(query.view(np.uint8).reshape(1, 32), 1)
    assert int(rows[0, 0]) == 5 and int(distances[0, 0]) == 31


def test_many_equal_hashes_overflow_nothing() -> None:
    """Near-identical pictures (a blank page) put thousands of hashes in one bucket: the offsets widen."""
    rng = np.random.default_rng(9)
    same = np.repeat(random_words(rng, 1), 70_000, axis=0)
    words = np.concatenate([same, random_words(rng, 1_000)])
    part = MultiIndexPart(words, np.arange(len(words), dtype=np.int64))
    assert part.fine.dtype == np.uint32
    _numbers, keys, _distances = part.search(same[:1], 0)
    assert sorted(keys.tolist()) == list(range(70_000))


def test_added_hashes_are_found_as_if_built_at_once() -> None:
    rng = np.random.default_rng(11)
    words = random_words(rng, 3 * FLAT_LIMIT)
    keys = np.arange(len(words), dtype=np.int64)
    built = PdqIndex.build(words[:10], keys[:10])
    steps = [(10, 50_000), (50_000, 80_000), (80_000, 85_000), (85_000, 160_000), (160_000, len(words))]
    shapes = []
    for start, end in steps:
        built = built.with_added(words[start:end], keys[start:end])
        shapes.append((built.main is not None, built.recent is not None, built.flat.n))
    assert len(built) == len(words)
    assert (True, True, 0) in shapes or (True, False, 0) in shapes, shapes  # parts were merged on the way
    targets = rng.integers(0, len(words), size=40)
    queries = np.stack([flip_bits(words[t], [int(b) for b in rng.choice(256, 25, replace=False)]) for t in targets])
    found = built.search(queries, 31)
    assert all(found.get(int(t)) == 25 for t in targets)
    assert found == PdqIndex.build(words, keys).search(queries, 31)


def test_hex_round_trip_and_bad_input() -> None:
    hexes = ["00" * 32, "ff" * 32, "0123456789abcdef" * 4]
    words = ix.words_from_hex(hexes)
    assert words.shape == (3, 4) and int(words[2, 0]) == 0x0123456789ABCDEF
    assert ix.hex_from_words(words) == hexes
    with pytest.raises(ValueError):
        ix.words_from_hex(["abc"])
    with pytest.raises(ValueError):
        PdqIndex().search(words, 257)
    assert PdqIndex().search(words, 31) == {}
