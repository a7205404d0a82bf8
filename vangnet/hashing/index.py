"""The PDQ match index: every stored hash within a Hamming distance of a query, exactly.

Pure data structure (numpy, and faiss for the small part); no Django. ``matching`` keeps one
per process in step with the database.

Why not a flat scan: comparing a query with 10 million 256-bit hashes reads 320 MB, tens of
milliseconds per hash and eight hashes (the flips and rotations) per lookup. Why not faiss's
``IndexBinaryMultiHash``: it keeps a ``std::vector`` of 8-byte ids per bucket and table, well
over a gigabyte at 10 million hashes with enough tables to be exact.

So large parts are **multi-index hashing** (Norouzi, Punjani and Fleet, "Fast search in Hamming
space with multi-index hashing", CVPR 2012), exact by the pigeonhole principle: the first
``CHUNKS * s`` bits are cut into ``CHUNKS`` = 11 chunks of ``s`` bits. If two hashes differ in at
most ``T`` bits, some chunk differs in at most ``T // 11`` bits (2 for PDQ's 31), because
otherwise the chunks alone would differ in ``11 * 3 = 33 > 31`` bits. Each chunk has a table of
the stored hashes ordered by that chunk's value; a lookup visits, in every table, every value
within ``T // 11`` bits of the query's chunk (``1 + s + s(s-1)/2`` values at ``T`` = 31) and
checks the full distance of every hash it finds there. A hash within ``T`` is therefore always
found (no false negatives) and every answer is checked (no false positives); ``T`` is chosen
per lookup, a larger one only visits more values. The tables are compact: one ``uint32`` row
number per hash and table, the rows themselves ordered by the first chunk (whose table so needs
no row numbers), and bucket offsets as a coarse ``int64`` every 64 buckets plus a small
per-bucket remainder (``uint8`` when it fits). ``s`` grows with the number of hashes, up to 23.
About 86 bytes a hash at 10 million; ``bench/hash_match.py`` measures it.

Sorted tables cannot take new hashes cheaply, so the index is immutable and ``with_added``
returns a new one: new hashes go to a small flat part searched by brute force with faiss's
``IndexBinaryFlat`` (fast up to some tens of thousands); when it is full it becomes (or joins) a
second, "recent" multi-index part, which joins the main part when it reaches a quarter of it, so
every hash is re-sorted only a few times. Removing hashes means building anew (``matching`` does
that after a deletion).
"""

from __future__ import annotations

import ctypes
import itertools
import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

CHUNKS = 11
BITS = 256
MAX_CHUNK_BITS = BITS // CHUNKS  # 23
MIN_CHUNK_BITS = 8
GROUP_BITS = 6  # a coarse offset every 64 buckets
FLAT_LIMIT = 65_536  # hashes in the flat (brute-force) part before it becomes a multi-index part
MAX_DISTANCE = BITS


def words_from_hex(hashes: Sequence[str]) -> np.ndarray:
    """Hex hashes of 256 bits as an ``(n, 4)`` array of native ``uint64`` (the first bits in the first word)."""
    if not hashes:
        return np.zeros((0, 4), dtype=np.uint64)
    joined = "".join(hashes)
    if len(joined) != 64 * len(hashes):
        raise ValueError("Every hash must have 64 hex digits.")
    return np.frombuffer(bytes.fromhex(joined), dtype=">u8").reshape(-1, 4).astype(np.uint64)


def hex_from_words(words: np.ndarray) -> list[str]:
    raw = np.ascontiguousarray(words, dtype=np.uint64).astype(">u8").tobytes()
    return [raw[i:i + 32].hex() for i in range(0, len(raw), 32)]


