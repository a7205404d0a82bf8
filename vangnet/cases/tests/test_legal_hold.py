"""Legal hold: who may set and lift it, the reason it needs, its events, and what retention then spares."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone, translation

from vangnet.accounts.choices import Role
from vangnet.accounts.models import Membership
from vangnet.audit.models import Event
from vangnet.audit.selectors import verify_chain
from vangnet.audit.services import Actor, chain_all_pending
from vangnet.cases import selectors, services
from vangnet.cases.choices import CaseEvent, CaseStatus
from vangnet.cases.models import Case
from vangnet.common.testing import make_user
from vangnet.intake.services import apply_retention

pytestmark = pytest.mark.django_db
staff = Actor.staff


@pytest.fixture
def owned_case(submit, supervisor, case_owner):
    case = submit().report.case
    return services.assign_owner(case=case, owner=case_owner, actor=staff(supervisor))


def _hold_fields(case: Case) -> tuple:
    case.refresh_from_db()
    return case.legal_hold_reason, case.legal_hold_set_at, case.legal_hold_set_by_id


def test_the_case_owner_sets_a_hold_with_a_reason_and_it_is_logged(owned_case, case_owner) -> None:
    case = services.set_legal_hold(case=owned_case, reason="  Police request, file 2026-123  ",
                                   actor=staff(case_owner))
    assert case.on_legal_hold
    reason, set_at, set_by = _hold_fields(case)
    assert (reason, set_by) == ("Police request, file 2026-123", case_owner.pk) and set_at is not None
    event = Event.objects.get(event_type=CaseEvent.LEGAL_HOLD_SET)
    assert (event.case_id, event.actor_user, event.organisation_id) == (case.pk, case_owner, case.organisation_id)
    assert event.data == {"reason": "Police request, file 2026-123", "previous_reason": None}


def test_a_new_reason_replaces_the_old_and_keeps_since_when_and_by_whom(owned_case, case_owner, supervisor) -> None:
    services.set_legal_hold(case=owned_case, reason="Police request", actor=staff(case_owner))
    _reason, set_at, _by = _hold_fields(owned_case)
    services.set_legal_hold(case=owned_case, reason="Police request, extended by the prosecutor",
                            actor=staff(supervisor))
    assert _hold_fields(owned_case) == ("Police request, extended by the prosecutor", set_at, case_owner.pk)
    assert Event.objects.filter(event_type=CaseEvent.LEGAL_HOLD_SET).order_by("-id")[0].data == {
        "reason": "Police request, extended by the prosecutor", "previous_reason": "Police request"}


def test_lifting_clears_the_hold_and_logs_what_it_was(owned_case, case_owner) -> None:
    services.set_legal_hold(case=owned_case, reason="Police request", actor=staff(case_owner))
    _reason, set_at, _by = _hold_fields(owned_case)
    case = services.lift_legal_hold(case=owned_case, actor=staff(case_owner))
    assert not case.on_legal_hold and _hold_fields(case) == ("", None, None)
    event = Event.objects.get(event_type=CaseEvent.LEGAL_HOLD_LIFTED)
    assert event.actor_user == case_owner and event.data == {"reason": "Police request",
                                                             "set_at": set_at.isoformat(), "set_by": "carla"}
    with translation.override("en"), pytest.raises(ValidationError, match="not on legal hold"):
        services.lift_legal_hold(case=owned_case, actor=staff(case_owner))
    chain_all_pending()
    assert list(verify_chain()) == []


def test_supervisors_and_administrators_may_hold_a_case_they_do_not_own(submit, supervisor, make_staff,
                                                                       helpline) -> None:
    case = submit().report.case
    services.set_legal_hold(case=case, reason="Police request", actor=staff(supervisor))
    admin = make_staff("ada", helpline, Role.ADMIN)
    services.lift_legal_hold(case=case, actor=staff(admin))
    assert Event.objects.filter(event_type__in=[CaseEvent.LEGAL_HOLD_SET, CaseEvent.LEGAL_HOLD_LIFTED]).count() == 2


@pytest.mark.parametrize("who", ["handler", "other_case_owner", "outsider", "system", "former_owner"])
def test_others_may_neither_set_nor_lift_a_hold(owned_case, who, handler, make_staff, helpline, outsider,
                                                case_owner, supervisor) -> None:
    actor = {
        "handler": lambda: staff(handler),  # works on the case, but is not its owner
        "other_case_owner": lambda: staff(make_staff("cora", helpline, Role.CASE_OWNER)),
        "outsider": lambda: staff(outsider),  # an administrator of another organisation
        "system": Actor.system,
        "former_owner": lambda: (Membership.objects.filter(user=case_owner).delete(), staff(case_owner))[1],
    }[who]()
    with pytest.raises(PermissionDenied):
        services.set_legal_hold(case=owned_case, reason="Police request", actor=actor)
    assert _hold_fields(owned_case) == ("", None, None)
    services.set_legal_hold(case=owned_case, reason="Police request", actor=staff(supervisor))
    with pytest.raises(PermissionDenied):
        services.lift_legal_hold(case=owned_case, actor=actor)
    assert _hold_fields(owned_case)[0] == "Police request" and owned_case.on_legal_hold
    assert not Event.objects.filter(event_type=CaseEvent.LEGAL_HOLD_LIFTED).exists()


@pytest.mark.parametrize("reason", ["", "   ", "x" * (services.MAX_HOLD_REASON + 1)])
def test_a_blank_or_overlong_reason_is_refused_and_changes_nothing(owned_case, case_owner, reason) -> None:
    events = Event.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.set_legal_hold(case=owned_case, reason=reason, actor=staff(case_owner))
    assert "reason" in refused.value.message_dict
    assert _hold_fields(owned_case) == ("", None, None) and Event.objects.count() == events


def test_the_longest_reason_allowed_is_kept_whole(owned_case, case_owner) -> None:
    reason = "x" * services.MAX_HOLD_REASON
    services.set_legal_hold(case=owned_case, reason=reason, actor=staff(case_owner))
    assert _hold_fields(owned_case)[0] == reason


def test_a_case_on_hold_is_not_past_retention_and_cannot_be_locked_for_it(owned_case, case_owner, supervisor) -> None:
    services.change_status(case=owned_case, status=CaseStatus.CLOSED, reason="done", actor=staff(case_owner))
    long_ago = timezone.now() - timedelta(days=1000)
    Case.objects.filter(pk=owned_case.pk).update(closed_at=long_ago)
    assert list(selectors.cases_past_retention(closed_before=timezone.now())) == [owned_case]
    assert selectors.lock_case_for_retention(case_id=owned_case.pk) == owned_case
    services.set_legal_hold(case=owned_case, reason="Police request", actor=staff(case_owner))
    assert not selectors.cases_past_retention(closed_before=timezone.now()).exists()
    assert selectors.lock_case_for_retention(case_id=owned_case.pk) is None
    assert apply_retention(actor=Actor.system()) == 0
    services.lift_legal_hold(case=owned_case, actor=staff(supervisor))
    assert apply_retention(actor=Actor.system()) == 1


def test_an_open_case_cannot_be_locked_for_retention(owned_case) -> None:
    assert selectors.lock_case_for_retention(case_id=owned_case.pk) is None


def test_the_admin_shows_the_hold_and_cannot_change_it(client, submit, owned_case, case_owner, helpline) -> None:
    other = submit(urls="https://other.example/1").report.case
    services.set_legal_hold(case=owned_case, reason="Police request 77", actor=staff(case_owner))
    client.force_login(make_user("root", organisation=helpline, role=Role.ADMIN, is_superuser=True, is_staff=True))
    page = client.get(f"/admin/cases/case/{owned_case.pk}/change/").content.decode()
    assert "Police request 77" in page and 'name="legal_hold_reason"' not in page
    held = client.get("/admin/cases/case/?legal_hold_set_at__isempty=0").content.decode()
    free = client.get("/admin/cases/case/?legal_hold_set_at__isempty=1").content.decode()
    assert owned_case.reference in held and other.reference not in held
    assert other.reference in free and owned_case.reference not in free
