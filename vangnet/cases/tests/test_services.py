import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.cases import selectors, services
from vangnet.cases.choices import ALLOWED_TRANSITIONS, CaseEvent, CaseStatus
from vangnet.cases.models import Case, Referral
from vangnet.directory.models import ReferralOrganisation
from vangnet.intake.models import Report
from vangnet.intake.services import withdraw_report

pytestmark = pytest.mark.django_db
staff = Actor.staff  # the actor every case service takes


def last_event(event_type):
    return Event.objects.filter(event_type=event_type).order_by("-id").first()


def test_assign_owner(submit, supervisor, case_owner, handler, outsider) -> None:
    case = submit().report.case
    services.assign_owner(case=case, owner=case_owner, actor=staff(supervisor))
    case.refresh_from_db()
    assert case.owner == case_owner
    event = last_event(CaseEvent.OWNER_ASSIGNED)
    assert event.case_id == case.pk and event.actor_user == supervisor and event.data["to"] == "carla"
    with pytest.raises(PermissionDenied):
        services.assign_owner(case=case, owner=handler, actor=staff(handler))
    with pytest.raises(ValidationError):
        services.assign_owner(case=case, owner=outsider, actor=staff(supervisor))


def test_status_changes_follow_the_table_and_need_a_reason(submit, handler) -> None:
    case = submit().report.case
    with pytest.raises(ValidationError):
        services.change_status(case=case, status=CaseStatus.IN_PROGRESS, reason="  ", actor=staff(handler))
    with pytest.raises(ValidationError):
        services.change_status(case=case, status=CaseStatus.WAITING, reason="skip", actor=staff(handler))
    services.change_status(case=case, status=CaseStatus.TRIAGED, reason="looked at it", actor=staff(handler))
    case.refresh_from_db()
    assert case.status == CaseStatus.TRIAGED
    event = last_event(CaseEvent.STATUS_CHANGED)
    assert event.data == {"from": "new", "to": "triaged", "reason": "looked at it"}


def test_staff_of_another_organisation_can_change_nothing(submit, outsider) -> None:
    case = submit().report.case
    for call in (lambda: services.change_status(case=case, status="triaged", reason="x", actor=staff(outsider)),
                 lambda: services.add_note(case=case, text="x", actor=staff(outsider)),
                 lambda: services.send_message(case=case, report=case.reports.get(), text="x", actor=staff(outsider))):
        with pytest.raises(PermissionDenied):
            call()
    assert not Event.objects.filter(actor_user=outsider).exists()


def test_note_and_message(submit, handler, smtp_inbox, run_worker, django_capture_on_commit_callbacks) -> None:
    submitted = submit(contact_preference="email", contact_email="her@example.org")
    case, report = submitted.report.case, submitted.report
    services.add_note(case=case, text="Called the platform.", actor=staff(handler))
    assert last_event(CaseEvent.NOTE_ADDED).case_id == case.pk
    run_worker()
    smtp_inbox.messages.clear()  # the receipt
    with django_capture_on_commit_callbacks(execute=True):
        services.send_message(case=case, report=report, text="We removed the photo.", actor=staff(handler))
    run_worker()
    assert len(smtp_inbox.messages) == 1
    mail = smtp_inbox.messages[0]
    assert "We removed the photo" not in mail["body"] and "/nl/followup/" in mail["body"]
    assert last_event(CaseEvent.MESSAGE_SENT).data == {"report": report.receipt_code}


