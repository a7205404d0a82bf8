"""URL -> provider: most specific registered name wins, unknown hosts are flagged once and counted,
an assignment is remembered, and the per-process table follows changes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.directory import services
from vangnet.directory.choices import DirectoryEvent
from vangnet.directory.models import ProviderDomain, UnknownHost
from vangnet.directory.selectors import provider_for_url, resolve_url, unassigned_unknown_hosts

from .factories import SYSTEM, make_provider

pytestmark = pytest.mark.django_db


def test_subdomains_ports_userinfo_and_case_resolve_to_the_domain_owner() -> None:
    social = make_provider("social", "social.invalid")
    for url in ["https://social.invalid/post/1", "https://WWW.Social.Invalid/p", "http://m.social.invalid:8080/x",
                "https://name:pw@cdn.img.social.invalid/a.jpg", "social.invalid/post/2", "https://social.invalid./"]:
        assert provider_for_url(url) == social, url


def test_registrable_domain_under_a_multi_label_suffix() -> None:
    shop = make_provider("shop", "shop.co.uk")
    assert provider_for_url("https://www.shop.co.uk/item") == shop
    assert provider_for_url("https://other.co.uk/") is None
    assert resolve_url("https://a.b.other.co.uk/x").domain == "other.co.uk"


def test_idn_host_matches_its_punycode_domain() -> None:
    books = make_provider("books", "Bücher.example")
    assert ProviderDomain.objects.get().domain == "xn--bcher-kva.example"
    assert provider_for_url("https://www.bücher.example/seite") == books
    assert provider_for_url("https://WWW.XN--BCHER-KVA.EXAMPLE/") == books


def test_ip_literals_have_no_provider_and_are_not_flagged() -> None:
    make_provider("social", "social.invalid")
    for url in ["http://192.0.2.7/x", "http://[2001:db8::7]:8080/", "mailto:x@social.invalid"]:
        assert services.resolve_provider(url=url) is None
    assert not UnknownHost.objects.exists()


def test_most_specific_registration_wins_and_private_suffixes_are_separate_sites() -> None:
    hosting = make_provider("pages-host", "github.io")
    alice = make_provider("alice-site", "alice.github.io")
    assert provider_for_url("https://www.alice.github.io/") == alice
    assert provider_for_url("https://bob.github.io/") == hosting


def test_unknown_host_is_recorded_once_and_counted() -> None:
    assert services.resolve_provider(url="https://www.unknown-site.invalid/a") is None
    assert services.resolve_provider(url="https://cdn.unknown-site.invalid/b") is None
    assert services.resolve_provider(url="https://other-unknown.invalid/") is None
    host = UnknownHost.objects.get(domain="unknown-site.invalid")
    assert host.seen_count == 2 and host.last_seen >= host.first_seen and host.provider is None
    assert UnknownHost.objects.count() == 2
    assert [h.domain for h in unassigned_unknown_hosts()] == ["other-unknown.invalid", "unknown-site.invalid"]
    # The selector only reads.
    assert provider_for_url("https://unknown-site.invalid/") is None
    assert UnknownHost.objects.get(domain="unknown-site.invalid").seen_count == 2


def test_assignment_is_remembered_and_used_next_time(django_user_model) -> None:
    handler = django_user_model.objects.create_user(username="hans")
    services.resolve_provider(url="https://forum.unknown-site.invalid/t/1")
    provider = make_provider("forum-host", "host.invalid")
    row = services.assign_unknown_host(unknown_host=UnknownHost.objects.get(), provider=provider,
                                       actor=Actor.staff(handler))
    assert row.domain == "unknown-site.invalid" and row.provider == provider
    assert provider_for_url("https://www.unknown-site.invalid/t/2") == provider
    assert services.resolve_provider(url="https://unknown-site.invalid/t/3") == provider
    host = UnknownHost.objects.get()
    assert host.provider == provider and host.assigned_at is not None and host.seen_count == 1
    assert not unassigned_unknown_hosts().exists()
    event = Event.objects.get(event_type=DirectoryEvent.UNKNOWN_HOST_ASSIGNED)
    assert (event.actor_user_id, event.subject_type, event.subject_id) == (handler.pk, "directory.unknownhost",
                                                                           str(host.pk))
    assert event.data == {"domain": "unknown-site.invalid", "provider": "forum-host", "seen_count": 1}


def test_adding_the_domain_by_hand_settles_a_waiting_unknown_host() -> None:
    services.resolve_provider(url="https://late.invalid/")
    provider = make_provider("late", "late.invalid")
    assert UnknownHost.objects.get().provider == provider


def test_lookups_are_served_from_the_cache_and_a_change_clears_it() -> None:
    social = make_provider("social", "social.invalid")
    assert provider_for_url("https://social.invalid/") == social
    with CaptureQueriesContext(connection) as queries:
        for _ in range(50):
            assert provider_for_url("https://social.invalid/x") == social
    assert len(queries) == 0
    # A change through the services (as the admin makes) is seen at once.
    other = make_provider("other", "other.invalid")
    services.add_provider_domain(provider=other, domain="social.invalid", actor=SYSTEM)
    assert provider_for_url("https://social.invalid/x") == other
    other.is_active = False
    services.save_provider(provider=other, actor=SYSTEM)
    assert provider_for_url("https://social.invalid/x") is None
    social.name = "Social Renamed"
    services.save_provider(provider=social, actor=SYSTEM)
    row = ProviderDomain.objects.get(domain="social.invalid")
    services.remove_provider_domain(provider_domain=row, actor=SYSTEM)
    services.add_provider_domain(provider=social, domain="social.invalid", actor=SYSTEM)
    assert provider_for_url("https://social.invalid/x").name == "Social Renamed"


def test_a_caller_changing_its_result_does_not_change_the_next_lookup() -> None:
    make_provider("social", "social.invalid", name="Social")
    first = provider_for_url("https://social.invalid/")
    first.name = "Tampered"
    assert provider_for_url("https://social.invalid/").name == "Social"
