from io import StringIO

import pytest
from django.db import IntegrityError

from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.cases.choices import CaseEvent, CaseStatus, Priority
from vangnet.cases.models import Case, Message
from vangnet.intake.choices import ReportEvent
from vangnet.intake.models import Report
from vangnet.intake.receipts import hash_secret, normalize_code
from vangnet.intake.services import withdraw_report

pytestmark = pytest.mark.django_db
staff = Actor.staff  # the actor every case service takes


def test_a_report_is_stored_with_a_new_case_and_events(submit) -> None:
    submitted = submit()
    report = Report.objects.get(pk=submitted.report.pk)
    assert report.case is not None and report.case.status == CaseStatus.NEW
    assert report.secret_hash == hash_secret(submitted.secret) and submitted.secret not in report.secret_hash
    assert list(report.urls.values_list("normalized", flat=True)) == ["https://example.com/photo/1"]
    types = list(Event.objects.values_list("event_type", flat=True))
    assert types == [ReportEvent.SUBMITTED, CaseEvent.CREATED, CaseEvent.TRIAGED]
    assert all("My ex" not in str(e.data) for e in Event.objects.all()), "no free text in the event log"


def test_a_report_about_the_same_url_joins_the_open_case(submit) -> None:
    first = submit(urls="https://www.example.com/photo/1/?utm_source=x")
    second = submit(urls="example.com/photo/1", description="I saw it too.", reporter_role="bystander")
    assert first.report.case_id == second.report.case_id
    assert Case.objects.count() == 1
    assert Event.objects.filter(event_type=CaseEvent.REPORT_JOINED).count() == 1


def test_a_closed_case_or_another_organisation_is_not_joined(submit, other_org) -> None:
    first = submit()
    Case.objects.filter(pk=first.report.case_id).update(status=CaseStatus.CLOSED)
    second = submit()
    third = submit(organisation=other_org)
    assert len({first.report.case_id, second.report.case_id, third.report.case_id}) == 3


def test_immediate_danger_makes_the_case_p0(submit) -> None:
    case = submit(immediate_danger="yes").report.case
    case.refresh_from_db()
    assert case.priority == Priority.P0
    assert "Check within the hour whether 112 or the police has been called" in case.required_steps


def test_a_joining_report_can_raise_but_never_lower_the_priority(submit) -> None:
    case = submit(forms=["misogynist-hate-speech"], age_band="18_plus", relationship="").report.case
    case.refresh_from_db()
    assert case.priority == Priority.P3
    submit(forms=["sextortion"])
    case.refresh_from_db()
    assert case.priority == Priority.P1
    submit(forms=["other"], relationship="")
    case.refresh_from_db()
    assert case.priority == Priority.P1