def test_referral_needs_the_reporters_consent(submit, case_owner, handler, smtp_inbox, run_worker,
                                              django_capture_on_commit_callbacks) -> None:
    submitted = submit(share_with="helpwanted")
    case, report = submitted.report.case, submitted.report
    other = ReferralOrganisation.objects.get(slug="veilig-thuis")
    with pytest.raises(ValidationError):
        services.refer_case(case=case, report=report, organisation=other, summary="s", actor=staff(case_owner))
    with pytest.raises(PermissionDenied):
        services.refer_case(case=case, report=report, organisation=report.consent_share_with, summary="s",
                            actor=staff(handler))
    with django_capture_on_commit_callbacks(execute=True):
        services.refer_case(case=case, report=report, organisation=report.consent_share_with,
                            summary="Ex shared images; needs removal help.", actor=staff(case_owner))
    run_worker()
    case.refresh_from_db()
    assert case.status == CaseStatus.REFERRED
    assert Referral.objects.get().organisation.slug == "helpwanted"
    assert smtp_inbox.messages[0]["to"] == ["overdracht@helpwanted.invalid"]
    assert "needs removal help" in smtp_inbox.messages[0]["body"]
    assert last_event(CaseEvent.REFERRED).data["organisation"] == "helpwanted"
    sent = last_event(CaseEvent.HANDOVER_SENT)
    assert (sent.actor_type, sent.subject_type, sent.case_id, sent.data) == (
        "system", "cases.referral", case.pk, {"organisation": "helpwanted"}), "the timeline shows the mail went out"


def test_no_referral_without_consent(submit, case_owner) -> None:
    submitted = submit(share_with="")
    with pytest.raises(ValidationError):
        services.refer_case(case=submitted.report.case, report=submitted.report,
                            organisation=ReferralOrganisation.objects.get(slug="helpwanted"), summary="s",
                            actor=staff(case_owner))
    assert not Referral.objects.exists()


def test_merge_and_split(submit, supervisor, handler) -> None:
    a = submit(urls="https://a.example/1", forms=["sextortion"])
    b = submit(urls="https://b.example/1", forms=["other"], relationship="")
    case_a, case_b = a.report.case, b.report.case
    assert case_a.pk != case_b.pk
    with pytest.raises(PermissionDenied):
        services.merge_cases(source=case_b, target=case_a, actor=staff(handler))
    services.merge_cases(source=case_b, target=case_a, actor=staff(supervisor))
    case_b.refresh_from_db()
    case_a.refresh_from_db()
    assert case_b.merged_into == case_a and case_b.status == CaseStatus.CLOSED
    assert set(case_a.reports.values_list("pk", flat=True)) == {a.report.pk, b.report.pk}
    assert Event.objects.filter(event_type=CaseEvent.MERGED).count() == 2
    with pytest.raises(ValidationError):
        services.merge_cases(source=case_b, target=case_a, actor=staff(supervisor))

    b.report.refresh_from_db()
    new_case = services.split_report(case=case_a, report=b.report, actor=staff(supervisor))
    b.report.refresh_from_db()
    assert b.report.case == new_case
    new_case.refresh_from_db()
    case_a.refresh_from_db()
    assert case_a.priority == 1 and new_case.priority == 3, "priorities follow the reports they hold"
    with pytest.raises(ValidationError):
        services.split_report(case=new_case, report=b.report, actor=staff(supervisor))


def test_cases_of_different_organisations_cannot_be_merged(submit, helpline, other_org, make_staff) -> None:
    from vangnet.accounts.choices import Role
    from vangnet.accounts.models import Membership

    boss = make_staff("boss", other_org, Role.ADMIN)
    Membership.objects.create(user=boss, organisation=helpline, role=Role.ADMIN)
    mine = submit().report.case
    theirs = submit(organisation=other_org, urls="https://other.example/").report.case
    with pytest.raises(ValidationError):
        services.merge_cases(source=theirs, target=mine, actor=staff(boss))
    assert Case.objects.filter(merged_into__isnull=False).count() == 0


# --- What mutation testing showed no test pinned (scripts/mutation) ---------------------------


# Equivalent mutants that survive in cases/services.py (scripts/mutation):
# - every ``save(update_fields=[...])`` -> ``update_fields=None``: saving all fields stores the
#   same values (the difference shows only with a concurrent writer of other fields);
# - ``ALLOWED_TRANSITIONS.get(status, frozenset())`` without the default: every status is in the table;
# - ``zip(..., strict=True)`` without ``strict`` and ``referral_ids.get(name, ())`` without the default:
#   bulk_create returns one outcome per fired rule, and every fired rule is an active rule;
# - ``... if rule.pk else None`` -> ``if rule.pk or True``: a new rule's ``filter(pk=None)`` finds nothing;
# - ``_lock_urls`` and ``lock=True``: advisory locks and SELECT ... FOR UPDATE do nothing on the SQLite
#   test database; test_concurrency.py exercises them on PostgreSQL (CI), which mutmut does not use.


