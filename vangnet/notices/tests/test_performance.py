"""Provider performance with a controlled clock: exact figures on known notices, scope, period, the page."""

from __future__ import annotations

import base64
import itertools
import random
import re
from dataclasses import dataclass
from pathlib import Path
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import numpy
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from vangnet.accounts.choices import Permission, Role
from vangnet.accounts.models import Membership, Organisation
from vangnet.common.testing import Scene, StaffView, StaffViewTests, make_user
from vangnet.directory.models import Provider
from vangnet.notices import performance
from vangnet.notices.choices import NoticeStatus, Outcome
from vangnet.notices.models import Notice
from vangnet.notices.performance_views import chart_svg, duration_text

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
H, D = timedelta(hours=1), timedelta(days=1)
_references = itertools.count(1)


def _provider(slug: str, name: str | None = None) -> Provider:
    return Provider.objects.create(slug=slug, name=name or f"{slug.title()} (example)")


def _notice(case: Any, provider: Provider, *, sent: datetime | None, outcome: str = "",
            took: timedelta | None = None, status: str | None = None,
            deadline: datetime | None = None) -> Notice:
    """A notice as the services leave it, with the clock set by hand: sent, then closed ``took`` later."""
    if status is None:
        status = NoticeStatus.CLOSED if outcome else (NoticeStatus.SENT if sent else NoticeStatus.DRAFT)
    return Notice.objects.create(
        case=case, provider=provider, reference=f"N-TEST-{next(_references):05d}", language="en", channel="email",
        status=status, notifier_name="Helpline", notifier_email="meldingen@helpline.example.org",
        explanation="Threat and doxing.", subject="Notice", body="Notice text", created_by="test",
        sent_at=sent, deadline_at=deadline if deadline is not None else (sent + 3 * D if sent else None),
        outcome=outcome, outcome_at=(sent + took) if (sent and took is not None) else None)


@dataclass
class Known:
    alpha: Provider
    beta: Provider
    gamma: Provider
    elsewhere_only: Provider
    case: Any
    other_case: Any


@pytest.fixture
def known(submit: Any, helpline: Organisation, other_org: Organisation) -> Known:
    """Known notices of the helpline, and notices of another organisation that must never count."""
    alpha, beta, gamma, elsewhere_only = (_provider("alpha"), _provider("beta"), _provider("gamma"),
                                          _provider("elsewhere"))
    case = submit().report.case
    other_case = submit(organisation=other_org).report.case
    sent = NOW - 10 * D
    # alpha: acted on after 1, 2, 3, 4 and 10 hours (each kind of action once or more), refused,
    # no answer, two open past their deadline (sent and answered), one open within it; a draft.
    for took, outcome in [(1 * H, Outcome.REMOVED), (10 * H, Outcome.DISABLED), (3 * H, Outcome.GEO_BLOCKED),
                          (2 * H, Outcome.PARTLY), (4 * H, Outcome.REMOVED)]:
        _notice(case, alpha, sent=sent, outcome=outcome, took=took)
    _notice(case, alpha, sent=sent, outcome=Outcome.REFUSED, took=30 * D)
    _notice(case, alpha, sent=sent, outcome=Outcome.NO_ANSWER, took=5 * D)
    _notice(case, alpha, sent=sent, deadline=NOW - 1 * H)
    _notice(case, alpha, sent=sent, status=NoticeStatus.ANSWERED, deadline=NOW - 2 * D)
    _notice(case, alpha, sent=NOW - 1 * D, deadline=NOW + 2 * D)
    _notice(case, alpha, sent=None)
    _notice(case, alpha, sent=None, status=NoticeStatus.CANCELLED)
    # beta: acted on after 1 and 3 days in the last 90 days, after 5 days 200 days ago, and one
    # removed 400 days ago after 9 days (only in "all time").
    _notice(case, beta, sent=NOW - 20 * D, outcome=Outcome.REMOVED, took=1 * D)
    _notice(case, beta, sent=NOW - 40 * D, outcome=Outcome.REMOVED, took=3 * D)
    _notice(case, beta, sent=NOW - 200 * D, outcome=Outcome.REMOVED, took=5 * D)
    _notice(case, beta, sent=NOW - 400 * D, outcome=Outcome.REMOVED, took=9 * D)
    # gamma: sent, never acted on.
    _notice(case, gamma, sent=NOW - 5 * D, outcome=Outcome.REFUSED, took=1 * H)
    # Another organisation: fast removals, overdue notices, and a provider only it wrote to.
    for _ in range(3):
        _notice(other_case, alpha, sent=sent, outcome=Outcome.REMOVED, took=timedelta(minutes=1))
        _notice(other_case, alpha, sent=sent, deadline=NOW - 1 * D)
        _notice(other_case, gamma, sent=sent, outcome=Outcome.REMOVED, took=timedelta(minutes=5))
    _notice(other_case, elsewhere_only, sent=sent, outcome=Outcome.REMOVED, took=1 * H)
    return Known(alpha, beta, gamma, elsewhere_only, case, other_case)


