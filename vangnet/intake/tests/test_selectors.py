"""Reads for the reporter: her own report, her messages, the published pages, a partner's rate."""

from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import report_payload
from vangnet.accounts.services import create_api_token
from vangnet.audit.services import Actor
from vangnet.cases.models import Message
from vangnet.intake import selectors
from vangnet.intake.choices import Channel
from vangnet.intake.forms import ReportForm
from vangnet.intake.models import InfoPage, Report
from vangnet.intake.services import add_information, submit_report, withdraw_report

pytestmark = pytest.mark.django_db

# Equivalent mutants that survive in intake/selectors.py (scripts/mutation): in
# ``api_token_with_recent_reports`` the length guard's ``or`` -> ``and`` and ``> 200`` -> ``> 201``
# (no stored token is empty or longer than 200, so the query finds nothing either), ``from_db(None, ...)``
# (the database alias only matters for a later save) and ``row[:4]`` (from_db ignores a value it has
# no field name for).


@pytest.mark.parametrize("typed", ["", "   ", "VN-ABC", "not a code at all"])
def test_a_code_that_cannot_be_one_opens_nothing_and_counts_nothing(typed: str, settings) -> None:
    settings.VANGNET_FOLLOWUP_CODE_FAILURES = 1
    for _ in range(3):
        attempt = selectors.authenticate_followup(receipt_code=typed, secret="x")
        assert (attempt.report, attempt.locked) == (None, False)


def test_the_code_is_read_forgivingly_and_the_right_secret_opens_her_report(submit) -> None:
    submitted = submit()
    typed = submitted.report.receipt_code.lower().replace("-", " ")
    attempt = selectors.authenticate_followup(receipt_code=f" {typed} ", secret=submitted.secret.upper())
    assert (attempt.report, attempt.locked) == (submitted.report, False)
    wrong = selectors.authenticate_followup(receipt_code=submitted.report.receipt_code, secret="nope-nope")
    assert (wrong.report, wrong.locked) == (None, False)


def test_guessing_at_a_code_nobody_has_locks_it_like_a_real_one(settings) -> None:
    settings.VANGNET_FOLLOWUP_CODE_FAILURES = 2
    outcomes = [selectors.authenticate_followup(receipt_code="VN-ZZZZ-ZZZZ", secret="x") for _ in range(3)]
    assert [(a.report, a.locked) for a in outcomes] == [(None, False), (None, True), (None, True)]


def test_a_withdrawn_report_is_no_longer_hers_to_read(submit) -> None:
    submitted = submit()
    found = selectors.get_report_for_reporter(report_id=submitted.report.pk)
    assert found == submitted.report
    assert [f.slug for f in found.forms.all()] == ["non-consensual-intimate-images"]
    assert selectors.get_report_for_reporter(report_id=None) is None
    assert selectors.get_report_for_reporter(report_id=999_999) is None
    withdraw_report(report=submitted.report, actor=Actor.reporter())
    assert selectors.get_report_for_reporter(report_id=submitted.report.pk) is None


def test_she_reads_only_the_messages_addressed_to_her_report_oldest_first(submit, handler) -> None:
    hers = submit().report
    other = submit(reporter_role="bystander").report
    assert hers.case_id == other.case_id
    first = Message.objects.create(case=hers.case, report=hers, author=handler, text="first")
    Message.objects.create(case=hers.case, report=other, author=handler, text="for someone else")
    second = Message.objects.create(case=hers.case, report=hers, author=handler, text="second")
    Message.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(hours=1))
    assert list(selectors.messages_for_reporter(report=hers)) == [first, second]


def test_only_published_pages_are_shown() -> None:
    slugs = set(selectors.published_pages().values_list("slug", flat=True))
    assert slugs and slugs == set(InfoPage.objects.filter(is_published=True).values_list("slug", flat=True))
    hidden = InfoPage.objects.filter(slug__in=slugs).first()
    hidden.is_published = False
    hidden.save(update_fields=["is_published"])
    assert hidden.slug not in set(selectors.published_pages().values_list("slug", flat=True))