@pytest.fixture
def en():
    with translation.override("en"):
        yield


def refused(call, field: str | None = None) -> list[str] | str:
    """The messages staff read when a service refuses."""
    try:
        call()
    except ValidationError as exc:
        return exc.message_dict[field] if field else exc.messages
    except PermissionDenied as exc:
        return str(exc)
    raise AssertionError("the service did not refuse")


def test_staff_read_exactly_why_a_case_action_was_refused(en, submit, supervisor, handler, outsider) -> None:
    first = submit(urls="https://a.example/1")
    second = submit(urls="https://b.example/1", contact_preference="email", contact_email="b@example.org")
    case, report, other_case = first.report.case, first.report, second.report.case
    assert refused(lambda: services.add_note(case=case, text="x", actor=staff(outsider))) == (
        "You may not do this for this case.")
    assert refused(lambda: services.assign_owner(case=case, owner=outsider, actor=staff(supervisor)), "owner") == [
        "The case owner must work on cases in this organisation."]
    assert refused(lambda: services.change_status(case=case, status="triaged", reason=" \n", actor=staff(handler)),
                   "reason") == ["This field is required."]
    assert refused(lambda: services.change_status(case=case, status="archived", reason="r", actor=staff(handler)),
                   "status") == ["Unknown status."]
    assert refused(lambda: services.change_status(case=case, status="waiting", reason="r", actor=staff(handler)),
                   "status") == ["A case cannot go from New to Waiting."]
    assert refused(lambda: services.add_note(case=case, text="", actor=staff(handler)), "text") == [
        "This field is required."]
    assert refused(lambda: services.add_note(case=case, text="x" * 10_001, actor=staff(handler)), "text") == [
        "Keep this under 10000 characters."]
    assert refused(lambda: services.send_message(case=case, report=second.report, text="hi", actor=staff(handler)),
                   "report") == ["This report is not part of this case."]
    assert refused(lambda: services.refer_case(case=other_case, report=report, organisation=report.consent_share_with,
                                               summary="s", actor=staff(supervisor)), "report") == [
        "This report is not part of this case."]
    veilig_thuis = ReferralOrganisation.objects.get(slug="veilig-thuis")
    assert refused(lambda: services.refer_case(case=case, report=report, organisation=veilig_thuis, summary="s",
                                               actor=staff(supervisor)), "organisation") == [
        "The reporter did not consent to sharing her report with this organisation."]
    assert refused(lambda: services.refer_case(case=case, report=report, organisation=report.consent_share_with,
                                               summary="  ", actor=staff(supervisor)), "summary") == [
        "This field is required."]
    assert refused(lambda: services.merge_cases(source=case, target=case, actor=staff(supervisor)), "target") == [
        "A case cannot be merged into itself."]
    assert refused(lambda: services.split_report(case=case, report=report, actor=staff(supervisor)), "report") == [
        "A case with one report cannot be split."]
    assert refused(lambda: services.split_report(case=case, report=second.report, actor=staff(supervisor)),
                   "report") == [
        "This report is not part of this case."]
    services.merge_cases(source=other_case, target=case, actor=staff(supervisor))
    other_case.refresh_from_db()
    assert refused(lambda: services.merge_cases(source=other_case, target=case, actor=staff(supervisor)), "target") == [
        "This case was already merged."]
    assert refused(lambda: services.merge_cases(source=case, target=other_case, actor=staff(supervisor)), "target") == [
        "This case was already merged."]
    withdrawn = withdraw_report(report=second.report, actor=Actor.reporter())
    assert refused(lambda: services.send_message(case=case, report=withdrawn, text="hi", actor=staff(handler)),
                   "report") == ["This report was withdrawn; the reporter can no longer be reached."]
    assert refused(lambda: services.refer_case(case=case, report=withdrawn,
                                               organisation=report.consent_share_with, summary="s",
                                               actor=staff(supervisor)), "organisation") == [
        "The reporter did not consent to sharing her report with this organisation."]


