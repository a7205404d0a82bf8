import pytest
from django.utils import timezone

from vangnet.cases.choices import CaseStatus
from vangnet.cases.models import Case

pytestmark = pytest.mark.django_db

# Who may open each page and action (anonymous, every role, other organisations, analysts)
# is tested once for all staff pages in test_access.py.


def test_the_case_page_offers_only_the_actions_her_role_allows(client, submit, handler, supervisor) -> None:
    case = submit().report.case
    client.force_login(handler)
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert 'data-action="assign"' not in page and 'data-action="merge"' not in page
    client.force_login(supervisor)
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert 'data-action="assign"' in page and 'data-action="merge"' in page


def test_queue_orders_by_priority_then_waiting_time(client, submit, handler) -> None:
    old_p3 = submit(urls="https://a.example/", forms=["other"], relationship="").report.case
    new_p3 = submit(urls="https://b.example/", forms=["other"], relationship="").report.case
    p0 = submit(urls="https://c.example/", immediate_danger="yes").report.case
    Case.objects.filter(pk=old_p3.pk).update(created_at=timezone.now() - timezone.timedelta(days=2))
    client.force_login(handler)
    page = client.get("/staff/cases/").content.decode()
    positions = [page.index(c.reference) for c in (p0, old_p3, new_p3)]
    assert positions == sorted(positions)


def test_queue_filters(client, submit, handler) -> None:
    p0 = submit(urls="https://c.example/", immediate_danger="yes").report.case
    other = submit(urls="https://d.example/", forms=["other"], relationship="").report.case
    client.force_login(handler)
    page = client.get("/staff/cases/", {"priority": "0", "status": "open"}).content.decode()
    assert p0.reference in page and other.reference not in page
    page = client.get("/staff/cases/", {"query": other.reports.get().receipt_code}).content.decode()
    assert other.reference in page and p0.reference not in page
    assert client.get("/staff/cases/", {"priority": "banana"}).status_code == 200


def test_case_page_shows_why_rules_fired_and_the_timeline(client, submit, handler) -> None:
    case = submit(immediate_danger="yes").report.case
    client.force_login(handler)
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "Immediate danger" in page and "immediate_danger = yes" in page
    assert 'data-event="case.created"' in page and 'data-event="case.triaged"' in page


def test_an_invalid_action_shows_the_error_and_changes_nothing(client, submit, handler) -> None:
    case = submit().report.case
    client.force_login(handler)
    response = client.post(f"/staff/cases/{case.pk}/status/", {"status-status": "waiting", "status-reason": "why"})
    assert response.status_code == 400
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW


def test_staff_login_is_throttled(client, handler, settings) -> None:
    for _ in range(5):
        client.post("/staff/login/", {"username": "hans", "password": "wrong"})
    response = client.post("/staff/login/", {"username": "hans", "password": "correct-horse-battery-staple"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize(("language", "page_text", "error_text"), [
    ("en", "Change status", "This field is required."),
    ("nl", "Status wijzigen", "Dit veld is verplicht."),
])
def test_staff_pages_and_their_errors_speak_the_staff_members_language(client, submit, handler, language, page_text,
                                                                       error_text) -> None:
    case = submit().report.case
    client.force_login(handler)
    client.post("/i18n/setlang/", {"language": language, "next": "/staff/cases/"})
    response = client.post(f"/staff/cases/{case.pk}/status/", {"status-status": "triaged", "status-reason": ""},
                           HTTP_ACCEPT_LANGUAGE="nl" if language == "en" else "en")
    page = response.content.decode()
    assert response.status_code == 400 and f'lang="{language}"' in page
    assert page_text in page and error_text in page


def test_the_case_owner_sets_and_lifts_a_legal_hold_from_the_case_page(client, submit, case_owner, supervisor) -> None:
    from vangnet.audit.services import Actor
    from vangnet.cases.services import assign_owner

    case = submit().report.case
    client.force_login(case_owner)
    assert 'data-action="hold"' not in client.get(f"/staff/cases/{case.pk}/").content.decode(), "not her case yet"
    assign_owner(case=case, owner=case_owner, actor=Actor.staff(supervisor))
    assert 'data-action="hold"' in client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert client.post(f"/staff/cases/{case.pk}/legal-hold/", {"hold-reason": "  "}).status_code == 400
    case.refresh_from_db()
    assert not case.on_legal_hold
    response = client.post(f"/staff/cases/{case.pk}/legal-hold/", {"hold-reason": "Police request PV-118"}, follow=True)
    page = response.content.decode()
    assert "Police request PV-118" in page and 'data-action="lift"' in page
    case.refresh_from_db()
    assert case.on_legal_hold and case.legal_hold_set_by == case_owner
    assert client.post(f"/staff/cases/{case.pk}/legal-hold/lift/", {}).status_code == 400, "lifting needs a yes"
    case.refresh_from_db()
    assert case.on_legal_hold
    client.post(f"/staff/cases/{case.pk}/legal-hold/lift/", {"lift-confirm": "on"})
    case.refresh_from_db()
    assert not case.on_legal_hold
    timeline = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert 'data-event="case.legal_hold_set"' in timeline and 'data-event="case.legal_hold_lifted"' in timeline
