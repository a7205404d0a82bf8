import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from vangnet.audit.choices import EventType
from vangnet.audit.models import Event
from vangnet.cases import services
from vangnet.cases.choices import CaseStatus
from vangnet.cases.models import Case, Referral
from vangnet.directory.models import ReferralOrganisation

pytestmark = pytest.mark.django_db


def last_event(event_type):
    return Event.objects.filter(event_type=event_type).order_by("-seq").first()


def test_assign_owner(submit, supervisor, case_owner, handler, outsider) -> None:
    case = submit().report.case
    services.assign_owner(case=case, owner=case_owner, actor=supervisor)
    case.refresh_from_db()
    assert case.owner == case_owner
    event = last_event(EventType.CASE_OWNER_ASSIGNED)
    assert event.case_id == case.pk and event.actor_user == supervisor and event.data["to"] == "carla"
    with pytest.raises(PermissionDenied):
        services.assign_owner(case=case, owner=handler, actor=handler)
    with pytest.raises(ValidationError):
        services.assign_owner(case=case, owner=outsider, actor=supervisor)


def test_status_changes_follow_the_table_and_need_a_reason(submit, handler) -> None:
    case = submit().report.case
    with pytest.raises(ValidationError):
        services.change_status(case=case, status=CaseStatus.IN_PROGRESS, reason="  ", actor=handler)
    with pytest.raises(ValidationError):
        services.change_status(case=case, status=CaseStatus.WAITING, reason="skip", actor=handler)
    services.change_status(case=case, status=CaseStatus.TRIAGED, reason="looked at it", actor=handler)
    case.refresh_from_db()
    assert case.status == CaseStatus.TRIAGED
    event = last_event(EventType.CASE_STATUS_CHANGED)
    assert event.data == {"from": "new", "to": "triaged", "reason": "looked at it"}


def test_staff_of_another_organisation_can_change_nothing(submit, outsider) -> None:
    case = submit().report.case
    for call in (lambda: services.change_status(case=case, status="triaged", reason="x", actor=outsider),
                 lambda: services.add_note(case=case, text="x", actor=outsider),
                 lambda: services.send_message(case=case, report=case.reports.get(), text="x", actor=outsider)):
        with pytest.raises(PermissionDenied):
            call()
    assert not Event.objects.filter(actor_user=outsider).exists()


def test_note_and_message(submit, handler, smtp_inbox, run_worker, django_capture_on_commit_callbacks) -> None:
    submitted = submit(contact_preference="email", contact_email="her@example.org")
    case, report = submitted.report.case, submitted.report
    services.add_note(case=case, text="Called the platform.", actor=handler)
    assert last_event(EventType.CASE_NOTE_ADDED).case_id == case.pk
    run_worker()
    smtp_inbox.messages.clear()  # the receipt
    with django_capture_on_commit_callbacks(execute=True):
        services.send_message(case=case, report=report, text="We removed the photo.", actor=handler)
    run_worker()
    assert len(smtp_inbox.messages) == 1
    mail = smtp_inbox.messages[0]
    assert "We removed the photo" not in mail["body"] and "/nl/followup/" in mail["body"]
    assert last_event(EventType.CASE_MESSAGE_SENT).data == {"report": report.receipt_code}


def test_referral_needs_the_reporters_consent(submit, case_owner, handler, smtp_inbox, run_worker,
                                              django_capture_on_commit_callbacks) -> None:
    submitted = submit(share_with="helpwanted")
    case, report = submitted.report.case, submitted.report
    other = ReferralOrganisation.objects.get(slug="veilig-thuis")
    with pytest.raises(ValidationError):
        services.refer_case(case=case, report=report, organisation=other, summary="s", actor=case_owner)
    with pytest.raises(PermissionDenied):
        services.refer_case(case=case, report=report, organisation=report.consent_share_with, summary="s",
                            actor=handler)
    with django_capture_on_commit_callbacks(execute=True):
        services.refer_case(case=case, report=report, organisation=report.consent_share_with,
                            summary="Ex shared images; needs removal help.", actor=case_owner)
    run_worker()
    case.refresh_from_db()
    assert case.status == CaseStatus.REFERRED
    assert Referral.objects.get().organisation.slug == "helpwanted"
    assert smtp_inbox.messages[0]["to"] == ["overdracht@helpwanted.invalid"]
    assert "needs removal help" in smtp_inbox.messages[0]["body"]
    assert last_event(EventType.CASE_REFERRED).data["organisation"] == "helpwanted"


def test_no_referral_without_consent(submit, case_owner) -> None:
    submitted = submit(share_with="")
    with pytest.raises(ValidationError):
        services.refer_case(case=submitted.report.case, report=submitted.report,
                            organisation=ReferralOrganisation.objects.get(slug="helpwanted"), summary="s",
                            actor=case_owner)
    assert not Referral.objects.exists()


def test_merge_and_split(submit, supervisor, handler) -> None:
    a = submit(urls="https://a.example/1", forms=["sextortion"])
    b = submit(urls="https://b.example/1", forms=["other"], relationship="")
    case_a, case_b = a.report.case, b.report.case
    assert case_a.pk != case_b.pk
    with pytest.raises(PermissionDenied):
        services.merge_cases(source=case_b, target=case_a, actor=handler)
    services.merge_cases(source=case_b, target=case_a, actor=supervisor)
    case_b.refresh_from_db()
    case_a.refresh_from_db()
    assert case_b.merged_into == case_a and case_b.status == CaseStatus.CLOSED
    assert set(case_a.reports.values_list("pk", flat=True)) == {a.report.pk, b.report.pk}
    assert Event.objects.filter(event_type=EventType.CASE_MERGED).count() == 2
    with pytest.raises(ValidationError):
        services.merge_cases(source=case_b, target=case_a, actor=supervisor)

    b.report.refresh_from_db()
    new_case = services.split_report(case=case_a, report=b.report, actor=supervisor)
    b.report.refresh_from_db()
    assert b.report.case == new_case
    new_case.refresh_from_db()
    case_a.refresh_from_db()
    assert case_a.priority == 1 and new_case.priority == 3, "priorities follow the reports they hold"
    with pytest.raises(ValidationError):
        services.split_report(case=new_case, report=b.report, actor=supervisor)


def test_cases_of_different_organisations_cannot_be_merged(submit, helpline, other_org, make_staff) -> None:
    from vangnet.accounts.choices import Role
    from vangnet.accounts.models import Membership

    boss = make_staff("boss", other_org, Role.ADMIN)
    Membership.objects.create(user=boss, organisation=helpline, role=Role.ADMIN)
    mine = submit().report.case
    theirs = submit(organisation=other_org, urls="https://other.example/").report.case
    with pytest.raises(ValidationError):
        services.merge_cases(source=theirs, target=mine, actor=boss)
    assert Case.objects.filter(merged_into__isnull=False).count() == 0