def test_cases_of_other_organisations_are_refused_in_their_own_words(en, submit, helpline, other_org,
                                                                     make_staff) -> None:
    from vangnet.accounts.choices import Role
    from vangnet.accounts.models import Membership

    boss = make_staff("boss", other_org, Role.ADMIN)
    Membership.objects.create(user=boss, organisation=helpline, role=Role.ADMIN)
    mine = submit().report.case
    theirs = submit(organisation=other_org, urls="https://other.example/").report.case
    assert refused(lambda: services.merge_cases(source=theirs, target=mine, actor=staff(boss)), "target") == [
        "Only cases of the same organisation can be merged."]


def test_texts_are_stripped_and_the_length_limit_is_inclusive(submit, handler) -> None:
    case = submit().report.case
    note = services.add_note(case=case, text="  Called the platform.\n", actor=staff(handler))
    assert note.text == "Called the platform." and note.author == handler and note.case == case
    longest = services.add_note(case=case, text="x" * 10_000, actor=staff(handler))
    assert len(longest.text) == 10_000
    event = last_event(CaseEvent.NOTE_ADDED)
    assert (event.subject_type, event.subject_id, event.case_id, event.organisation_id, event.actor_user,
            event.data) == ("cases.internalnote", str(longest.pk), case.pk, case.organisation_id, handler, {})


def test_every_status_change_follows_the_table(submit, handler) -> None:
    case = submit().report.case
    for old in CaseStatus.values:
        for new in CaseStatus.values:
            Case.objects.filter(pk=case.pk).update(status=old)
            allowed = new in ALLOWED_TRANSITIONS[old]
            try:
                changed = services.change_status(case=case, status=new, reason="r", actor=staff(handler))
            except ValidationError:
                assert not allowed, (old, new)
                assert Case.objects.get(pk=case.pk).status == old
            else:
                assert allowed, (old, new)
                assert changed.status == new == Case.objects.get(pk=case.pk).status
                assert (changed.closed_at is not None) == (new == CaseStatus.CLOSED)
                event = last_event(CaseEvent.STATUS_CHANGED)
                assert (event.data, event.subject_type, event.subject_id, event.case_id, event.actor_user) == (
                    {"from": old, "to": new, "reason": "r"}, "cases.case", str(case.pk), case.pk, handler)


def test_assigning_again_records_who_had_the_case(submit, supervisor, case_owner, handler) -> None:
    case = submit().report.case
    services.assign_owner(case=case, owner=case_owner, actor=staff(supervisor))
    assert last_event(CaseEvent.OWNER_ASSIGNED).data == {"from": None, "to": "carla"}
    assigned = services.assign_owner(case=case, owner=handler, actor=staff(supervisor))
    assert assigned.owner == handler
    event = last_event(CaseEvent.OWNER_ASSIGNED)
    assert (event.data, event.subject_type, event.subject_id, event.case_id) == (
        {"from": "carla", "to": "hans"}, "cases.case", str(case.pk), case.pk)


def test_a_reporter_without_e_mail_is_not_mailed(submit, handler, django_capture_on_commit_callbacks) -> None:
    by_phone = submit(contact_preference="phone", contact_phone="+31 6 12345678").report
    Report.objects.filter(pk=by_phone.pk).update(contact_email="old@example.org")  # she chose the phone
    by_phone.refresh_from_db()
    with django_capture_on_commit_callbacks() as callbacks:
        message = services.send_message(case=by_phone.case, report=by_phone, text="  Hello  ", actor=staff(handler))
    assert callbacks == []
    assert (message.text, message.report, message.author) == ("Hello", by_phone, handler)
    event = last_event(CaseEvent.MESSAGE_SENT)
    assert (event.subject_type, event.subject_id, event.case_id, event.organisation_id) == (
        "cases.message", str(message.pk), by_phone.case_id, by_phone.organisation_id)
    with pytest.raises(ValidationError) as caught:
        services.send_message(case=by_phone.case, report=by_phone, text=" ", actor=staff(handler))
    assert list(caught.value.message_dict) == ["text"]


