"""``match``: equal SHA-256, or PDQ within each bank's distance for resized, re-encoded and mirrored copies of a
picture, only above the bank's quality, never from an inactive bank; every process's index keeps step."""

from __future__ import annotations

import pytest
from django.db import transaction
from PIL import ImageOps

from vangnet.audit.services import Actor
from vangnet.evidence.choices import Source
from vangnet.evidence.services import add_evidence
from vangnet.hashing import services
from vangnet.hashing.hashers import HASHERS, HashResult, hamming_distance
from vangnet.hashing.matching import MatchIndex, match
from vangnet.hashing.tests.test_hashers import encoded, picture

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")


def pdq_of(data: bytes) -> HashResult:
    result = HASHERS["pdq"].hash_bytes(data)
    assert result is not None
    return result


def query(data: bytes, **kwargs: object) -> list:
    result = pdq_of(data)
    return match(sha256=HASHERS["sha256"].hash_bytes(data).value, pdq=result.value, quality=result.quality,
                 variants=result.variants, **kwargs)  # type: ignore[arg-type]


def flipped(hex_hash: str, bits: int) -> str:
    """The hash with its first ``bits`` bits inverted: exactly ``bits`` away."""
    value = int(hex_hash, 16) ^ (((1 << bits) - 1) << (256 - bits))
    return f"{value:064x}"


@pytest.fixture
def bank(helpline):
    return services.create_bank(slug="case-bank", name="Removed items", organisation=helpline, actor=SYSTEM)


def test_the_same_picture_resized_re_encoded_or_mirrored_matches_and_another_does_not(submit, bank) -> None:
    original = encoded(picture(21))
    item = add_evidence(case=submit().report.case, data=original, actor=Actor.reporter(), source=Source.REPORTER)
    entry = services.add_item_to_bank(bank=bank, item=item, label="removed on 1 May", actor=SYSTEM)
    assert entry is not None and entry.case == item.case and entry.pdq == item.pdq

    exact = query(original)
    assert [(m.entry, m.kind, m.distance) for m in exact] == [(entry, "sha256", 0)]

    smaller = encoded(picture(21).resize((320, 240)), "JPEG", quality=70)
    [resized] = query(smaller)
    assert (resized.entry, resized.bank, resized.kind) == (entry, bank, "pdq")
    assert 0 < resized.distance <= 31 and resized.distance == hamming_distance(pdq_of(smaller).value, entry.pdq)

    mirrored = encoded(ImageOps.mirror(picture(21)), "JPEG", quality=80)
    assert hamming_distance(pdq_of(mirrored).value, entry.pdq) > 31, "only its variants bring it near"
    [through_variant] = query(mirrored)
    assert through_variant.entry == entry and through_variant.kind == "pdq" and through_variant.distance <= 31
    rotated = encoded(picture(21).rotate(90, expand=True))
    assert [m.entry for m in query(rotated)] == [entry]

    assert query(encoded(picture(22))) == []
    mirrored_pdq = pdq_of(mirrored)
    assert match(sha256=None, pdq=mirrored_pdq.value, quality=mirrored_pdq.quality) == [], "no variants, no match"


def test_each_bank_has_its_own_distance(helpline, bank) -> None:
    strict = services.create_bank(slug="strict", name="Strict", organisation=helpline, pdq_max_distance=10,
                                  actor=SYSTEM)
    stored = pdq_of(encoded(picture(23))).value
    loose_entry = services.add_entry(bank=bank, pdq=stored, pdq_quality=90, actor=SYSTEM)
    strict_entry = services.add_entry(bank=strict, pdq=stored, pdq_quality=90, actor=SYSTEM)
    at = {d: match(sha256=None, pdq=flipped(stored, d), quality=100) for d in (0, 10, 11, 31, 32)}
    assert {m.entry for m in at[0]} == {m.entry for m in at[10]} == {loose_entry, strict_entry}
    assert [(m.entry, m.distance) for m in at[11]] == [(loose_entry, 11)]
    assert [(m.entry, m.distance) for m in at[31]] == [(loose_entry, 31)]
    assert at[32] == []
    strict.pdq_max_distance = 40
    services.save_bank(bank=strict, actor=SYSTEM)
    assert [m.entry for m in match(sha256=None, pdq=flipped(stored, 35), quality=100)] == [strict_entry]


def test_the_quality_gate_holds_pdq_back_but_not_sha256(bank) -> None:
    data = encoded(picture(24))
    entry = services.add_entry(bank=bank, sha256=HASHERS["sha256"].hash_bytes(data).value, pdq=pdq_of(data).value,
                               actor=SYSTEM)
    pdq = pdq_of(data).value
    assert [m.kind for m in match(sha256=None, pdq=pdq, quality=50)] == ["pdq"]
    assert match(sha256=None, pdq=pdq, quality=49) == []
    assert match(sha256=None, pdq=pdq, quality=None) == []
    assert [(m.entry, m.kind) for m in match(sha256=entry.sha256, pdq=pdq, quality=10)] == [(entry, "sha256")]
    bank.pdq_min_quality = 0
    services.save_bank(bank=bank, actor=SYSTEM)
    assert [m.entry for m in match(sha256=None, pdq=pdq, quality=None)] == [entry]


