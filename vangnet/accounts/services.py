"""Writes for organisations, memberships and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from vangnet.audit.services import Actor, record_event

from .choices import AccountEvent
from .models import ApiToken, Membership, Organisation

# Fields of an organisation whose old and new values the log keeps (none is personal data).
ORGANISATION_FIELDS = ("slug", "name", "is_active", "handles_reports", "receives_web_reports", "is_trusted_flagger",
                       "is_platform")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def create_api_token(*, organisation: Organisation, name: str, actor: Actor,
                     token: str | None = None) -> tuple[ApiToken, str]:
    """Create a token and return it with its plain value, which is shown once and never stored."""
    plain = token or secrets.token_urlsafe(32)
    if not plain.strip() or len(plain) > 200:
        raise ValueError("An API token must be 1 to 200 characters long.")
    api_token = ApiToken.objects.create(organisation=organisation, name=name, token_hash=hash_token(plain))
    record_event(actor=actor, event_type=AccountEvent.API_TOKEN_CREATED, subject=api_token,
                 organisation_id=organisation.pk, data={"organisation": organisation.slug, "name": name})
    return api_token, plain


@transaction.atomic
def revoke_api_token(*, token: ApiToken, actor: Actor) -> ApiToken:
    """Stop a token working at once; revoking twice changes nothing and logs nothing."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is not None:
        return token
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    record_event(actor=actor, event_type=AccountEvent.API_TOKEN_REVOKED, subject=token,
                 organisation_id=token.organisation_id, data={"name": token.name})
    return token


@transaction.atomic
def save_organisation(*, organisation: Organisation, actor: Actor) -> Organisation:
    """Create or change an organisation (the admin calls this); the log keeps which fields changed to what."""
    before = Organisation.objects.select_for_update().filter(pk=organisation.pk).first() if organisation.pk else None
    organisation.full_clean()
    organisation.save()
    changed = [f for f in ORGANISATION_FIELDS if before is None or getattr(before, f) != getattr(organisation, f)]
    if before is not None and not changed:
        return organisation
    record_event(actor=actor, subject=organisation, organisation_id=organisation.pk,
                 event_type=AccountEvent.ORGANISATION_CREATED if before is None else AccountEvent.ORGANISATION_CHANGED,
                 data={field: getattr(organisation, field) for field in changed})
    return organisation


@transaction.atomic
def set_membership(*, user: User, organisation: Organisation, role: str, actor: Actor) -> Membership:
    """Give a staff member a role in an organisation, or change it; nothing is logged when nothing changes."""
    membership = Membership.objects.select_for_update().filter(user=user, organisation=organisation).first()
    if membership is None:
        membership = Membership(user=user, organisation=organisation, role=role)
        membership.full_clean()
        membership.save()
        record_event(actor=actor, event_type=AccountEvent.MEMBERSHIP_ADDED, subject=membership,
                     data={"user": membership.user.get_username(), "role": role})
    elif membership.role != role:
        previous, membership.role = membership.role, role
        membership.full_clean()
        membership.save(update_fields=["role"])
        record_event(actor=actor, event_type=AccountEvent.MEMBERSHIP_CHANGED, subject=membership,
                     data={"user": membership.user.get_username(), "from": previous, "to": role})
    return membership


@transaction.atomic
def remove_membership(*, membership: Membership, actor: Actor) -> None:
    """Take a staff member out of an organisation: from now on she sees none of its cases."""
    record_event(actor=actor, event_type=AccountEvent.MEMBERSHIP_REMOVED, subject=membership,
                 data={"user": membership.user.get_username(), "role": membership.role})
    membership.delete()