def test_referring_again_keeps_the_status_and_an_organisation_without_address_gets_no_mail(
        submit, case_owner, django_capture_on_commit_callbacks) -> None:
    fier = ReferralOrganisation.objects.get(slug="fier")
    fier.handover_email = ""
    fier.save(update_fields=["handover_email"])
    first = submit(share_with="helpwanted").report
    case = first.case
    with django_capture_on_commit_callbacks() as callbacks:
        referral = services.refer_case(case=case, report=first, organisation=first.consent_share_with,
                                       summary=" Needs removal help. ", actor=staff(case_owner))
    assert len(callbacks) == 1 and referral.summary == "Needs removal help." and referral.created_by == case_owner
    status_event = last_event(CaseEvent.STATUS_CHANGED)
    assert status_event.data == {"from": "new", "to": "referred", "reason": "referred to helpwanted"}
    referred = last_event(CaseEvent.REFERRED)
    assert (referred.subject_type, referred.subject_id, referred.case_id, referred.organisation_id, referred.data) == (
        "cases.referral", str(referral.pk), case.pk, case.organisation_id,
        {"organisation": "helpwanted", "report": first.receipt_code})

    second = submit(reporter_role="bystander", share_with="").report
    Report.objects.filter(pk=second.pk).update(consent_share_with=fier)
    second.refresh_from_db()
    with django_capture_on_commit_callbacks() as callbacks:
        services.refer_case(case=case, report=second, organisation=fier, summary="s", actor=staff(case_owner))
    assert callbacks == []
    assert Event.objects.filter(event_type=CaseEvent.STATUS_CHANGED).count() == 1, "already referred"
    case.refresh_from_db()
    assert case.status == CaseStatus.REFERRED


def test_merging_moves_everything_and_keeps_the_most_urgent_priority(submit, supervisor, handler) -> None:
    target = submit(urls="https://a.example/1", forms=["other"], relationship="", share_with="helpwanted").report
    source = submit(urls="https://b.example/1", forms=["sextortion"], relationship="", share_with="helpwanted").report
    target_case, source_case = target.case, source.case
    Case.objects.filter(pk=target_case.pk).update(required_steps=["Call her back", "Offer help with a police report"])
    target_case.refresh_from_db()
    assert target_case.priority == 3
    services.add_note(case=source_case, text="note", actor=staff(handler))
    services.send_message(case=source_case, report=source, text="msg", actor=staff(handler))
    services.refer_case(case=source_case, report=source, organisation=source.consent_share_with, summary="s",
                        actor=staff(supervisor))
    merged = services.merge_cases(source=source_case, target=target_case, actor=staff(supervisor))
    assert merged.pk == target_case.pk
    merged.refresh_from_db()
    assert merged.priority == 1
    assert merged.required_steps == ["Call her back", "Offer help with a police report",
                                     "Advise the reporter not to pay and to keep the conversation"]
    for related in ("reports", "notes", "messages", "triage_outcomes", "referrals"):
        assert getattr(merged, related).count() == getattr(merged, related).filter(case=merged).count() >= 1, related
        assert not getattr(source_case, related).exists(), related
    source_case.refresh_from_db()
    assert (source_case.merged_into, source_case.status) == (merged, CaseStatus.CLOSED)
    assert source_case.closed_at is not None
    events = Event.objects.filter(event_type=CaseEvent.MERGED).order_by("seq")
    data = {"source": source_case.reference, "target": merged.reference}
    assert [(e.case_id, e.subject_id, e.data) for e in events] == [
        (source_case.pk, str(source_case.pk), data), (merged.pk, str(merged.pk), data)]