def distances(words: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hamming distance of each row of ``words`` to the one hash ``query`` (shape ``(4,)``)."""
    counts = np.bitwise_count(words ^ query)
    total = counts[:, 0].astype(np.int16)
    for column in range(1, 4):
        total += counts[:, column]
    return total


def chunk_bits_for(n: int) -> int:
    """Bits per chunk for ``n`` hashes: about one hash per bucket, so each visited value finds about one."""
    if n <= 1:
        return MIN_CHUNK_BITS
    return int(min(MAX_CHUNK_BITS, max(MIN_CHUNK_BITS, round(math.log2(n)))))


def _chunk(words: np.ndarray, index: int, width: int) -> np.ndarray:
    """The value of chunk ``index`` (bits ``index*width`` to ``(index+1)*width``) of every row, as int64."""
    start = index * width
    word, bit = divmod(start, 64)
    column = words[:, word]
    if bit + width <= 64:
        value = (column >> np.uint64(64 - bit - width)) & np.uint64((1 << width) - 1)
    else:
        high, low = 64 - bit, width - (64 - bit)
        value = ((column & np.uint64((1 << high) - 1)) << np.uint64(low)) | (words[:, word + 1] >> np.uint64(64 - low))
    return value.astype(np.int64)


@lru_cache(maxsize=64)
def _flip_masks(width: int, radius: int) -> np.ndarray:
    """Every ``width``-bit mask with at most ``radius`` bits set (the values to visit around a chunk)."""
    masks = [0]
    for count in range(1, min(radius, width) + 1):
        masks.extend(sum(1 << bit for bit in bits) for bits in itertools.combinations(range(width), count))
    result = np.array(masks, dtype=np.int64)
    result.setflags(write=False)
    return result


class MultiIndexPart:
    """An immutable multi-index part over ``n`` hashes: rows ordered by chunk 0, one table per other chunk."""

    def __init__(self, words: np.ndarray, keys: np.ndarray) -> None:
        n = len(words)
        if n >= 2**32:
            raise ValueError("A part holds fewer than 2**32 hashes.")
        width = chunk_bits_for(n)
        buckets, group = 1 << width, 1 << min(GROUP_BITS, width)
        first = _chunk(words, 0, width)
        order = np.argsort(first, kind="stable")
        self.words = np.ascontiguousarray(np.take(words, order, axis=0))
        keys = np.take(keys, order)
        small = not len(keys) or (int(keys.min()) >= 0 and int(keys.max()) < 2**32)
        self.keys = keys.astype(np.uint32) if small else keys  # entry ids: 4 bytes where they fit
        del order
        self.n, self.width, self.group_shift = n, width, min(GROUP_BITS, width)
        groups = buckets // group
        # Bucket b of table t starts at coarse[t, b // group] + fine[t, b // group, b % group] and ends
        # at the next fine value of the same group (each group keeps its end too): one coarse and two
        # neighbouring fine reads per visited bucket.
        self.coarse = np.empty((CHUNKS, groups), dtype=np.int64)
        fines: list[np.ndarray] = []
        self.rows = np.empty((CHUNKS - 1) * n, dtype=np.uint32)
        for table in range(CHUNKS):
            values = first if table == 0 else _chunk(self.words, table, width)
            if table:
                self.rows[(table - 1) * n:table * n] = np.argsort(values, kind="stable")
            offsets = np.zeros(buckets + 1, dtype=np.int64)
            np.cumsum(np.bincount(values, minlength=buckets), out=offsets[1:])
            del values
            # Positions are into the rows (table 0) or into this table's stretch of ``self.rows``.
            if table:
                offsets += (table - 1) * n
            windows = np.lib.stride_tricks.sliding_window_view(offsets, group + 1)[::group]  # (groups, group + 1)
            self.coarse[table] = windows[:, 0]
            fine = windows - windows[:, :1]
            del offsets, windows
            largest = int(fine.max())
            fines.append(fine.astype(np.uint8 if largest < 2**8 else np.uint16 if largest < 2**16 else np.uint32))
            del fine
        del first
        dtype = max((fine.dtype for fine in fines), key=lambda d: d.itemsize)
        self.fine = np.stack([fine.astype(dtype, copy=False) for fine in fines])  # (tables, groups, group + 1)
        del fines
        _release_free_memory()

    @property
    def nbytes(self) -> int:
        return self.words.nbytes + self.keys.nbytes + self.rows.nbytes + self.coarse.nbytes + self.fine.nbytes

    def search(self, queries: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(query numbers, keys, distances)`` of every stored hash within ``max_distance`` of a query.

        A hash close to several queries comes once per query; one found in several tables, once.
        """
        count = len(queries)
        masks = _flip_masks(self.width, max_distance // CHUNKS)
        per_table = count * len(masks)
        values = np.stack([_chunk(queries, table, self.width) for table in range(CHUNKS)])  # (tables, queries)
        visit = (values[:, :, None] ^ masks[None, None, :]).ravel()  # every bucket to visit, table by table
        group_count, group_size = self.coarse.shape[1], self.fine.shape[2]
        group_at = (visit >> self.group_shift) + np.repeat(np.arange(CHUNKS, dtype=np.int64) * group_count, per_table)
        fine_at = group_at * group_size + (visit & ((1 << self.group_shift) - 1))
        fine = self.fine.reshape(-1)
        first_fine = np.take(fine, fine_at).astype(np.int64)
        lengths = np.take(fine, fine_at + 1) - first_fine
        starts = np.take(self.coarse.reshape(-1), group_at) + first_fine
        ends_cum = np.cumsum(lengths)
        total = int(ends_cum[-1])
        if not total:
            return _empty()
        # Empty buckets repeat nothing; table 0's positions are rows, the others' index ``self.rows``.
        positions = np.repeat(starts - (ends_cum - lengths), lengths) + np.arange(total, dtype=np.int64)
        query_of = np.tile(np.repeat(np.arange(count, dtype=np.int64), len(masks)), CHUNKS)
        split = int(ends_cum[per_table - 1])
        rows = np.concatenate([positions[:split], np.take(self.rows, positions[split:]).astype(np.int64)])
        query_rows = np.repeat(query_of, lengths.astype(np.int64))
        found = np.take(self.words, rows, axis=0)
        found ^= np.take(queries, query_rows, axis=0)
        counts = np.bitwise_count(found)
        dist = counts[:, 0].astype(np.int16)
        for column in range(1, 4):
            dist += counts[:, column]
        close = np.flatnonzero(dist <= max_distance)
        if not len(close):
            return _empty()
        query_close, rows_close, dist_close = query_rows[close], rows[close], dist[close]
        _pairs, first = np.unique(query_close * self.n + rows_close, return_index=True)
        return (query_close[first], np.take(self.keys, rows_close[first]).astype(np.int64),
                dist_close[first].astype(np.int64))


def _release_free_memory() -> None:
    """Hand the build's freed temporaries back to the system (glibc keeps freed arrays under 32 MB in its heap,
    which would count in the process's resident memory for as long as it runs)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _empty() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)


class FlatPart:
    """A few hashes searched by brute force with faiss's ``IndexBinaryFlat`` (exact, SIMD popcount)."""

    def __init__(self, words: np.ndarray, keys: np.ndarray) -> None:
        self.words, self.keys, self.n = words, keys, len(words)
        self._faiss = None
        if self.n:
            faiss = _faiss()
            self._faiss = faiss.IndexBinaryFlat(BITS)
            self._faiss.add(np.ascontiguousarray(words).view(np.uint8).reshape(-1, 32))

    @property
    def nbytes(self) -> int:
        return self.words.nbytes * 2 + self.keys.nbytes  # faiss keeps its own copy of the codes

    def search(self, queries: np.ndarray, max_distance: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if self._faiss is None:
            return _empty()
        # faiss's range search returns the codes at a distance strictly below the radius.
        limits, dist, rows = self._faiss.range_search(
            np.ascontiguousarray(queries).view(np.uint8).reshape(-1, 32), max_distance + 1)
        query_numbers = np.repeat(np.arange(len(queries), dtype=np.int64), np.diff(limits).astype(np.int64))
        return query_numbers, np.take(self.keys, rows), dist.astype(np.int64)


@lru_cache(maxsize=1)
def _faiss():  # type: ignore[no-untyped-def]
    import faiss

    # One thread: the flat part is small, and OpenMP's thread pool does not survive a fork
    # (gunicorn workers, the benchmark's processes).
    faiss.omp_set_num_threads(1)
    return faiss


_NO_WORDS = np.zeros((0, 4), dtype=np.uint64)
_NO_KEYS = np.zeros(0, dtype=np.int64)


class PdqIndex:
    """Hashes with a key each (the bank entry's id); exact search within any Hamming distance.

    Immutable: ``with_added`` returns a new index that shares what did not change, so a
    lookup in progress keeps a consistent view.
    """

    def __init__(self, main: MultiIndexPart | None = None, recent: MultiIndexPart | None = None,
                 flat: FlatPart | None = None) -> None:
        self.main, self.recent = main, recent
        self.flat = flat if flat is not None else FlatPart(_NO_WORDS, _NO_KEYS)

    @classmethod
    def build(cls, words: np.ndarray, keys: np.ndarray) -> PdqIndex:
        """An index over ``words`` (``(n, 4)`` uint64) with ``keys`` (``(n,)`` int64), in one part."""
        words, keys = _checked(words, keys)
        if len(words) <= FLAT_LIMIT:
            return cls(flat=FlatPart(words, keys))
        return cls(main=MultiIndexPart(words, keys))

    def __len__(self) -> int:
        return sum(part.n for part in self._parts())

    @property
    def nbytes(self) -> int:
        return sum(part.nbytes for part in self._parts())

    def _parts(self) -> list[MultiIndexPart | FlatPart]:
        return [part for part in (self.main, self.recent, self.flat) if part is not None]

    def with_added(self, words: np.ndarray, keys: np.ndarray) -> PdqIndex:
        """A new index with these hashes too; the parts that do not change are shared."""
        words, keys = _checked(words, keys)
        if not len(words):
            return self
        flat_words = np.concatenate([self.flat.words, words])
        flat_keys = np.concatenate([self.flat.keys, keys])
        if len(flat_words) <= FLAT_LIMIT:
            return PdqIndex(self.main, self.recent, FlatPart(flat_words, flat_keys))
        if self.recent is not None:
            flat_words = np.concatenate([self.recent.words, flat_words])
            flat_keys = np.concatenate([self.recent.keys, flat_keys])
        main_size = self.main.n if self.main is not None else 0
        if self.main is not None and len(flat_words) * 4 >= main_size:
            flat_words = np.concatenate([self.main.words, flat_words])
            flat_keys = np.concatenate([self.main.keys, flat_keys])
            return PdqIndex(MultiIndexPart(flat_words, flat_keys), None, None)
        if self.main is None:
            return PdqIndex(MultiIndexPart(flat_words, flat_keys), None, None)
        return PdqIndex(self.main, MultiIndexPart(flat_words, flat_keys), None)

    def search(self, queries: np.ndarray, max_distance: int) -> dict[int, int]:
        """Each key with a hash within ``max_distance`` of any query, with its smallest distance."""
        if not 0 <= max_distance <= MAX_DISTANCE:
            raise ValueError("The distance must be between 0 and 256.")
        queries = np.ascontiguousarray(queries, dtype=np.uint64).reshape(-1, 4)
        best: dict[int, int] = {}
        for part in self._parts():
            if not part.n or not len(queries):
                continue
            _numbers, keys, dist = part.search(queries, max_distance)
            for key, distance in zip(keys.tolist(), dist.tolist(), strict=True):
                if distance < best.get(key, MAX_DISTANCE + 1):
                    best[key] = distance
        return best


def _checked(words: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    words = np.ascontiguousarray(words, dtype=np.uint64).reshape(-1, 4)
    keys = np.ascontiguousarray(keys, dtype=np.int64).reshape(-1)
    if len(words) != len(keys):
        raise ValueError("One key per hash.")
    return words, keys
