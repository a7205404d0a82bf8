"""Who may do what where, and which partner tokens still work."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from vangnet.accounts.choices import ROLE_PERMISSIONS, Permission, Role
from vangnet.accounts.models import ApiToken, Membership, Organisation
from vangnet.accounts.selectors import (organisation_for_token, organisations_for_user, permissions_for_user,
                                        user_has_permission)
from vangnet.accounts.services import create_api_token
from vangnet.audit.services import Actor
from vangnet.common.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", Role.values)
def test_permissions_come_from_the_role_held_in_that_organisation(role, helpline, other_org) -> None:
    user = make_user("someone", organisation=helpline, role=role)
    assert permissions_for_user(user=user, organisation_id=helpline.pk) == ROLE_PERMISSIONS[role]
    assert permissions_for_user(user=user, organisation_id=other_org.pk) == frozenset()
    assert user_has_permission(user=user, organisation_id=helpline.pk, permission=Permission.VIEW_CASES) is (
        role not in {Role.ANALYST, Role.MODERATOR, Role.POLICY_MANAGER})  # platform roles see no case file


def test_a_user_in_two_organisations_has_each_roles_permissions_there(helpline, other_org) -> None:
    both = make_user("bea", organisation=helpline, role=Role.ANALYST)
    Membership.objects.create(user=both, organisation=other_org, role=Role.SUPERVISOR)
    assert permissions_for_user(user=both, organisation_id=helpline.pk) == {Permission.VIEW_STATISTICS}
    assert Permission.MERGE_SPLIT in permissions_for_user(user=both, organisation_id=other_org.pk)
    assert not user_has_permission(user=both, organisation_id=helpline.pk, permission=Permission.VIEW_CASES)
    assert {o.slug for o in organisations_for_user(user=both)} == {helpline.slug, other_org.slug}


def test_inactive_users_and_organisations_hold_nothing(helpline, other_org, handler) -> None:
    assert organisations_for_user(user=AnonymousUser()) == []
    assert permissions_for_user(user=AnonymousUser(), organisation_id=helpline.pk) == frozenset()
    Membership.objects.create(user=handler, organisation=other_org, role=Role.ADMIN)
    Organisation.objects.filter(pk=other_org.pk).update(is_active=False)
    assert permissions_for_user(user=handler, organisation_id=other_org.pk) == frozenset()
    assert [o.slug for o in organisations_for_user(user=handler)] == [helpline.slug]
    handler.is_active = False
    handler.save(update_fields=["is_active"])
    assert permissions_for_user(user=handler, organisation_id=helpline.pk) == frozenset()
    assert organisations_for_user(user=handler) == []


def test_only_active_tokens_of_active_organisations_work(helpline, other_org) -> None:
    mine, plain = create_api_token(organisation=helpline, name="form", actor=Actor.system("test"))
    theirs, other_plain = create_api_token(organisation=other_org, name="form", actor=Actor.system("test"))
    assert organisation_for_token(token=plain) == mine
    assert organisation_for_token(token=other_plain) == theirs
    for bad in ["", "nope", plain + "x", plain.upper(), "x" * 201]:
        assert organisation_for_token(token=bad) is None
    Organisation.objects.filter(pk=other_org.pk).update(is_active=False)
    assert organisation_for_token(token=other_plain) is None, "a closed organisation's tokens stop working"
    ApiToken.objects.filter(pk=mine.pk).update(revoked_at=timezone.now())
    assert organisation_for_token(token=plain) is None