def test_splitting_takes_the_reports_triage_and_messages_along(submit, supervisor, handler) -> None:
    first = submit(urls="https://a.example/1", forms=["other"], relationship="").report
    second = submit(urls="https://a.example/1", forms=["sextortion"], relationship="").report
    case = first.case
    assert second.case_id == case.pk
    case.refresh_from_db()
    assert case.priority == 1
    services.send_message(case=case, report=second, text="to the second", actor=staff(handler))
    services.send_message(case=case, report=first, text="to the first", actor=staff(handler))
    new_case = services.split_report(case=case, report=second, actor=staff(supervisor))
    new_case.refresh_from_db()
    case.refresh_from_db()
    assert (new_case.status, new_case.organisation_id, new_case.priority) == (CaseStatus.NEW, case.organisation_id, 1)
    assert re.fullmatch(r"C-[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{8}", new_case.reference)
    assert new_case.reference != case.reference
    assert new_case.required_steps == ["Advise the reporter not to pay and to keep the conversation",
                                       "Offer help with a police report"]
    assert list(new_case.messages.values_list("text", flat=True)) == ["to the second"]
    assert list(case.messages.values_list("text", flat=True)) == ["to the first"]
    assert list(new_case.triage_outcomes.values_list("rule_name", flat=True)) == ["Sextortion"]
    assert case.priority == 3, "the case keeps only its own reports' urgency"
    events = Event.objects.filter(event_type=CaseEvent.SPLIT).order_by("seq")
    data = {"report": second.receipt_code, "from": case.reference, "to": new_case.reference}
    assert [(e.case_id, e.data) for e in events] == [(case.pk, data), (new_case.pk, data)]


def test_a_report_split_from_a_case_already_at_work_starts_triaged(submit, supervisor, handler) -> None:
    first = submit().report
    second = submit(reporter_role="bystander").report
    case = services.change_status(case=first.case, status=CaseStatus.IN_PROGRESS, reason="on it", actor=staff(handler))
    new_case = services.split_report(case=case, report=second, actor=staff(supervisor))
    assert new_case.status == CaseStatus.TRIAGED


def test_a_case_closes_only_when_every_report_is_withdrawn(en, submit) -> None:
    first = submit().report
    second = submit(reporter_role="bystander").report
    case = first.case
    Report.objects.filter(pk=first.pk).update(withdrawn_at=timezone.now())
    services.close_if_no_active_reports(case=case, actor=Actor.system(), reason="every report was withdrawn")
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW
    Report.objects.filter(pk=second.pk).update(withdrawn_at=timezone.now())
    services.close_if_no_active_reports(case=case, actor=Actor.system(), reason="every report was withdrawn")
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.closed_at is not None
    event = last_event(CaseEvent.STATUS_CHANGED)
    assert (event.actor_type, event.data) == ("system", {"from": "new", "to": "closed",
                                                         "reason": "every report was withdrawn"})
    services.close_if_no_active_reports(case=case, actor=Actor.system(), reason="again")
    assert Event.objects.filter(event_type=CaseEvent.STATUS_CHANGED).count() == 1, "a closed case stays as is"


def test_erasing_a_cases_texts_keeps_the_rows(submit, supervisor, handler) -> None:
    report = submit(share_with="helpwanted").report
    case = report.case
    services.add_note(case=case, text="Spoke to her sister.", actor=staff(handler))
    services.send_message(case=case, report=report, text="We removed it.", actor=staff(handler))
    services.refer_case(case=case, report=report, organisation=report.consent_share_with, summary="Her story.",
                        actor=staff(supervisor))
    services.change_status(case=case, status=CaseStatus.CLOSED, reason="done", actor=staff(supervisor))
    case.refresh_from_db()
    services.erase_case_texts(case=case, actor=Actor.system())
    case.refresh_from_db()
    assert case.texts_erased_at is not None
    assert [n.text for n in case.notes.all()] == ["—"]
    assert [m.text for m in case.messages.all()] == ["—"]
    assert [r.summary for r in case.referrals.all()] == ["—"]
    event = last_event(CaseEvent.ERASED)
    assert (event.actor_type, event.subject_type, event.subject_id, event.case_id, event.data) == (
        "system", "cases.case", str(case.pk), case.pk, {"closed_at": str(case.closed_at)})