def test_receipt_is_emailed_through_the_worker_without_the_secret(submit, smtp_inbox, run_worker,
                                                                  django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        submitted = submit(contact_preference="email", contact_email="her@example.org", language="en")
    assert smtp_inbox.messages == [], "nothing is sent before the worker runs"
    run_worker()
    assert len(smtp_inbox.messages) == 1
    mail = smtp_inbox.messages[0]
    assert mail["to"] == ["her@example.org"]
    assert submitted.report.receipt_code in mail["body"]
    assert submitted.secret not in mail["body"], "someone reading her mail must not be able to open her report"
    assert "You chose not to receive your secret" in mail["body"]
    assert "/en/followup/" in mail["body"]


def test_receipt_carries_the_secret_only_when_she_chooses(submit, smtp_inbox, run_worker,
                                                          django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        submitted = submit(contact_preference="email", contact_email="her@example.org", email_secret=True)
    run_worker()
    assert submitted.secret in smtp_inbox.messages[0]["body"]
    assert submitted.report.receipt_code in smtp_inbox.messages[0]["body"]


def test_no_receipt_mail_without_an_address(submit, smtp_inbox, run_worker, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        submit()
    run_worker()
    assert smtp_inbox.messages == []


def test_withdraw_erases_personal_data_and_keeps_categories(submit, supervisor) -> None:
    submitted = submit(contact_preference="phone", contact_phone="+31 6 12345678")
    report = submitted.report
    Message.objects.create(case=report.case, report=report, author=supervisor, text="Hello")
    withdraw_report(report=report, actor=Actor.reporter())
    report.refresh_from_db()
    assert report.withdrawn_at is not None
    assert (report.description, report.platform, report.contact_phone, report.contact_email) == ("", "", "", "")
    assert not report.urls.exists() and not report.messages.exists() and report.consent_share_with is None
    assert report.age_band == "18_plus" and list(report.forms.values_list("slug", flat=True)) == [
        "non-consensual-intimate-images"]
    report.case.refresh_from_db()
    assert report.case.status == CaseStatus.CLOSED
    assert Event.objects.filter(event_type=ReportEvent.WITHDRAWN, subject_id=str(report.pk)).count() == 1


def test_withdrawing_one_of_two_reports_keeps_the_case_open(submit) -> None:
    first = submit()
    submit(reporter_role="bystander")
    withdraw_report(report=first.report, actor=Actor.reporter())
    first.report.case.refresh_from_db()
    assert first.report.case.status == CaseStatus.NEW


def test_a_failed_submission_leaves_nothing_behind(submit, monkeypatch) -> None:
    from vangnet.cases import services as case_services

    def broken(**kwargs):
        raise IntegrityError("simulated failure")

    monkeypatch.setattr(case_services, "file_report", broken)
    with pytest.raises(IntegrityError):
        submit()
    assert not Report.objects.exists() and not Event.objects.exists()


@pytest.mark.parametrize(("typed", "code"), [
    ("vn-abcd-efgh", "VN-ABCD-EFGH"), ("ABCD EFGH", "VN-ABCD-EFGH"), (" VN ABCD-EFGH ", "VN-ABCD-EFGH"),
    ("ABC", ""), ("", ""),
])
def test_receipt_codes_are_read_forgivingly(typed: str, code: str) -> None:
    assert normalize_code(typed) == code


def test_retention_erases_personal_data_of_long_closed_cases(submit, supervisor) -> None:
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    from vangnet.cases import services as case_services
    from vangnet.intake.services import apply_retention

    old = submit(contact_preference="email", contact_email="her@example.org").report
    recent = submit(urls="https://other.example/1").report
    still_open = submit(urls="https://third.example/1").report
    case_services.add_note(case=old.case, text="Spoke to her sister.", actor=staff(supervisor))
    for report in (old, recent):
        case_services.change_status(case=report.case, status=CaseStatus.CLOSED, reason="done", actor=staff(supervisor))
    Case.objects.filter(pk=old.case_id).update(closed_at=timezone.now() - timedelta(days=400))

    assert apply_retention(actor=Actor.system()) == 1
    old.refresh_from_db()
    assert old.erased_at is not None and old.description == "" and old.contact_email == ""
    assert not old.urls.exists() and old.forms.exists() and old.age_band == "18_plus"
    assert old.case.notes.get().text == "—"
    assert Event.objects.filter(event_type=ReportEvent.ERASED, subject_id=str(old.pk)).count() == 1
    for report in (recent, still_open):
        report.refresh_from_db()
        assert report.erased_at is None and report.description
    assert apply_retention(actor=Actor.system()) == 0, "erasing twice does nothing"
    out = StringIO()
    call_command("apply_retention", stdout=out)
    assert "0 closed case" in out.getvalue()


def test_reopening_a_case_restarts_its_retention_period(submit, supervisor) -> None:
    from vangnet.cases import services as case_services

    case = submit().report.case
    case_services.change_status(case=case, status=CaseStatus.CLOSED, reason="done", actor=staff(supervisor))
    case.refresh_from_db()
    assert case.closed_at is not None
    case_services.change_status(case=case, status=CaseStatus.IN_PROGRESS, reason="she wrote again",
                                actor=staff(supervisor))
    case.refresh_from_db()
    assert case.closed_at is None