def _by_slug(rows: list[performance.ProviderPerformance]) -> dict[str, performance.ProviderPerformance]:
    slugs = dict(Provider.objects.values_list("pk", "slug"))
    return {slugs[row.provider_id]: row for row in rows}


def test_figures_on_known_notices(known: Known, handler: Any) -> None:
    rows = performance.provider_performance(handler, period="90", now=NOW)
    assert [row.name for row in rows] == ["Alpha (example)", "Beta (example)", "Gamma (example)"]  # most sent first
    alpha, beta, gamma = rows
    assert (alpha.sent, alpha.acted, alpha.open_past_deadline) == (10, 5, 2)
    assert alpha.removal_rate == 0.5
    assert alpha.median == 3 * H  # 1, 2, 3, 4, 10 hours
    assert alpha.p90 == 7 * H + 36 * timedelta(minutes=1)  # rank 4.6: 4 h + 0.6 * (10 h - 4 h)
    assert (beta.sent, beta.acted, beta.open_past_deadline, beta.removal_rate) == (2, 2, 0, 1.0)
    assert beta.median == 2 * D  # 1 and 3 days
    assert beta.p90 == timedelta(days=2, hours=19, minutes=12)  # rank 1.9: 1 d + 0.9 * 2 d
    assert (gamma.sent, gamma.acted, gamma.open_past_deadline, gamma.removal_rate) == (1, 0, 0, 0.0)
    assert gamma.median is None and gamma.p90 is None


def test_the_period_counts_notices_by_when_they_were_sent(known: Known, handler: Any) -> None:
    def beta(period: str) -> performance.ProviderPerformance:
        return _by_slug(performance.provider_performance(handler, period=period, now=NOW))["beta"]

    assert "gamma" in _by_slug(performance.provider_performance(handler, period="30", now=NOW))
    assert beta("30").sent == 1 and beta("30").median == beta("30").p90 == 1 * D  # one value: it is every percentile
    assert beta("90").sent == 2
    assert (beta("365").sent, beta("365").median) == (3, 3 * D)  # 1, 3, 5 days
    assert beta("365").p90 == timedelta(days=4, hours=14, minutes=24)  # rank 2.8: 3 d + 0.8 * 2 d
    assert (beta("all").sent, beta("all").median) == (4, 4 * D)  # 1, 3, 5, 9 days: between 3 and 5
    assert beta("all").p90 == timedelta(days=7, hours=19, minutes=12)  # rank 3.7: 5 d + 0.7 * 4 d
    # A notice sent just inside the period counts; the clock is the one passed in.
    assert _by_slug(performance.provider_performance(handler, period="30", now=NOW + 11 * D)).get("gamma")
    assert "gamma" not in _by_slug(performance.provider_performance(handler, period="30", now=NOW + 36 * D))