def test_a_new_report_joins_the_oldest_open_case_about_its_url(submit, supervisor) -> None:
    first = submit(urls="https://a.example/1").report
    second = submit(urls="https://a.example/1\nhttps://b.example/2", reporter_role="bystander").report
    oldest = first.case
    split_off = services.split_report(case=oldest, report=second, actor=staff(supervisor))
    third = submit(urls="https://b.example/2\nhttps://a.example/1", reporter_role="parent").report
    assert third.case_id == oldest.pk != split_off.pk
    joined = last_event(CaseEvent.REPORT_JOINED)
    assert (joined.subject_type, joined.subject_id, joined.case_id, joined.data) == (
        "cases.case", str(oldest.pk), oldest.pk, {"report": third.receipt_code, "reason": "same URL as an open case"})
    assert selectors.find_open_case_for_urls(organisation_id=oldest.organisation_id, url_hashes=[]) is None


def test_a_report_without_urls_opens_its_own_case(submit) -> None:
    first = submit(urls="").report
    second = submit(urls="").report
    assert first.case_id != second.case_id


def test_a_merged_case_is_not_joined(submit, supervisor) -> None:
    a = submit(urls="https://a.example/1").report
    b = submit(urls="https://b.example/1").report
    services.merge_cases(source=b.case, target=a.case, actor=staff(supervisor))
    later = submit(urls="https://b.example/1").report
    assert later.case_id == a.case_id


def test_filing_records_why_each_rule_fired_and_what_it_suggests(submit) -> None:
    report = submit(immediate_danger="yes", forms=["sextortion"], relationship="").report
    case = report.case
    case.refresh_from_db()
    assert case.priority == 0
    outcomes = {o.rule_name: o for o in case.triage_outcomes.all()}
    assert set(outcomes) == {"Immediate danger", "Sextortion"}
    danger = outcomes["Immediate danger"]
    assert (danger.reason, danger.priority, danger.report) == ("immediate_danger = yes", 0, report)
    assert danger.required_steps == ["Check within the hour whether 112 or the police has been called",
                                     "Contact the reporter today if she left contact details"]
    assert set(danger.suggested_referrals.values_list("slug", flat=True)) == {"112", "politie"}
    assert set(outcomes["Sextortion"].suggested_referrals.values_list("slug", flat=True)) == {
        "politie", "helpwanted", "113"}
    assert case.required_steps == [*danger.required_steps, *outcomes["Sextortion"].required_steps]
    created = last_event(CaseEvent.CREATED)
    assert (created.subject_type, created.subject_id, created.case_id, created.data) == (
        "cases.case", str(case.pk), case.pk, {"reference": case.reference, "report": report.receipt_code})
    assert re.fullmatch(r"C-[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]{8}", case.reference)
    triaged = last_event(CaseEvent.TRIAGED)
    assert (triaged.subject_type, triaged.subject_id, triaged.case_id) == ("cases.case", str(case.pk), case.pk)
    assert triaged.data == {"report": report.receipt_code, "rules": ["Immediate danger", "Sextortion"],
                            "priority": 0}
    assert triaged.actor_type == created.actor_type == "reporter"


def test_a_joining_report_adds_only_new_steps_in_order(submit) -> None:
    case = submit(forms=["sextortion"], relationship="").report.case
    submit(forms=["sextortion", "non-consensual-intimate-images"], relationship="", reporter_role="bystander")
    case.refresh_from_db()
    steps = ["Advise the reporter not to pay and to keep the conversation", "Offer help with a police report",
             "Secure evidence of every URL", "Send removal requests to the providers"]
    assert case.required_steps == steps
    submit(forms=["other"], relationship="", reporter_role="parent")
    case.refresh_from_db()
    assert case.required_steps == steps, "a report that fires no rule keeps the steps there are"


