"""The per-process reference cache: loads once, serves the same object, forgets on change and on expiry."""

import pytest

from vangnet.common import refcache


def test_loads_once_and_serves_the_same_object(monkeypatch) -> None:
    calls = []
    value = refcache.cached("k", lambda: calls.append(1) or ["a"])
    assert refcache.cached("k", lambda: calls.append(1) or ["b"]) is value
    assert calls == [1]


def test_expires_after_the_ttl(monkeypatch) -> None:
    now = [1000.0]
    monkeypatch.setattr(refcache.time, "monotonic", lambda: now[0])
    refcache.cached("k", lambda: "old")
    now[0] += refcache.TTL_SECONDS - 1
    assert refcache.cached("k", lambda: "new") == "old"
    now[0] += 2
    assert refcache.cached("k", lambda: "new") == "new"


@pytest.mark.django_db
def test_saving_a_row_forgets_the_entry_at_once() -> None:
    from vangnet.directory.models import ReferralOrganisation
    from vangnet.directory.selectors import shareable_catalogue

    before = shareable_catalogue()
    org = ReferralOrganisation.objects.get(slug="helpwanted")
    org.name_en = "Renamed"
    org.save(update_fields=["name_en"])
    after = shareable_catalogue()
    assert after is not before and after["helpwanted"].name_en == "Renamed"