def test_open_past_deadline_follows_the_clock(known: Known, handler: Any) -> None:
    earlier = _by_slug(performance.provider_performance(handler, period="90", now=NOW - 3 * H))["alpha"]
    later = _by_slug(performance.provider_performance(handler, period="90", now=NOW + 3 * D))["alpha"]
    assert earlier.open_past_deadline == 1  # the answered one's deadline had passed, the sent one's not yet
    assert later.open_past_deadline == 3  # now the one sent yesterday too


def test_another_organisations_notices_never_count(known: Known, handler: Any, outsider: Any) -> None:
    mine = _by_slug(performance.provider_performance(handler, period="all", now=NOW))
    assert set(mine) == {"alpha", "beta", "gamma"}
    assert mine["alpha"].median == 3 * H and mine["gamma"].acted == 0
    theirs = _by_slug(performance.provider_performance(outsider, period="all", now=NOW))
    assert set(theirs) == {"alpha", "gamma", "elsewhere"}
    assert (theirs["alpha"].sent, theirs["alpha"].acted, theirs["alpha"].open_past_deadline) == (6, 3, 3)
    assert theirs["alpha"].median == theirs["alpha"].p90 == timedelta(minutes=1)


def test_an_analyst_sees_the_figures_of_her_organisation(known: Known, helpline: Organisation) -> None:
    analyst = make_user("ana", organisation=helpline, role=Role.ANALYST)
    assert performance.may_view(analyst)
    rows = _by_slug(performance.provider_performance(analyst, period="90", now=NOW))
    assert set(rows) == {"alpha", "beta", "gamma"} and rows["alpha"].median == 3 * H


def test_roles_in_two_organisations_add_up(known: Known, helpline: Organisation, other_org: Organisation) -> None:
    both = make_user("both", organisation=helpline, role=Role.HANDLER)
    Membership.objects.create(user=both, organisation=other_org, role=Role.ANALYST)
    rows = _by_slug(performance.provider_performance(both, period="all", now=NOW))
    assert set(rows) == {"alpha", "beta", "gamma", "elsewhere"}
    assert rows["alpha"].sent == 16 and rows["alpha"].open_past_deadline == 5
    assert rows["alpha"].median == 90 * timedelta(minutes=1)  # 1, 1, 1 minutes, 1, 2, 3, 4, 10 hours: ranks 4, 5


def test_nobody_without_a_role_sees_anything(known: Known, helpline: Organisation) -> None:
    nobody = make_user("nobody")
    root = make_user("root", is_superuser=True, is_staff=True)
    gone = make_user("gone", organisation=helpline, role=Role.ADMIN, is_active=False)
    for user in (nobody, root, gone):
        assert not performance.may_view(user)
        assert performance.provider_performance(user, period="all", now=NOW) == []


def test_empty_data(helpline: Organisation, handler: Any) -> None:
    assert performance.provider_performance(handler, period="all", now=NOW) == []
    assert performance.totals([]) == {"sent": 0, "acted": 0, "open_past_deadline": 0}
    assert chart_svg([]) is None


@pytest.mark.parametrize("seed", range(6))
def test_percentiles_match_numpy_on_random_data(seed: int, submit: Any, handler: Any) -> None:
    """Linear interpolation between the nearest ranks, as numpy.percentile's default, for any count."""
    generator = random.Random(seed)
    case = submit().report.case
    providers = [_provider(f"p{seed}-{i}") for i in range(3)]
    expected: dict[int, list[float]] = {}
    for provider in providers:
        count = generator.randint(1, 23)
        seconds = [generator.randint(0, 40 * 86400) for _ in range(count)]
        seconds[0] = seconds[-1]  # ties are ranked too
        for value in seconds:
            _notice(case, provider, sent=NOW - 5 * D, outcome=generator.choice(sorted(performance.ACTED)),
                    took=timedelta(seconds=value))
        expected[provider.pk] = seconds
    rows = {row.provider_id: row for row in performance.provider_performance(handler, period="all", now=NOW)}
    for provider_id, seconds in expected.items():
        for got, percent in [(rows[provider_id].median, 50), (rows[provider_id].p90, 90)]:
            assert got is not None
            assert got.total_seconds() == pytest.approx(float(numpy.percentile(seconds, percent)), abs=1e-6)


