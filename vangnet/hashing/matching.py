"""Matching content against the hash banks: ``match()``, and the per-process index it keeps in step.

A match is an equal SHA-256, or a PDQ hash within the bank's distance (31 bits by default) of
the query's hash or of one of its eight flips and rotations, when the query's quality reaches
the bank's minimum (50 by default); an inactive bank matches nothing. SHA-256 is looked up in
the database. PDQ is searched in a ``PdqIndex`` (``index``: exact, no hash within the distance
is ever missed) that each process keeps in memory, and every hit is checked again against its
database row, so a stale index can never report a match that is not there.

Keeping step with other processes: each lookup reads every bank's ``(version, removals,
created_at)`` in one small query. A bank whose version moved on only had entries added (its
writers take turns under its row lock, so entry ids grow in commit order): the index loads
its entries after the last id it has. A bank that lost entries, or disappeared, or a new bank
with an old id (a rolled-back test), makes the index load everything anew. The new state is
kept for the next lookup only once what it was read from is committed: at once outside a
transaction, else when the transaction commits (``on_commit``); a rollback throws it away.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Q

from .choices import HashType
from .hashers import hamming_distance
from .index import PdqIndex, words_from_hex
from .models import Bank, BankEntry
from .services import normalise_hash

LOAD_BATCH = 100_000
FETCH_BATCH = 5_000


@dataclass(frozen=True)
class BankMatch:
    """One bank entry that a query matched: ``kind`` is ``"sha256"`` (distance 0) or ``"pdq"``."""

    bank: Bank
    entry: BankEntry
    kind: str
    distance: int


@dataclass(frozen=True)
class BankState:
    """What a lookup reads of one bank (one row of the one query per lookup)."""

    id: int
    created_at: datetime
    version: int
    removals: int
    is_active: bool
    pdq_max_distance: int
    pdq_min_quality: int

    @property
    def identity(self) -> tuple[datetime, int]:
        return (self.created_at, self.removals)


@dataclass(frozen=True)
class _Snapshot:
    """An index and the bank states it holds: versions and, per bank, the last entry id loaded."""

    index: PdqIndex
    versions: dict[int, tuple[datetime, int, int]] = field(default_factory=dict)
    last_entry: dict[int, int] = field(default_factory=dict)


class MatchIndex:
    """One process's PDQ index over every bank, kept in step with the database (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._snapshot = _Snapshot(index=PdqIndex())
        self.loads = 0  # full loads, for tests and diagnostics
        self.refreshes = 0  # incremental loads

    def reset(self) -> None:
        with self._lock:
            self._snapshot = _Snapshot(index=PdqIndex())

    def current(self) -> tuple[dict[int, BankState], PdqIndex]:
        """The banks as they are now, and an index that holds every PDQ entry of theirs."""
        states = {row[0]: BankState(*row) for row in Bank.objects.order_by().values_list(
            "id", "created_at", "version", "removals", "is_active", "pdq_max_distance", "pdq_min_quality")}
        with self._lock:
            snapshot = self._snapshot
        known = snapshot.versions
        if any(bank_id not in states or (states[bank_id].created_at, states[bank_id].removals) != version[:2]
               for bank_id, version in known.items()):
            new = self._load_all(states)
            self.loads += 1
        else:
            changed = [state for state in states.values()
                       if known.get(state.id) != (state.created_at, state.removals, state.version)]
            if not changed:
                return states, snapshot.index
            new = self._load_new(snapshot, changed)
            self.refreshes += 1
        self._keep(snapshot, new)
        return states, new.index

    def _keep(self, old: _Snapshot, new: _Snapshot) -> None:
        def keep() -> None:
            with self._lock:
                if self._snapshot is old:  # else another thread kept a newer state meanwhile
                    self._snapshot = new

        if transaction.get_connection().in_atomic_block:
            transaction.on_commit(keep)
        else:
            keep()

    @staticmethod
    def _versions(states: Iterable[BankState]) -> dict[int, tuple[datetime, int, int]]:
        return {s.id: (s.created_at, s.removals, s.version) for s in states}

    def _load_all(self, states: dict[int, BankState]) -> _Snapshot:
        words, keys, last = _read(BankEntry.objects.filter(pdq__isnull=False))
        return _Snapshot(index=PdqIndex.build(words, keys), versions=self._versions(states.values()), last_entry=last)

    def _load_new(self, snapshot: _Snapshot, changed: list[BankState]) -> _Snapshot:
        after = Q()
        for state in changed:
            after |= Q(bank_id=state.id, id__gt=snapshot.last_entry.get(state.id, 0))
        words, keys, last = _read(BankEntry.objects.filter(after, pdq__isnull=False))
        return _Snapshot(index=snapshot.index.with_added(words, keys),
                         versions={**snapshot.versions, **self._versions(changed)},
                         last_entry={**snapshot.last_entry, **{s.id: max(last.get(s.id, 0),
                                                                       snapshot.last_entry.get(s.id, 0))
                                                               for s in changed}})


