"""Providers as CSV: an export imports back unchanged, an import is all or nothing with line numbers,
and no cell reaches a spreadsheet as a formula."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from vangnet.audit.models import Event
from vangnet.directory.choices import DirectoryEvent
from vangnet.directory.models import DigitalServicesCoordinator, Provider, ProviderDomain
from vangnet.directory.providers_csv import (
    ProviderImportError,
    export_providers_csv,
    exportable_providers,
    import_providers_csv,
)

from .factories import SYSTEM, make_provider

pytestmark = pytest.mark.django_db



@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _snapshot() -> list[tuple]:
    return [(p.slug, p.name, p.contact_email, p.webform_url, p.api_channel, p.api_endpoint, p.country,
             p.legal_representative, p.is_vlop, p.language, p.coordinator_id, p.upstream_id, p.is_active, p.notes,
             sorted(p.domains.values_list("domain", flat=True))) for p in Provider.objects.order_by("slug")]


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def providers() -> list[Provider]:
    acm = DigitalServicesCoordinator.objects.get(slug="acm")
    host = make_provider("host-co", "host.invalid", "cdn-host.invalid", name="Host Co", country="NL", language="nl",
                         coordinator=acm, legal_representative="Rep B.V.\nStraat 1, Amsterdam")
    social = make_provider("social", "social.invalid", name="=HYPERLINK(\"http://evil.invalid\")", upstream=host,
                           webform_url="https://social.invalid/dsa-form", is_vlop=True,
                           notes="-2+3 looks like a formula\n'quoted already")
    return [host, social]


def test_export_then_import_changes_nothing(providers) -> None:
    before = _snapshot()
    text = export_providers_csv(exportable_providers())
    events = Event.objects.count()
    summary = import_providers_csv(data=text.encode("utf-8-sig"), actor=SYSTEM)
    assert sorted(summary.changed) == ["host-co", "social"] and summary.created == []
    assert _snapshot() == before
    assert Event.objects.count() == events  # nothing changed, nothing logged


def test_export_neutralises_formulas(providers) -> None:
    rows = {row["slug"]: row for row in _rows(export_providers_csv(exportable_providers()))}
    assert rows["social"]["name"] == "'=HYPERLINK(\"http://evil.invalid\")"
    assert rows["social"]["notes"].startswith("'-2+3")
    assert rows["social"]["upstream"] == "host-co" and rows["social"]["is_vlop"] == "yes"
    assert rows["host-co"]["domains"] == "cdn-host.invalid host.invalid"
    assert rows["host-co"]["coordinator"] == "acm"
    for row in rows.values():
        assert not any(value.startswith(("=", "+", "-", "@", "\t", "\r")) for value in row.values())


def test_import_creates_updates_and_replaces_domains(providers) -> None:
    text = "\r\n".join([
        "slug,name,contact_email,domains,upstream,is_vlop",
        "social,Social,,social.invalid social-cdn.invalid,,no",
        "newbie,Newbie,dsa@newbie.example.org,newbie.invalid,host-co,yes",
        "child,Child,,child.invalid,newbie,",  # upstream defined on an earlier line, channel only by upstream
        "",
    ])
    summary = import_providers_csv(data=text, actor=SYSTEM)
    assert summary.created == ["newbie", "child"] and summary.changed == ["social"]
    social = Provider.objects.get(slug="social")
    assert social.name == "Social" and social.upstream is None and social.is_vlop is False
    assert social.webform_url == "https://social.invalid/dsa-form"  # column absent: left alone
    assert sorted(social.domains.values_list("domain", flat=True)) == ["social-cdn.invalid", "social.invalid"]
    child = Provider.objects.get(slug="child")
    assert child.upstream.slug == "newbie" and child.upstream.upstream.slug == "host-co"
    assert Event.objects.filter(event_type=DirectoryEvent.PROVIDER_CREATED, subject_id=str(child.pk)).exists()
    assert Event.objects.filter(event_type=DirectoryEvent.PROVIDER_DOMAIN_ADDED,
                                data={"domain": "social-cdn.invalid"}).exists()


def test_upstream_later_in_the_file_is_saved_first() -> None:
    text = "slug,name,upstream,contact_email\nchild,Child,parent,\nparent,Parent,,dsa@parent.example.org\n"
    import_providers_csv(data=text, actor=SYSTEM)
    assert Provider.objects.get(slug="child").upstream.slug == "parent"


def test_bad_rows_import_nothing_and_name_their_lines(providers) -> None:
    before, events = _snapshot(), Event.objects.count()
    text = "\n".join([
        "slug,name,contact_email,domains,is_vlop,coordinator,country",
        "good,Good,dsa@good.example.org,good.invalid,no,,NL",
        "bad-mail,Bad mail,not-an-address,,no,,",
        "bad-domain,Bad domain,dsa@x.example.org,https://x.invalid/ co.uk,no,,",
        "bad-flag,Bad flag,dsa@y.example.org,,perhaps,,",
        "bad-coordinator,Bad coordinator,dsa@z.example.org,,no,nowhere,",
        "no-contact,No contact,,,no,,",
        "good,Twice,dsa@good.example.org,,no,,",
        "dup-domain,Dup,dsa@d.example.org,GOOD.invalid,no,,",
        "bad-country,Country,dsa@c.example.org,,no,,Netherlands",
    ])
    with pytest.raises(ProviderImportError) as caught:
        import_providers_csv(data=text, actor=SYSTEM)
    errors = caught.value.errors
    joined = "\n".join(errors)
    assert "Line 4, domains: https://x.invalid/" in joined and "Line 4, domains: co.uk" in joined
    assert "Line 8, slug: good already appears on line 2." in joined
    assert "Line 9, domains: good.invalid already appears on line 2." in joined
    # The row checks come after the file checks: a second import without those lines reports the rest.
    fixed = "\n".join(line for number, line in enumerate(text.split("\n"), 1) if number not in (4, 8, 9))
    with pytest.raises(ProviderImportError) as caught:
        import_providers_csv(data=fixed, actor=SYSTEM)
    joined = "\n".join(caught.value.errors)
    assert "Line 3, contact_email:" in joined
    assert "Line 4, is_vlop: Use yes or no." in joined
    assert "Line 5, coordinator: No coordinator with slug nowhere." in joined
    assert "Line 6, contact_email: Give at least one way" in joined
    assert "Line 7, country:" in joined
    assert not any(e.startswith("Line 2") for e in caught.value.errors)
    assert _snapshot() == before and Event.objects.count() == events
    assert not Provider.objects.filter(slug="good").exists()


def test_upstream_loop_and_unknown_upstream_are_refused() -> None:
    text = "slug,name,upstream\na,A,b\nb,B,a\nc,C,nobody\n"
    with pytest.raises(ProviderImportError) as caught:
        import_providers_csv(data=text, actor=SYSTEM)
    joined = "\n".join(caught.value.errors)
    assert "Line 2, upstream:" in joined and "Line 3, upstream:" in joined
    assert "Line 4, upstream: No provider with slug nobody." in joined
    assert not Provider.objects.exists()


@pytest.mark.parametrize(("data", "message"), [
    (b"", "The file is empty."),
    (b"\xff\xfeslug", "UTF-8"),
    (b"slug,name,colour\nx,X,red\n", "unknown columns: colour"),
    (b"name\nX\n", "the columns slug and name are required"),
    (b"slug,name\nx,X,extra\n", "Line 2: 3 cells where the header has 2."),
])
def test_malformed_files_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(ProviderImportError) as caught:
        import_providers_csv(data=data, actor=SYSTEM)
    assert message in "\n".join(caught.value.errors)


def test_commands_round_trip(providers, tmp_path) -> None:
    path = tmp_path / "providers.csv"
    call_command("providers_export", str(path))
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    before = _snapshot()
    ProviderDomain.objects.filter(domain="cdn-host.invalid").delete()
    out = io.StringIO()
    call_command("providers_import", str(path), stdout=out)
    assert "0 created, 2 updated" in out.getvalue()
    assert _snapshot() == before
    assert Event.objects.filter(event_type=DirectoryEvent.PROVIDER_DOMAIN_ADDED, actor_label="system: providers_import",
                                data={"domain": "cdn-host.invalid"}).exists()


def test_import_command_reports_errors_and_changes_nothing(tmp_path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("slug,name,contact_email\nx,X,nope\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Line 2, contact_email"):
        call_command("providers_import", str(path))
    assert not Provider.objects.exists()