def test_the_percentiles_are_one_query_and_the_counts_another(known: Known, handler: Any,
                                                              django_assert_num_queries: Any) -> None:
    notices = performance.sent_notices(handler, since=None)
    with django_assert_num_queries(1):
        performance.time_to_action_percentiles(notices)
    with django_assert_num_queries(1):
        performance.counts_per_provider(notices, now=NOW)


def test_durations_in_words() -> None:
    with translation.override("en"):
        assert duration_text(None) == "—"
        assert duration_text(timedelta(minutes=1)) == "1 minute"
        assert duration_text(timedelta(minutes=59)) == "59 minutes"
        assert duration_text(7 * H + timedelta(minutes=36)) == "8 hours"
        assert duration_text(47 * H) == "47 hours"
        assert duration_text(timedelta(days=2, hours=19, minutes=12)) == "2.8 days"
    with translation.override("nl"):
        assert duration_text(1 * H) == "1 uur"
        assert duration_text(timedelta(days=2, hours=12)) == "2,5 dagen"


# ---------------------------------------------------------------------------------------------
# The page


def _page(client: Client, user: Any, **query: str) -> str:
    client.force_login(user)
    response = client.get(reverse("performance:providers"), query, headers={"accept-language": "en"})
    assert response.status_code == 200
    return response.content.decode()


def _cells(html: str, provider: Provider) -> list[str]:
    row = re.search(rf'<tr data-provider="{provider.pk}">(.*?)</tr>', html, re.S)
    assert row, f"no row for {provider.slug}"
    return [re.sub(r"\s+", " ", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1),
                                                                      re.S)]