def test_an_inactive_bank_matches_nothing_and_banks_narrows_the_search(helpline, bank) -> None:
    data = encoded(picture(25))
    sha, pdq = HASHERS["sha256"].hash_bytes(data).value, pdq_of(data).value
    other = services.create_bank(slug="other", name="Other", organisation=helpline, actor=SYSTEM)
    mine = services.add_entry(bank=bank, sha256=sha, pdq=pdq, actor=SYSTEM)
    theirs = services.add_entry(bank=other, sha256=sha, pdq=pdq, actor=SYSTEM)
    assert {m.entry for m in match(sha256=sha, pdq=pdq, quality=90)} == {mine, theirs}
    assert [m.entry for m in match(sha256=sha, pdq=pdq, quality=90, banks=[other])] == [theirs]
    assert [m.entry for m in match(sha256=None, pdq=pdq, quality=90, banks=[bank.pk])] == [mine]
    bank.is_active = False
    services.save_bank(bank=bank, actor=SYSTEM)
    assert [m.entry for m in match(sha256=sha, pdq=pdq, quality=90)] == [theirs]
    assert match(sha256=sha, pdq=pdq, quality=90, banks=[bank]) == []


def test_bad_hashes_are_refused() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        match(sha256="not-a-hash", pdq=None, quality=None)
    with pytest.raises(ValidationError):
        match(sha256=None, pdq="ab" * 31, quality=90)


def test_a_second_process_sees_what_the_first_added_and_removed(bank, django_capture_on_commit_callbacks) -> None:
    """Two indexes stand for two processes; each lookup commits as a request outside a transaction would."""
    first, second = MatchIndex(), MatchIndex()
    stored = pdq_of(encoded(picture(26))).value

    def lookup(index: MatchIndex, pdq: str = stored) -> list:
        with django_capture_on_commit_callbacks(execute=True):
            return match(sha256=None, pdq=flipped(pdq, 5), quality=90, index=index)

    assert lookup(first) == [] and lookup(second) == []
    with django_capture_on_commit_callbacks(execute=True):
        entry = services.add_entry(bank=bank, pdq=stored, actor=SYSTEM)
    assert [m.entry for m in lookup(second)] == [entry]
    assert [m.entry for m in lookup(first)] == [entry]
    assert (first.loads, first.refreshes) == (0, 2), "loaded only what was new"

    more = pdq_of(encoded(picture(27))).value
    with django_capture_on_commit_callbacks(execute=True):
        services.add_entry(bank=bank, pdq=more, actor=SYSTEM)
    assert lookup(first, more) and lookup(first, more)
    assert (first.loads, first.refreshes) == (0, 3), "one refresh, then nothing to load"
    assert len(first.current()[1]) == 2

    with django_capture_on_commit_callbacks(execute=True):
        services.remove_entry(entry=entry, actor=SYSTEM)
    assert lookup(second) == [] and lookup(first) == []
    assert first.loads == 1 and len(first.current()[1]) == 1, "a removal makes the index load anew"


def test_what_a_rolled_back_transaction_added_is_not_kept(bank, django_capture_on_commit_callbacks) -> None:
    index = MatchIndex()
    gone, kept = pdq_of(encoded(picture(28))).value, pdq_of(encoded(picture(29))).value
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            services.add_entry(bank=bank, pdq=gone, actor=SYSTEM)
            assert match(sha256=None, pdq=gone, quality=90, index=index), "its own transaction sees it"
            raise RuntimeError("rolled back")
    with django_capture_on_commit_callbacks(execute=True):
        assert match(sha256=None, pdq=gone, quality=90, index=index) == []
        entry = services.add_entry(bank=bank, pdq=kept, actor=SYSTEM)  # may reuse the rolled-back id
    with django_capture_on_commit_callbacks(execute=True):
        assert [m.entry for m in match(sha256=None, pdq=kept, quality=90, index=index)] == [entry]
        assert match(sha256=None, pdq=gone, quality=90, index=index) == []


def test_a_stale_index_never_reports_what_the_database_no_longer_holds(bank) -> None:
    """An index that missed a deletion and a new row under the same id: the row itself is checked."""
    index = MatchIndex()
    stored, other = pdq_of(encoded(picture(30))).value, pdq_of(encoded(picture(31))).value
    entry = services.add_entry(bank=bank, pdq=stored, actor=SYSTEM)
    states, pdq_index = index.current()
    entry.pdq = other
    entry.save(update_fields=["pdq"])  # behind the services' back, as a stale index would see it
    index.current = lambda: (states, pdq_index)  # type: ignore[method-assign]
    assert match(sha256=None, pdq=stored, quality=90, index=index) == []
