"""The access rule: what each role may do, and restrict() on every model that holds a case file."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from vangnet.accounts.access import RestrictedQuerySet, holds_permission_anywhere, roles_granting
from vangnet.accounts.choices import ROLE_PERMISSIONS, Permission, Role
from vangnet.accounts.models import Membership, Organisation
from vangnet.audit.services import Actor
from vangnet.cases import services
from vangnet.cases.models import Case, InternalNote, Message, Referral, TriageOutcome, TriageRule
from vangnet.common.testing import make_user
from vangnet.intake.models import Report

pytestmark = pytest.mark.django_db

P = Permission

# Written out rather than derived, so a change to ROLE_PERMISSIONS is a change to this table too.
EXPECTED_PERMISSIONS = {
    Role.ANALYST: {P.VIEW_STATISTICS},
    Role.HANDLER: {P.VIEW_CASES, P.WORK_CASES},
    Role.CASE_OWNER: {P.VIEW_CASES, P.WORK_CASES, P.REFER, P.EXPORT_EVIDENCE},
    Role.SUPERVISOR: {P.VIEW_CASES, P.WORK_CASES, P.REFER, P.ASSIGN, P.MERGE_SPLIT, P.EXPORT_EVIDENCE},
    Role.ADMIN: {P.VIEW_STATISTICS, P.VIEW_CASES, P.WORK_CASES, P.REFER, P.ASSIGN, P.MERGE_SPLIT,
                 P.EXPORT_EVIDENCE, P.MODERATE, P.MANAGE_MODERATION},
    Role.MODERATOR: {P.MODERATE},
    Role.POLICY_MANAGER: {P.MODERATE, P.MANAGE_MODERATION, P.VIEW_STATISTICS},
}

MODELS = [Case, TriageOutcome, InternalNote, Message, Referral, Report]


def test_each_role_grants_exactly_its_permissions() -> None:
    assert set(ROLE_PERMISSIONS) == set(Role.values) == set(EXPECTED_PERMISSIONS)
    for role, expected in EXPECTED_PERMISSIONS.items():
        assert ROLE_PERMISSIONS[role] == expected, role


def test_no_case_file_for_an_analyst_and_no_statistics_for_case_roles() -> None:
    assert roles_granting(P.VIEW_CASES) == {Role.HANDLER, Role.CASE_OWNER, Role.SUPERVISOR, Role.ADMIN}
    assert roles_granting(P.VIEW_STATISTICS) == {Role.ANALYST, Role.ADMIN, Role.POLICY_MANAGER}
    assert roles_granting(P.MODERATE) == {Role.MODERATOR, Role.POLICY_MANAGER, Role.ADMIN}
    with translation.override("en"):
        assert str(Role.ANALYST.label) == "Analyst"
    with translation.override("nl"):
        assert str(Role.ANALYST.label) == "Analist"


def test_an_unknown_permission_is_a_programming_error(handler) -> None:
    with pytest.raises(ValueError, match="view_case"):
        Case.objects.restrict(handler, "view_case")


def test_a_model_without_an_organisation_path_cannot_be_restricted(handler) -> None:
    with pytest.raises(ImproperlyConfigured, match="TriageRule"):
        RestrictedQuerySet(model=TriageRule).restrict(handler, P.VIEW_CASES)


def _case_file(submit: Any, organisation: Organisation, staff: Any, url: str) -> dict[type, set[int]]:
    """A case with a row of every case-file model, written through the services; their ids by model."""
    submitted = submit(organisation=organisation, urls=url, immediate_danger="yes")
    report, case, actor = submitted.report, submitted.report.case, Actor.staff(staff)
    note = services.add_note(case=case, text="Called her back.", actor=actor)
    message = services.send_message(case=case, report=report, text="We are on it.", actor=actor)
    referral = services.refer_case(case=case, report=report, organisation=report.consent_share_with,
                                   summary="Please help her.", actor=actor)
    outcomes = set(TriageOutcome.objects.filter(case=case).values_list("pk", flat=True))
    assert outcomes, "immediate danger fires a triage rule"
    return {Case: {case.pk}, TriageOutcome: outcomes, InternalNote: {note.pk}, Message: {message.pk},
            Referral: {referral.pk}, Report: {report.pk}}


@pytest.fixture
def files(submit, helpline, other_org, supervisor, outsider) -> dict[str, dict[type, set[int]]]:
    """A full case file in each of two organisations."""
    return {"helpline": _case_file(submit, helpline, supervisor, "https://a.example/1"),
            "other": _case_file(submit, other_org, outsider, "https://b.example/1")}


def _seen(model: type, user: Any, permission: str = P.VIEW_CASES) -> set[int]:
    return set(model.objects.restrict(user, permission).values_list("pk", flat=True))  # type: ignore[attr-defined]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_restrict_gives_each_organisation_its_own_rows(model, files, handler, outsider) -> None:
    assert _seen(model, handler) == files["helpline"][model]
    assert _seen(model, outsider) == files["other"][model]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_restrict_checks_the_permission_not_only_the_membership(model, files, helpline, handler) -> None:
    analyst = make_user("ana", organisation=helpline, role=Role.ANALYST)
    assert _seen(model, analyst) == set(), "an analyst never sees a case file"
    assert _seen(model, analyst, P.VIEW_STATISTICS) == files["helpline"][model]
    assert _seen(model, handler, P.VIEW_STATISTICS) == set()
    assert _seen(model, handler, P.WORK_CASES) == files["helpline"][model]
    assert _seen(model, handler, P.ASSIGN) == set()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_inactive_users_and_organisations_lose_all_access(model, files, other_org, handler, outsider,
                                                          django_user_model) -> None:
    stale = django_user_model.objects.get(pk=handler.pk)
    handler.is_active = False
    handler.save(update_fields=["is_active"])
    assert _seen(model, handler) == set()
    assert stale.is_active and _seen(model, stale) == set(), "a user object from before deactivation opens nothing"
    Organisation.objects.filter(pk=other_org.pk).update(is_active=False)
    assert _seen(model, outsider) == set()
    assert _seen(model, AnonymousUser()) == set()


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_superuser_sees_only_through_a_membership(model, files, other_org) -> None:
    root = make_user("root", is_superuser=True, is_staff=True)
    assert _seen(model, root) == set()
    Membership.objects.create(user=root, organisation=other_org, role=Role.HANDLER)
    assert _seen(model, root) == files["other"][model]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_user_in_two_organisations_holds_each_roles_permissions_there_only(model, files, helpline,
                                                                              other_org) -> None:
    both = make_user("bea", organisation=helpline, role=Role.HANDLER)
    Membership.objects.create(user=both, organisation=other_org, role=Role.SUPERVISOR)
    helpline_rows, other_rows = files["helpline"][model], files["other"][model]
    assert _seen(model, both) == helpline_rows | other_rows
    assert _seen(model, both, P.WORK_CASES) == helpline_rows | other_rows
    assert _seen(model, both, P.MERGE_SPLIT) == other_rows
    assert _seen(model, both, P.REFER) == other_rows
    Organisation.objects.filter(pk=other_org.pk).update(is_active=False)
    assert _seen(model, both) == helpline_rows


def test_restrict_adds_no_query(files, handler, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        assert len(list(Case.objects.restrict(handler).filter(status="referred"))) == 1
    with django_assert_num_queries(0):
        assert list(Case.objects.restrict(AnonymousUser())) == []


def test_holds_permission_anywhere(helpline, other_org, handler) -> None:
    analyst = make_user("ana", organisation=helpline, role=Role.ANALYST)
    assert holds_permission_anywhere(handler, P.VIEW_CASES) and not holds_permission_anywhere(handler, P.ASSIGN)
    assert not holds_permission_anywhere(analyst, P.VIEW_CASES)
    assert holds_permission_anywhere(analyst, P.VIEW_STATISTICS)
    assert not holds_permission_anywhere(make_user("nobody"), P.VIEW_CASES)
    assert not holds_permission_anywhere(AnonymousUser(), P.VIEW_CASES)
    Organisation.objects.filter(pk=helpline.pk).update(is_active=False)
    assert not holds_permission_anywhere(handler, P.VIEW_CASES)