def _chart(html: str) -> tuple[ElementTree.Element, str]:
    match = re.search(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)" alt="([^"]+)">', html)
    assert match, "no chart"
    return ElementTree.fromstring(base64.b64decode(match.group(1))), match.group(2)


@pytest.fixture
def at_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def test_the_page_shows_the_table_and_the_chart(client: Client, known: Known, handler: Any, at_now: None) -> None:
    html = _page(client, handler)
    assert _cells(html, known.alpha) == ["Alpha (example)", "10", "5", "50%", "3 hours", "8 hours", "2"]
    assert _cells(html, known.beta) == ["Beta (example)", "2", "2", "100%", "2.0 days", "2.8 days", "0"]
    assert _cells(html, known.gamma) == ["Gamma (example)", "1", "0", "0%", "—", "—", "0"]
    assert known.elsewhere_only.name not in html
    assert known.case.reference not in html and known.other_case.reference not in html
    totals = re.search(r"<tr data-totals>(.*?)</tr>", html, re.S)
    assert totals and re.findall(r"<td[^>]*>(\d+)</td>", totals.group(1)) == ["13", "7", "2"]
    svg, alt = _chart(html)
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    text = " ".join("".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "Alpha (example)" in text and "Beta (example)" in text and "Gamma" not in text  # gamma never acted
    assert "Time to action (days)" in text and "Median" in text and "90th percentile" in text
    assert "2 providers" in alt and "same figures" in alt
    assert list(svg.iter("{http://www.w3.org/2000/svg}script")) == []


def test_the_period_comes_from_the_query(client: Client, known: Known, handler: Any, at_now: None) -> None:
    assert _cells(_page(client, handler, period="all"), known.beta)[1:5] == ["4", "4", "100%", "4.0 days"]
    assert _cells(_page(client, handler, period="365"), known.beta)[1:2] == ["3"]
    assert _cells(_page(client, handler, period="30"), known.beta)[1:2] == ["1"]
    html = _page(client, handler, period="7; drop table")  # not a period: the default, and the form says so
    assert _cells(html, known.beta)[1:2] == ["2"] and 'class="error"' in html
    assert '<option value="90" selected>' in _page(client, handler)


def test_an_empty_period_says_so(client: Client, handler: Any) -> None:
    html = _page(client, handler)
    assert "No notices were sent in this period." in html and "data:image" not in html and "<table" not in html


def test_no_chart_when_nobody_acted(client: Client, submit: Any, handler: Any) -> None:
    _notice(submit().report.case, _provider("slow"), sent=timezone.now() - D, deadline=timezone.now() - H)
    html = _page(client, handler)
    assert "data-no-chart" in html and "data:image" not in html and "Slow (example)" in html


def test_provider_names_are_text_in_the_chart_never_markup_or_maths(client: Client, submit: Any,
                                                                     handler: Any) -> None:
    name = '<script>x</script> $\\alpha$ & "Co"'
    _notice(submit().report.case, _provider("odd", name=name), sent=timezone.now() - D,
            outcome=Outcome.REMOVED, took=H)
    html = _page(client, handler)
    assert "<script>x</script>" not in html  # escaped in the table
    svg, _alt = _chart(html)
    labels = ["".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert any(label.startswith('<script>x</script> $\\alph') for label in labels), labels
    assert list(svg.iter("{http://www.w3.org/2000/svg}script")) == []


def test_the_chart_fits_a_phone(client: Client, known: Known, handler: Any, at_now: None) -> None:
    """No fixed width: the image shrinks with the page (site.css), and the SVG scales by its viewBox."""
    html = _page(client, handler)
    assert re.search(r"<img src=\"data:image/svg\+xml;base64,[^\"]+\" alt=\"[^\"]+\">", html)  # no width attribute
    svg, _alt = _chart(html)
    assert svg.get("viewBox") and float(svg.get("width", "0pt").removesuffix("pt")) * 4 / 3 <= 480
    from django.contrib.staticfiles import finders

    css = Path(str(finders.find("vangnet/site.css"))).read_text(encoding="utf-8")
    assert ".chart img { display: block; width: 100%; max-width: 30rem; height: auto; }" in css


def test_the_header_links_to_the_page(client: Client, handler: Any) -> None:
    html = _page(client, handler)
    assert f'href="{reverse("performance:providers")}" aria-current="page"' in html


# ---------------------------------------------------------------------------------------------
# Access: case staff and analysts alike (aggregates, no case file); everyone else 403.


@dataclass(frozen=True)
class AggregateView(StaffView):
    """A page of aggregates, open to ``permission`` (``VIEW_CASES``) or ``also`` (``VIEW_STATISTICS``)."""

    also: str = Permission.VIEW_STATISTICS

    def expected_status(self, permissions: frozenset[str]) -> int:
        return self.success if self.also in permissions else super().expected_status(permissions)


PERFORMANCE_VIEWS = [AggregateView("performance:providers", takes_case=False)]


class TestPerformancePage(StaffViewTests):
    views = PERFORMANCE_VIEWS

    @pytest.fixture
    def scene(self, submit: Any, helpline: Organisation, other_org: Organisation) -> Scene:
        case = submit().report.case
        _notice(case, _provider("social", "Social (example)"), sent=timezone.now() - D, outcome=Outcome.REMOVED,
                took=H)
        return Scene(organisation=helpline, other_organisation=other_org, case=case)

    @pytest.mark.django_db
    def test_an_analyst_never_sees_a_case(self, client: Client, view: StaffView, scene: Scene) -> None:
        """Overrides the shared test: the analyst is let in, and sees figures but never a case."""
        client.force_login(make_user("ana", organisation=scene.organisation, role=Role.ANALYST))
        response = view.call(client, scene)
        assert response.status_code == 200
        body = response.content.decode()
        assert "Social (example)" in body and scene.case.reference not in body

    @pytest.mark.django_db
    def test_staff_of_another_organisation_see_none_of_these_figures(self, client: Client, view: StaffView,
                                                                     scene: Scene) -> None:
        client.force_login(make_user("elsewhere", organisation=scene.other_organisation, role=Role.ADMIN))
        body = view.call(client, scene).content.decode()
        assert "Social (example)" not in body and "data-empty" in body
