"""Reads about who may do what: the one place the access rules for staff live."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from .choices import ROLE_PERMISSIONS
from .models import ApiToken, Membership, Organisation
from .services import hash_token


def organisations_for_user(*, user: User | AnonymousUser) -> list[Organisation]:
    if not user.is_authenticated or not user.is_active:
        return []
    return [m.organisation for m in Membership.objects.filter(user=user, organisation__is_active=True)
            .select_related("organisation")]


def permissions_for_user(*, user: User | AnonymousUser, organisation_id: int) -> frozenset[str]:
    """Everything ``user`` may do in this organisation, from the roles she holds there."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    roles = Membership.objects.filter(user=user, organisation_id=organisation_id,
                                      organisation__is_active=True).values_list("role", flat=True)
    return frozenset().union(*(ROLE_PERMISSIONS.get(role, frozenset()) for role in roles))


def user_has_permission(*, user: User | AnonymousUser, organisation_id: int, permission: str) -> bool:
    return permission in permissions_for_user(user=user, organisation_id=organisation_id)


def require_case_permission(*, user: User | AnonymousUser | None, case: Any, permission: str) -> None:
    """The services' one check: only a staff member holding ``permission`` in the case's organisation may act."""
    if user is None or not user_has_permission(user=user, organisation_id=case.organisation_id,
                                               permission=permission):
        raise PermissionDenied(_("You may not do this for this case."))


def active_tokens_matching(*, token: str) -> QuerySet[ApiToken]:
    """The active token matching ``token`` (zero or one), with its organisation; compared by hash."""
    if not token or len(token) > 200:
        return ApiToken.objects.none()
    return (ApiToken.objects.select_related("organisation")
            .filter(token_hash=hash_token(token), revoked_at__isnull=True, organisation__is_active=True))


def organisation_for_token(*, token: str) -> ApiToken | None:
    """The active token matching ``token``; compared by hash, so timing reveals nothing useful."""
    return active_tokens_matching(token=token).first()


def web_intake_organisation() -> Organisation:
    """The active organisation that receives reports from the public web form (set in the admin)."""
    organisation = Organisation.objects.filter(receives_web_reports=True, is_active=True).first()
    if organisation is None:
        raise Organisation.DoesNotExist(
            "No active organisation receives web reports: tick 'receives reports from the public web form' "
            "for one organisation in the admin (vangnet demo sets up one).")
    return organisation
