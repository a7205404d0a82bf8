"""What the reporter's actions store and log, pinned where mutation testing found nothing checked it."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import report_payload
from vangnet.accounts.services import create_api_token
from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.cases import services as case_services
from vangnet.cases.choices import CaseEvent, CaseStatus
from vangnet.cases.models import Case, Message, TriageRule
from vangnet.intake import receipts, services
from vangnet.intake.choices import Channel, ReportEvent
from vangnet.intake.forms import ReportForm
from vangnet.intake.models import Report, ReportedUrl
from vangnet.intake.normalization import check_url

pytestmark = pytest.mark.django_db

# Equivalent mutants that survive in intake/services.py (scripts/mutation):
# - the default ``language="nl"`` or the set ``{"nl", "en"}`` spelled otherwise: "nl" is also the fallback;
# - ``data.get("share_with") or "XXXX"``: no organisation has that slug either;
# - ``file_report(..., forms=None)``: file_report then reads the same forms from the report;
# - ``save(update_fields=None)``: the same values are stored; ``FollowupAttempts(attempts=0)`` without
#   ``attempts``: 0 is the model's default;
# - in ``rehash_urls``: the default batch size, ``iterator(chunk_size=None)`` and ``only()`` with a field
#   fewer (a deferred field is loaded when read).
staff = Actor.staff  # the actor every case service takes

CODE_CHARS = "[23456789ABCDEFGHJKLMNPQRSTUVWXYZ]"


def events(event_type: str) -> list[Event]:
    return list(Event.objects.filter(event_type=event_type).order_by("id"))


def test_codes_and_secrets_have_the_printed_shape() -> None:
    codes = {receipts.new_receipt_code() for _ in range(50)}
    assert len(codes) == 50
    assert all(re.fullmatch(rf"VN-{CODE_CHARS}{{4}}-{CODE_CHARS}{{4}}", code) for code in codes)
    secret = receipts.new_secret()
    assert re.fullmatch(rf"{CODE_CHARS.lower()}{{4}}(-{CODE_CHARS.lower()}{{4}}){{3}}", secret)


def test_the_stored_secret_hash_is_a_known_answer() -> None:
    # Stored for every report: a change of format would lock every reporter out of her report.
    expected = "0902a666d6be7dd536af75cc7692f7f37a04ef5de60c399d91311a1b62f15caa"
    for typed in ("abcd-efgh-jklm-npqr", "ABCD EFGH JKLM NPQR", " abcdefghjklmnpqr\n"):
        assert receipts.hash_secret(typed) == expected


@pytest.mark.parametrize(("typed", "code"), [
    ("VNABCDEFGH", "VN-ABCD-EFGH"), ("vn abcd efgh", "VN-ABCD-EFGH"), ("VN–ABCD–EFGH", "VN-ABCD-EFGH"),
    ("ABCDEFGHJ", ""), ("VN-ABCD-EFG", ""), ("VN", ""),
    # one code in 1024 starts with "VN" itself: typed without the prefix it is still that code
    ("VNAB-CDEF", "VN-VNAB-CDEF"), ("vnab cdef", "VN-VNAB-CDEF"), ("VN-VNAB-CDEF", "VN-VNAB-CDEF"),
])
def test_more_ways_to_type_a_receipt_code(typed: str, code: str) -> None:
    assert receipts.normalize_code(typed) == code


def test_a_report_stores_every_answer(helpline) -> None:
    token, _plain = create_api_token(organisation=helpline, name="partner", actor=Actor.system())
    form = ReportForm(data=report_payload(
        immediate_danger="yes", reporter_role="bystander", forms=["doxing", "threats"], description="He posted it.",
        urls="https://www.Example.com/a/?utm_source=x\nexample.org/b", platform="X", age_band="16_17",
        relationship="stranger", perpetrator_count="several", duration="months", contact_preference="phone",
        contact_phone="+31 6 12345678", share_with="helpwanted"))
    assert form.is_valid(), form.errors
    submitted = services.submit_report(data=form.cleaned_data, organisation=helpline, channel=Channel.API,
                                       actor=Actor.partner("api:partner"), language="en", api_token=token)
    report = Report.objects.get(pk=submitted.report.pk)
    assert receipts.secret_matches(report, submitted.secret)
    wrong_last = "y" if submitted.secret.endswith("x") else "x"  # a different secret, whatever it ended with
    assert not receipts.secret_matches(report, submitted.secret[:-1] + wrong_last)
    assert (report.organisation, report.channel, report.submitted_via, report.language) == (
        helpline, "api", token, "en")
    assert (report.reporter_role, report.description, report.platform, report.immediate_danger) == (
        "bystander", "He posted it.", "X", True)
    assert (report.age_band, report.relationship, report.perpetrator_count, report.duration) == (
        "16_17", "stranger", "several", "months")
    assert (report.contact_preference, report.contact_email, report.contact_phone) == ("phone", "", "+31 6 12345678")
    assert report.consent_processing is True and report.consent_share_with.slug == "helpwanted"
    assert sorted(report.forms.values_list("slug", flat=True)) == ["doxing", "threats"]
    stored = sorted(report.urls.values_list("url", "normalized", "normalized_hash"))
    expected = [check_url("example.org/b"), check_url("https://www.Example.com/a/?utm_source=x")]
    assert stored == [(u.original, u.normalized, u.digest) for u in expected]
    [event] = events(ReportEvent.SUBMITTED)
    assert (event.subject_type, event.subject_id, event.case_id, event.actor_type, event.actor_label) == (
        "intake.report", str(report.pk), None, "partner", "api:partner")  # stored before it is filed
    assert event.organisation_id == report.organisation_id
    assert event.data == {"receipt_code": report.receipt_code, "channel": "api", "urgent": True}


def test_an_unknown_language_falls_back_to_dutch_and_no_contact_is_the_default(submit, helpline) -> None:
    form = ReportForm(data=report_payload())
    assert form.is_valid(), form.errors
    report = services.submit_report(data={**form.cleaned_data, "contact_preference": ""}, organisation=helpline,
                                    channel=Channel.WEB, actor=Actor.reporter(), language="de").report
    report.refresh_from_db()
    assert report.language == "nl" and report.contact_preference == "none"
    assert submit(language="en", urls="https://b.example/").report.language == "en"
    assert submit(language="nl", urls="https://c.example/").report.language == "nl"


def test_triage_sees_every_category_answer_and_whether_imagery_is_sexual(submit) -> None:
    TriageRule.objects.create(name="Long-running group harassment", explanation="x", priority=1,
                              conditions={"durations_any": ["months"], "perpetrator_counts_any": ["several"],
                                          "reporter_roles_any": ["parent"], "relationships_any": ["stranger"]})
    report = submit(forms=["non-consensual-intimate-images"], age_band="16_17", reporter_role="parent",
                    relationship="stranger", perpetrator_count="several", duration="months").report
    reasons = dict(report.case.triage_outcomes.values_list("rule_name", "reason"))
    assert reasons["Minor and sexual imagery"] == "sexual_imagery = yes; age_band: 16_17"
    assert reasons["Long-running group harassment"] == (
        "reporter_role: parent; relationship: stranger; perpetrator_count: several; duration: months")
    other = submit(urls="https://b.example/", forms=["doxing"], age_band="16_17", immediate_danger="no").report
    names = set(other.case.triage_outcomes.values_list("rule_name", flat=True))
    assert "Minor and sexual imagery" not in names and "Immediate danger" not in names


def test_she_adds_information_to_her_report(submit) -> None:
    report = submit().report
    addition = services.add_information(report=report, actor=Actor.reporter(), text="  He made a new account.\n")
    assert (addition.report, addition.text) == (report, "He made a new account.")
    [event] = events(ReportEvent.INFO_ADDED)
    assert (event.actor_type, event.subject_id, event.case_id, event.data) == (
        "reporter", str(report.pk), report.case_id, {"receipt_code": report.receipt_code})
    withdrawn = services.withdraw_report(report=report, actor=Actor.reporter())
    with pytest.raises(ValueError, match=r"^A withdrawn report takes no additions\.$"):
        services.add_information(report=withdrawn, actor=Actor.reporter(), text="more")


def test_she_revokes_her_consent_to_share_once(submit) -> None:
    report = submit(share_with="helpwanted").report
    revoked = services.revoke_sharing_consent(report=report, actor=Actor.reporter())
    assert revoked.consent_share_with is None
    assert Report.objects.get(pk=report.pk).consent_share_with is None
    services.revoke_sharing_consent(report=revoked, actor=Actor.reporter())
    [event] = events(ReportEvent.SHARING_REVOKED)
    assert (event.actor_type, event.subject_id, event.case_id, event.data) == (
        "reporter", str(report.pk), report.case_id, {"receipt_code": report.receipt_code})


def test_withdrawing_erases_everything_she_wrote_and_happens_once(submit, handler) -> None:
    report = submit(contact_preference="email", contact_email="her@example.org", share_with="helpwanted").report
    services.add_information(report=report, actor=Actor.reporter(), text="More.")
    Message.objects.create(case=report.case, report=report, author=handler, text="Hello")
    withdrawn = services.withdraw_report(report=report, actor=Actor.reporter())
    stored = Report.objects.get(pk=report.pk)
    assert stored.withdrawn_at is not None and stored.erased_at is not None
    assert (stored.contact_preference, stored.contact_email, stored.consent_share_with) == ("none", "", None)
    assert not stored.additions.exists() and not stored.messages.exists() and not stored.urls.exists()
    again = services.withdraw_report(report=withdrawn, actor=Actor.reporter())
    assert again.withdrawn_at == stored.withdrawn_at
    [event] = events(ReportEvent.WITHDRAWN)
    assert (event.actor_type, event.case_id, event.data) == (
        "reporter", report.case_id, {"receipt_code": report.receipt_code, "files_deleted": 0})
    [closed] = events(CaseEvent.STATUS_CHANGED)
    assert (closed.actor_type, closed.data) == (
        "system", {"from": "new", "to": "closed", "reason": "every report in the case was withdrawn"})


def test_retention_starts_when_the_case_closed_and_skips_what_was_erased(submit, supervisor, settings) -> None:
    settings.VANGNET_RETENTION_DAYS = 30
    kept = submit(urls="https://a.example/1").report
    gone = submit(urls="https://a.example/1", reporter_role="bystander").report
    case = kept.case
    services.withdraw_report(report=gone, actor=Actor.reporter())
    case_services.change_status(case=case, status=CaseStatus.CLOSED, reason="done", actor=staff(supervisor))
    closed_at = Case.objects.get(pk=case.pk).closed_at
    not_yet = closed_at + timedelta(days=30)
    assert services.apply_retention(actor=Actor.system(), now=not_yet) == 0, "not yet: the period must have passed"
    assert Report.objects.get(pk=kept.pk).erased_at is None
    assert services.apply_retention(actor=Actor.system(), now=closed_at + timedelta(days=30, seconds=1)) == 1
    assert Report.objects.get(pk=kept.pk).erased_at is not None
    [event] = events(ReportEvent.ERASED)
    assert (event.actor_type, event.subject_id, event.case_id, event.data) == (
        "system", str(kept.pk), case.pk, {"receipt_code": kept.receipt_code, "reason": "retention period ended"})
    assert Case.objects.get(pk=case.pk).texts_erased_at is not None
    assert services.apply_retention(actor=Actor.system(), now=timezone.now() + timedelta(days=400)) == 0


def test_answers_left_out_are_stored_blank(helpline) -> None:
    """A partner's request may leave out every optional answer; nothing is stored as missing."""
    data = {"immediate_danger": "no", "reporter_role": "victim", "forms": ["doxing"], "age_band": "18_plus",
            "consent_processing": True}
    report = services.submit_report(data=data, organisation=helpline, channel=Channel.API,
                                    actor=Actor.partner("api:partner")).report
    stored = Report.objects.get(pk=report.pk)
    assert (stored.description, stored.platform, stored.relationship, stored.perpetrator_count, stored.duration,
            stored.contact_email, stored.contact_phone) == ("", "", "", "", "", "", "")
    assert (stored.language, stored.contact_preference, stored.consent_share_with) == ("nl", "none", None)
    assert not stored.urls.exists() and stored.case is not None


def test_re_keying_url_hashes_in_batches_counts_every_row(submit, settings) -> None:
    settings.VANGNET_URL_HASH_KEYS = ["first-url-hash-key-for-this-test-0123456789"]
    urls = [f"https://{n}.example/x" for n in range(5)]
    for url in urls:
        submit(urls=url)
    settings.VANGNET_URL_HASH_KEYS = ["second-url-hash-key-for-this-test-012345678",
                                      "first-url-hash-key-for-this-test-0123456789"]
    assert services.rehash_urls(batch_size=2) == 5
    assert services.rehash_urls(batch_size=2) == 0
    stored = dict(ReportedUrl.objects.values_list("normalized", "normalized_hash"))
    assert stored == {check_url(url).normalized: check_url(url).digest for url in urls}