def _read(entries: Any) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
    """The PDQ hashes and ids of ``entries`` (read in batches), and the last id per bank."""
    word_parts, key_parts = [], []
    last: dict[int, int] = {}
    batch_ids: list[int] = []
    batch_hashes: list[str] = []
    for entry_id, bank_id, pdq in entries.order_by("id").values_list("id", "bank_id", "pdq").iterator(
            chunk_size=LOAD_BATCH):
        batch_ids.append(entry_id)
        batch_hashes.append(pdq)
        last[bank_id] = entry_id
        if len(batch_ids) >= LOAD_BATCH:
            word_parts.append(words_from_hex(batch_hashes))
            key_parts.append(np.array(batch_ids, dtype=np.int64))
            batch_ids, batch_hashes = [], []
    word_parts.append(words_from_hex(batch_hashes))
    key_parts.append(np.array(batch_ids, dtype=np.int64))
    return np.concatenate(word_parts), np.concatenate(key_parts), last


_process_index = MatchIndex()


def process_index() -> MatchIndex:
    """This process's index (one per process, shared by its threads)."""
    return _process_index


def _bank_ids(banks: Iterable[Bank | int] | None) -> set[int] | None:
    if banks is None:
        return None
    return {bank.pk if isinstance(bank, Bank) else int(bank) for bank in banks}


def match(*, sha256: str | None, pdq: str | None, quality: int | None, variants: Sequence[str] = (),
          banks: Iterable[Bank | int] | None = None, index: MatchIndex | None = None) -> list[BankMatch]:
    """The entries of active banks (of ``banks``, or all) that the content with these hashes matches.

    ``pdq`` and ``variants`` are the PDQ hash and the hashes of its eight flips and rotations
    (``PdqHasher``); ``quality`` is the PDQ quality (0-100; None counts as 0, so the quality gate
    holds). One match per entry, SHA-256 before PDQ, closest first. A hash that is not 64 hex
    digits raises ``ValidationError``. ``index`` is for tests: a second process's index.
    """
    sha256 = normalise_hash(sha256, HashType.SHA256)
    queries = sorted({h for h in (normalise_hash(pdq, HashType.PDQ),
                                  *(normalise_hash(v, HashType.PDQ) for v in variants)) if h})
    wanted = _bank_ids(banks)
    found: dict[int, BankMatch] = {}
    if sha256 is not None:
        rows = BankEntry.objects.filter(sha256=sha256, bank__is_active=True).select_related("bank")
        if wanted is not None:
            rows = rows.filter(bank_id__in=wanted)
        for entry in rows:
            found[entry.pk] = BankMatch(bank=entry.bank, entry=entry, kind=HashType.SHA256, distance=0)
    if queries:
        for hit in _pdq_matches(queries, quality or 0, wanted, index or _process_index):
            found.setdefault(hit.entry.pk, hit)
    return sorted(found.values(), key=lambda m: (m.kind != HashType.SHA256, m.distance, m.bank.pk, m.entry.pk))


def _pdq_matches(queries: list[str], quality: int, wanted: set[int] | None, index: MatchIndex) -> list[BankMatch]:
    states, pdq_index = index.current()
    eligible = {s.id: s for s in states.values()
                if s.is_active and quality >= s.pdq_min_quality and (wanted is None or s.id in wanted)}
    if not eligible:
        return []
    radius = max(s.pdq_max_distance for s in eligible.values())
    candidates = pdq_index.search(words_from_hex(queries), radius)
    ids = sorted(candidates)
    hits = []
    for start in range(0, len(ids), FETCH_BATCH):
        for entry in BankEntry.objects.filter(pk__in=ids[start:start + FETCH_BATCH]).select_related("bank"):
            # Checked against the row itself: the bank's thresholds as they are now, the hash as stored.
            bank = entry.bank
            if bank.pk not in eligible or not bank.is_active or quality < bank.pdq_min_quality:
                continue
            assert entry.pdq is not None
            distance = min(hamming_distance(entry.pdq, query) for query in queries)
            if distance <= bank.pdq_max_distance:
                hits.append(BankMatch(bank=bank, entry=entry, kind=HashType.PDQ, distance=distance))
    return hits
