"""Reads of cases: what a staff member sees, in which order, and nothing of other organisations."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils import timezone

from vangnet.accounts.choices import Role
from vangnet.accounts.models import Membership, Organisation
from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.cases import selectors, services
from vangnet.cases.choices import CaseEvent, CaseStatus, Priority
from vangnet.cases.models import Case, TriageRule
from vangnet.cases.selectors import QueueFilters, case_queue
from vangnet.common import refcache
from vangnet.directory.models import ReferralOrganisation

pytestmark = pytest.mark.django_db

# Equivalent mutants that survive in cases/selectors.py: the text of ``Http404("No such case.")``
# (nobody reads it: the 404 page is vangnet's own and does not show it); ``restrict(user, )``
# without ``Permission.VIEW_CASES`` (that is its default); the ``FOR UPDATE OF c`` clause and
# ``lock=True`` by default in ``find_open_case_for_urls`` (no row locks on the SQLite test database).


def make_case(organisation: Organisation, reference: str, **fields) -> Case:
    return Case.objects.create(organisation=organisation, reference=reference, **fields)


def refs(cases) -> list[str]:
    return [c.reference for c in cases]


def test_visible_cases_are_those_of_the_staff_members_active_organisations(helpline, other_org, make_staff,
                                                                            handler, outsider) -> None:
    mine, theirs = make_case(helpline, "C-MINE"), make_case(other_org, "C-THEIRS")
    assert refs(selectors.visible_cases(user=handler)) == ["C-MINE"]
    assert refs(selectors.visible_cases(user=outsider)) == ["C-THEIRS"]
    assert not selectors.visible_cases(user=AnonymousUser()).exists()
    both = make_staff("bea", helpline)
    Membership.objects.create(user=both, organisation=other_org, role=Role.HANDLER)
    assert set(refs(selectors.visible_cases(user=both))) == {"C-MINE", "C-THEIRS"}
    Organisation.objects.filter(pk=other_org.pk).update(is_active=False)
    assert refs(selectors.visible_cases(user=both)) == ["C-MINE"], "an inactive organisation's cases disappear"
    handler.is_active = False
    handler.save(update_fields=["is_active"])
    assert not selectors.visible_cases(user=handler).exists(), "an inactive user sees nothing"
    assert mine.pk and theirs.pk


def test_get_case_for_user_answers_404_outside_her_organisations(helpline, other_org, handler) -> None:
    mine, theirs = make_case(helpline, "C-MINE"), make_case(other_org, "C-THEIRS")
    assert selectors.get_case_for_user(user=handler, case_id=mine.pk) == mine
    for case_id in (theirs.pk, 999_999):
        with pytest.raises(Http404):
            selectors.get_case_for_user(user=handler, case_id=case_id)
    with pytest.raises(Http404):
        selectors.get_case_for_user(user=AnonymousUser(), case_id=mine.pk)


def test_the_queue_puts_the_most_urgent_first_then_the_longest_waiting(helpline, other_org, handler) -> None:
    now = timezone.now()
    for ref, priority, age in [("C-P3OLD", 3, 9), ("C-P1NEW", 1, 1), ("C-P0", 0, 2), ("C-P1OLD", 1, 5),
                               ("C-P3NEW", 3, 0)]:
        case = make_case(helpline, ref, priority=priority)
        Case.objects.filter(pk=case.pk).update(created_at=now - timedelta(days=age))
    make_case(other_org, "C-OTHER", priority=0)
    assert refs(case_queue(user=handler, filters=QueueFilters())) == ["C-P0", "C-P1OLD", "C-P1NEW", "C-P3OLD",
                                                                     "C-P3NEW"]


def test_queue_filters_on_status_priority_and_owner(helpline, handler, case_owner) -> None:
    make_case(helpline, "C-NEW", priority=Priority.P0, owner=handler)
    make_case(helpline, "C-WAIT", status=CaseStatus.WAITING, priority=Priority.P2, owner=case_owner)
    make_case(helpline, "C-CLOSED", status=CaseStatus.CLOSED, priority=Priority.P0)
    target = make_case(helpline, "C-TARGET", priority=Priority.P3)
    make_case(helpline, "C-MERGED", status=CaseStatus.CLOSED, merged_into=target)

    def queue(**filters) -> set[str]:
        return set(refs(case_queue(user=handler, filters=QueueFilters(**filters))))

    assert queue() == {"C-NEW", "C-WAIT", "C-TARGET"}, "open cases, never one merged away"
    assert queue(status="") == {"C-NEW", "C-WAIT", "C-CLOSED", "C-TARGET"}
    assert queue(status="closed") == {"C-CLOSED"}
    assert queue(status="waiting") == {"C-WAIT"}
    assert queue(priority=0) == {"C-NEW"}, "P0 is a filter too, not 'no filter'"
    assert queue(priority=3) == {"C-TARGET"}
    assert queue(status="", priority=0) == {"C-NEW", "C-CLOSED"}
    assert queue(owner="me") == {"C-NEW"}
    assert queue(owner="none") == {"C-TARGET"}
    assert queue(owner="") == {"C-NEW", "C-WAIT", "C-TARGET"}


def test_queue_finds_a_case_by_reference_or_receipt_code_and_by_form(submit, handler) -> None:
    a = submit(urls="https://a.example/1", forms=["sextortion", "threats"]).report
    b = submit(urls="https://b.example/1", forms=["doxing"]).report
    joined = submit(urls="https://b.example/1", forms=["doxing", "threats"], reporter_role="bystander").report
    assert joined.case_id == b.case_id

    def queue(**filters) -> list[str]:
        return refs(case_queue(user=handler, filters=QueueFilters(**filters)))

    assert queue(query=f"  {a.case.reference.lower()} ") == [a.case.reference]
    assert queue(query=b.receipt_code.lower()) == [b.case.reference]
    assert queue(query=joined.receipt_code) == [b.case.reference]
    assert queue(query="C-NOPE") == []
    assert queue(form="sextortion") == [a.case.reference]
    assert sorted(queue(form="threats")) == sorted([a.case.reference, b.case.reference])
    submit(urls="https://b.example/1", forms=["other"], relationship="", reporter_role="parent")

    def counts(**filters) -> dict[str, int]:
        return {c.reference: c.report_count for c in case_queue(user=handler, filters=QueueFilters(**filters))}

    # The "Reports" column counts every report of the case, whatever found it.
    assert counts() == {a.case.reference: 1, b.case.reference: 3}
    assert counts(form="doxing") == {b.case.reference: 3}
    assert counts(query=joined.receipt_code) == {b.case.reference: 3}
    assert counts(form="threats", query=b.case.reference) == {b.case.reference: 3}


def test_case_timeline_holds_the_events_of_merged_cases(submit, supervisor) -> None:
    a = submit(urls="https://a.example/1").report.case
    b = submit(urls="https://b.example/1").report.case
    c = submit(urls="https://c.example/1").report.case
    services.merge_cases(source=b, target=a, actor=Actor.staff(supervisor))
    timeline = list(selectors.case_timeline(case=a))
    assert {e.case_id for e in timeline} == {a.pk, b.pk}
    assert [(e.occurred_at, e.id) for e in timeline] == sorted((e.occurred_at, e.id) for e in timeline)
    assert Event.objects.filter(case_id=c.pk).exists() and c.pk not in {e.case_id for e in timeline}
    assert CaseEvent.MERGED in {e.event_type for e in timeline}


def test_possible_owners_are_active_colleagues_who_work_on_cases(helpline, other_org, make_staff, handler,
                                                                 case_owner, supervisor, outsider) -> None:
    make_staff("zoe", helpline, Role.ADMIN)
    gone = make_staff("gert", helpline, Role.HANDLER)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    case = make_case(helpline, "C-1")
    owners = selectors.possible_owners(user=handler, case=case)
    assert [m.user.username for m in owners] == ["carla", "hans", "sanne", "zoe"]
    assert all(m.organisation_id == helpline.pk for m in owners)


def test_cases_past_retention_are_closed_before_the_cutoff_and_not_yet_erased(helpline) -> None:
    now = timezone.now()
    old = make_case(helpline, "C-OLD", status=CaseStatus.CLOSED, closed_at=now - timedelta(days=10))
    make_case(helpline, "C-EDGE", status=CaseStatus.CLOSED, closed_at=now - timedelta(days=5))
    make_case(helpline, "C-RECENT", status=CaseStatus.CLOSED, closed_at=now - timedelta(days=1))
    make_case(helpline, "C-ERASED", status=CaseStatus.CLOSED, closed_at=now - timedelta(days=10),
              texts_erased_at=now)
    make_case(helpline, "C-OPEN", status=CaseStatus.IN_PROGRESS, closed_at=now - timedelta(days=10))
    assert refs(selectors.cases_past_retention(closed_before=now - timedelta(days=5))) == ["C-OLD"]
    assert old.pk


def test_active_rules_come_with_their_suggested_referrals_and_follow_changes() -> None:
    seeded = {r.rule.name: r for r in selectors.active_rules()}
    assert set(seeded) == set(TriageRule.objects.filter(is_active=True).values_list("name", flat=True))
    helpwanted = ReferralOrganisation.objects.get(slug="helpwanted")
    assert helpwanted.pk in seeded["Minor and sexual imagery"].referral_ids
    assert isinstance(seeded["Minor and sexual imagery"].referral_ids, tuple)
    TriageRule.objects.filter(name="Sextortion").get().delete()
    rule = TriageRule.objects.get(name="Threats of violence")
    rule.is_active = False
    rule.save(update_fields=["is_active"])
    names = {r.rule.name for r in selectors.active_rules()}
    assert "Sextortion" not in names and "Threats of violence" not in names
    assert "Minor and sexual imagery" in names


def test_reads_for_pages_cost_a_fixed_number_of_queries(submit, supervisor, case_owner,
                                                         django_assert_num_queries) -> None:
    for n in range(3):
        case = submit(urls=f"https://{n}.example/1").report.case
        services.assign_owner(case=case, owner=case_owner, actor=Actor.staff(supervisor))
    target = submit(urls="https://target.example/1").report.case
    services.assign_owner(case=target, owner=supervisor, actor=Actor.staff(supervisor))
    services.merge_cases(source=case, target=target, actor=Actor.staff(supervisor))
    with django_assert_num_queries(1):
        rows = [(c.owner.username, c.organisation.slug) for c in case_queue(user=supervisor, filters=QueueFilters())]
    assert sorted(rows) == [("carla", "vangnet-helpline")] * 2 + [("sanne", "vangnet-helpline")]
    with django_assert_num_queries(1):
        merged = selectors.get_case_for_user(user=supervisor, case_id=case.pk)
        assert (merged.owner.username, merged.organisation.slug, merged.merged_into.reference) == (
            "carla", "vangnet-helpline", target.reference)
    with django_assert_num_queries(1):
        assert [m.user.username for m in selectors.possible_owners(user=supervisor, case=target)] == ["carla", "sanne"]
    refcache.clear()
    with django_assert_num_queries(2):  # the rules and their referrals, however many rules there are
        rules = selectors.active_rules()
        assert sum(len(r.referral_ids) for r in rules) > len(rules)
    assert len(rules) == TriageRule.objects.filter(is_active=True).count()


def test_possible_owners_are_listed_only_to_staff_who_may_see_the_case(helpline, handler, outsider) -> None:
    case = make_case(helpline, "C-1")
    analyst = Membership.objects.create(user=outsider, organisation=helpline, role=Role.ANALYST).user
    assert [m.user.username for m in selectors.possible_owners(user=handler, case=case)] == ["hans"]
    assert not selectors.possible_owners(user=analyst, case=make_case(helpline, "C-2")).exists()
    assert not selectors.possible_owners(user=AnonymousUser(), case=case).exists()


def test_a_case_is_found_by_its_reference_only_in_her_organisations(helpline, other_org, handler) -> None:
    mine, theirs = make_case(helpline, "C-MINE1"), make_case(other_org, "C-THEIRS")
    assert selectors.find_case_by_reference(user=handler, reference="  c-mine1 ") == mine
    assert selectors.find_case_by_reference(user=handler, reference=theirs.reference) is None
    assert selectors.find_case_by_reference(user=handler, reference="C-NONE") is None


def test_the_case_file_and_its_reports_are_scoped_even_for_a_case_passed_in(submit, helpline, supervisor) -> None:
    first = submit(immediate_danger="yes")
    second = submit(urls="https://other.example/1")
    case = first.report.case
    services.add_note(case=case, text="Called back.", actor=Actor.staff(supervisor))
    part = selectors.case_file(user=supervisor, case=case)
    assert list(part.reports) == [first.report] and part.outcomes.exists() and part.notes.count() == 1
    assert selectors.get_report_of_case(user=supervisor, case=case, report_id=str(first.report.pk)) == first.report
    for report_id in (str(second.report.pk), "x", ""):
        assert selectors.get_report_of_case(user=supervisor, case=case, report_id=report_id) is None
    Membership.objects.filter(user=supervisor, organisation=helpline).update(role=Role.ANALYST)
    nothing = selectors.case_file(user=supervisor, case=case)
    assert not any(qs.exists() for qs in (nothing.reports, nothing.outcomes, nothing.notes, nothing.referrals))
    assert selectors.get_report_of_case(user=supervisor, case=case, report_id=first.report.pk) is None


def test_the_open_case_for_a_url_is_the_oldest_open_unmerged_one_of_that_organisation(submit, other_org,
                                                                                    supervisor) -> None:
    from vangnet.intake.services import withdraw_report

    url = "https://same.example/post/9"
    oldest = submit(urls=url).report
    digest = oldest.urls.get().normalized_hash
    find = selectors.find_open_case_for_urls
    assert find(organisation_id=oldest.organisation_id, url_hashes=[digest]) == oldest.case
    assert find(organisation_id=oldest.organisation_id, url_hashes=["0" * 64, digest], lock=True) == oldest.case
    assert find(organisation_id=other_org.pk, url_hashes=[digest]) is None, "another organisation's case stays apart"
    assert find(organisation_id=oldest.organisation_id, url_hashes=["0" * 64]) is None
    newer = submit(urls="https://other.example/1").report.case
    Case.objects.filter(pk=oldest.case_id).update(status=CaseStatus.CLOSED)
    assert find(organisation_id=oldest.organisation_id, url_hashes=[digest]) is None, "closed cases take no reports"
    Case.objects.filter(pk=oldest.case_id).update(status=CaseStatus.IN_PROGRESS, merged_into=newer)
    assert find(organisation_id=oldest.organisation_id, url_hashes=[digest]) is None, "nor merged ones"
    Case.objects.filter(pk=oldest.case_id).update(merged_into=None)
    withdraw_report(report=oldest, actor=Actor.reporter())
    Case.objects.filter(pk=oldest.case_id).update(status=CaseStatus.NEW)
    assert find(organisation_id=oldest.organisation_id, url_hashes=[digest]) is None, "a withdrawn report holds none"


def test_the_case_page_reads_its_parts_in_a_fixed_number_of_queries(submit, supervisor, handler,
                                                                     django_assert_num_queries) -> None:
    from vangnet.intake.services import add_information

    first = submit(share_with="helpwanted").report
    second = submit(reporter_role="bystander", share_with="").report
    case = first.case
    add_information(report=first, text="More.", actor=Actor.reporter(first.receipt_code))
    services.add_note(case=case, text="Called back.", actor=Actor.staff(handler))
    services.send_message(case=case, report=second, text="Hello", actor=Actor.staff(handler))
    referral = services.refer_case(case=case, report=first, organisation=first.consent_share_with, summary="s",
                                   actor=Actor.staff(supervisor))
    other = submit(urls="https://other.example/1").report
    services.add_note(case=other.case, text="Not this case.", actor=Actor.staff(handler))
    part = selectors.case_file(user=supervisor, case=case)
    # reports (+ forms, URLs, additions, messages), outcomes (+ referrals), notes, referrals, timeline
    with django_assert_num_queries(10):
        reports = {r.receipt_code: (r.consent_share_with and r.consent_share_with.slug, [f.slug for f in r.forms.all()],
                                    len(r.urls.all()), [a.text for a in r.additions.all()],
                                    [m.text for m in r.messages.all()]) for r in part.reports}
        outcomes = [(o.report.receipt_code, sorted(s.slug for s in o.suggested_referrals.all())) for o in part.outcomes]
        notes = [(n.text, n.author.username) for n in part.notes]
        referrals = [(r.pk, r.organisation.slug) for r in part.referrals]
        timeline = [(e.event_type, e.actor_label) for e in part.timeline]
    assert reports == {
        first.receipt_code: ("helpwanted", ["non-consensual-intimate-images"], 1, ["More."], []),
        second.receipt_code: (None, ["non-consensual-intimate-images"], 1, [], ["Hello"]),
    }
    assert {code for code, _ in outcomes} == {first.receipt_code, second.receipt_code}
    assert all(slugs == ["helpwanted"] for _, slugs in outcomes)
    assert notes == [("Called back.", "hans")]
    assert referrals == [(referral.pk, "helpwanted")]
    assert (CaseEvent.REFERRED, "sanne") in timeline and len(timeline) >= 6