def test_reports_by_token_in_the_last_minute(helpline) -> None:
    token, _plain = create_api_token(organisation=helpline, name="a", actor=Actor.system())
    other, _plain = create_api_token(organisation=helpline, name="b", actor=Actor.system())

    def send(api_token) -> Report:
        form = ReportForm(data=report_payload())
        assert form.is_valid(), form.errors
        return submit_report(data=form.cleaned_data, organisation=helpline, channel=Channel.API, actor=Actor.system(),
                             api_token=api_token).report

    old, _recent, _also = send(token), send(token), send(token)
    send(other)
    send(None)
    assert selectors.reports_by_token_in_last_minute(token=token) == 3
    Report.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - timedelta(seconds=61))
    assert selectors.reports_by_token_in_last_minute(token=token) == 2
    assert selectors.reports_by_token_in_last_minute(token=other) == 1


def test_her_report_page_reads_everything_in_four_queries(submit, django_assert_num_queries) -> None:
    report = submit(urls="https://a.example/1\nhttps://b.example/2", share_with="helpwanted").report
    add_information(report=report, actor=Actor.reporter(), text="He made a new account.")
    with django_assert_num_queries(4):  # the report with its case and organisation; forms, URLs, additions
        found = selectors.get_report_for_reporter(report_id=report.pk)
        for _ in range(2):  # the page reads them more than once; fetched once
            assert found.case.reference and found.consent_share_with.slug == "helpwanted"
            assert [f.slug for f in found.forms.all()] == ["non-consensual-intimate-images"]
            assert len(found.urls.all()) == 2
            assert [a.text for a in found.additions.all()] == ["He made a new account."]


def test_the_api_token_comes_with_its_last_minute_count_in_one_query(submit, api_token, django_assert_num_queries
                                                                     ) -> None:
    from vangnet.accounts.models import ApiToken

    token = ApiToken.objects.get()
    for _ in range(2):
        Report.objects.filter(pk=submit().report.pk).update(submitted_via=token)
    Report.objects.filter(pk=submit().report.pk).update(submitted_via=token,
                                                        submitted_at=timezone.now() - timedelta(minutes=2))
    with django_assert_num_queries(1):
        found = selectors.api_token_with_recent_reports(token=api_token)
        assert (found.pk, found.organisation.slug, found.reports_last_minute) == (token.pk, "vangnet-helpline", 2)
    assert selectors.api_token_with_recent_reports(token=api_token + "x") is None
    assert selectors.api_token_with_recent_reports(token="") is None
    assert selectors.api_token_with_recent_reports(token="x" * 201) is None
    assert found.reports_last_minute == selectors.reports_by_token_in_last_minute(token=token), "the same rule"
    assert (found.created_at, found.token_hash) == (token.created_at, token.token_hash), "the rest loads on use"
    token.organisation.is_active = False
    token.organisation.save(update_fields=["is_active"])
    assert selectors.api_token_with_recent_reports(token=api_token) is None, "a closed organisation's token fails"
    token.organisation.is_active = True
    token.organisation.save(update_fields=["is_active"])
    assert selectors.api_token_with_recent_reports(token=api_token).pk == token.pk
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    assert selectors.api_token_with_recent_reports(token=api_token) is None


def test_the_token_read_names_its_organisation_and_counts_one_minute(helpline, django_assert_num_queries) -> None:
    longest = "p" * 200  # the longest token there can be
    token, _plain = create_api_token(organisation=helpline, name="partner-x", actor=Actor.system(), token=longest)

    def send() -> Report:
        form = ReportForm(data=report_payload())
        assert form.is_valid(), form.errors
        return submit_report(data=form.cleaned_data, organisation=helpline, channel=Channel.API,
                             actor=Actor.partner("api:partner-x"), api_token=token).report

    old, _recent = send(), send()
    Report.objects.filter(pk=old.pk).update(submitted_at=timezone.now() - timedelta(seconds=90))
    with django_assert_num_queries(1):
        found = selectors.api_token_with_recent_reports(token=longest)
        assert (found.pk, found.name, found.organisation_id, found.reports_last_minute) == (
            token.pk, "partner-x", helpline.pk, 1)
        assert (found.organisation.pk, found.organisation.slug, found.organisation.name) == (
            helpline.pk, helpline.slug, helpline.name)