def test_filing_is_one_call_that_reads_what_it_is_not_given(submit) -> None:
    from vangnet.intake.models import Report, ReportedUrl
    from vangnet.taxonomy.models import FormOfViolence

    first = submit(urls="https://same.example/post/1").report
    second = Report.objects.create(receipt_code="VN-TEST-0002", secret_hash="x", organisation=first.organisation,
                                   reporter_role="bystander", age_band="12_15", consent_processing=True)
    second.forms.set(FormOfViolence.objects.filter(slug="non-consensual-intimate-images"))
    url = first.urls.get()
    ReportedUrl.objects.create(report=second, url=url.url, normalized=url.normalized,
                               normalized_hash=url.normalized_hash)
    case = services.file_report(report=second, actor=Actor.partner("api:test"))
    second.refresh_from_db()
    assert case.pk == second.case_id == first.case_id, "the same URL meets the open case"
    assert "Minor and sexual imagery" in set(case.triage_outcomes.filter(report=second).values_list(
        "rule_name", flat=True)), "triage read the forms from the stored report"
    joined = last_event(CaseEvent.REPORT_JOINED)
    assert (joined.actor_label, joined.case_id, joined.data["report"]) == ("api:test", case.pk, "VN-TEST-0002")


def test_saving_a_triage_rule_logs_what_changed_and_only_that(supervisor) -> None:
    from vangnet.cases.choices import TriageRuleEvent
    from vangnet.cases.models import TriageRule

    rule = services.save_triage_rule(actor=Actor.staff(supervisor), rule=TriageRule(
        name="Doxing of a minor", explanation="x", conditions={"forms_any": ["doxing"]}, priority=1,
        required_steps=["Call her"], order=5))
    created = last_event(TriageRuleEvent.CREATED)
    assert (created.subject_type, created.subject_id, created.actor_user, created.case_id) == (
        "cases.triagerule", str(rule.pk), supervisor, None)
    assert created.data == {"changed": ["name", "conditions", "priority", "required_steps", "is_active", "order"],
                            "name": "Doxing of a minor", "conditions": {"forms_any": ["doxing"]}, "priority": 1,
                            "required_steps": ["Call her"], "is_active": True, "order": 5}
    rule.priority = 0
    rule.explanation = "not logged: an explanation is no rule"
    services.save_triage_rule(rule=rule, actor=Actor.staff(supervisor))
    assert last_event(TriageRuleEvent.CHANGED).data == {"changed": ["priority"], "priority": 0}
    services.save_triage_rule(rule=rule, actor=Actor.staff(supervisor))
    assert Event.objects.filter(event_type=TriageRuleEvent.CHANGED).count() == 1, "saving unchanged logs nothing"
    rule.conditions = {"colour": ["red"]}
    with pytest.raises(ValidationError):
        services.save_triage_rule(rule=rule, actor=Actor.staff(supervisor))
    assert TriageRule.objects.get(pk=rule.pk).conditions == {"forms_any": ["doxing"]}
    assert Event.objects.filter(event_type=TriageRuleEvent.CHANGED).count() == 1


def test_filing_reads_forms_and_urls_from_the_report_when_not_given(submit) -> None:
    from vangnet.intake.models import ReportedUrl
    from vangnet.taxonomy.models import FormOfViolence

    first = submit(urls="https://a.example/1").report
    second = Report.objects.create(
        receipt_code="VN-TEST-0002", secret_hash="0" * 64, organisation=first.organisation, channel="web",
        language="nl", reporter_role="parent", age_band="12_15", consent_processing=True)
    second.forms.set([FormOfViolence.objects.get(slug="non-consensual-intimate-images")])
    [url] = first.urls.all()
    ReportedUrl.objects.create(report=second, url=url.url, normalized=url.normalized,
                               normalized_hash=url.normalized_hash)
    case = services.file_report(report=second, actor=Actor.reporter(second.receipt_code))
    assert case.pk == first.case_id and Report.objects.get(pk=second.pk).case_id == case.pk
    rules = set(case.triage_outcomes.filter(report=second).values_list("rule_name", flat=True))
    assert "Minor and sexual imagery" in rules, "the forms were read from the report"
    assert Case.objects.get(pk=case.pk).priority == 1
