"""The one access rule for staff: scope any queryset to what a user may do.

Modelled on NetBox's ``RestrictedQuerySet``: a model that holds organisation data uses
``RestrictedQuerySet.as_manager()`` and says how its rows reach their organisation::

    class InternalNote(models.Model):
        organisation_path = "case__organisation"
        objects = RestrictedQuerySet.as_manager()

and every selector that reads for staff starts from
``Model.objects.restrict(user, Permission.VIEW_CASES)`` (or another permission). The rule
checks the permission, not only the membership: a row is in scope when the user is active
and holds, in an active organisation, a role whose ``ROLE_PERMISSIONS`` grant
``permission``, and the row belongs to that organisation. So an analyst, whose role grants
no ``VIEW_CASES``, reaches no case file however she asks.

Superusers get no implicit access: ``is_superuser`` (and ``is_staff``) count for nothing
here. A superuser sees case files only through a membership like anyone else, so running
the admin does not open every organisation's cases.

Background jobs and reporters read through their own selectors (retention, the receipt
code), not through ``restrict``: they are not staff and hold no roles.
"""

from __future__ import annotations

from typing import Any, Self, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db import models

from .choices import ROLE_PERMISSIONS, Permission

_M = TypeVar("_M", bound=models.Model)


def roles_granting(permission: str) -> frozenset[str]:
    """The roles whose permissions include ``permission``; an unknown permission is a programming error."""
    if permission not in Permission.values:
        raise ValueError(f"Unknown permission {permission!r}; see accounts.choices.Permission.")
    return frozenset(role for role, granted in ROLE_PERMISSIONS.items() if permission in granted)


def organisation_ids_where(user: AbstractBaseUser | AnonymousUser,
                           permission: str) -> models.QuerySet[Any, Any] | None:
    """The ids of the active organisations where ``user`` may do ``permission``, as a subquery.

    ``None`` when she can hold it nowhere (anonymous, inactive, or no role grants it). The
    subquery reads the user's active state from the database too, so a user object held
    from before a deactivation opens nothing.
    """
    from .models import Membership  # the models use RestrictedQuerySet, so import them late

    roles = roles_granting(permission)
    if not user.is_authenticated or not user.is_active or not roles:
        return None
    return Membership.objects.filter(user_id=user.pk, user__is_active=True, organisation__is_active=True,
                                     role__in=sorted(roles)).values("organisation_id")


class RestrictedQuerySet(models.QuerySet[_M]):
    """A queryset that can scope itself to the rows a staff member may act on (see the module docstring).

    The model names the path from a row to its organisation in ``organisation_path``
    (``"organisation"`` for a case, ``"case__organisation"`` for a note); there is no default,
    because a wrong guess (a referral's ``organisation`` is the one it goes *to*) would leak.
    """

    def restrict(self, user: AbstractBaseUser | AnonymousUser, permission: str = Permission.VIEW_CASES) -> Self:
        """Only the rows of organisations where ``user`` holds a role granting ``permission``."""
        path = getattr(self.model, "organisation_path", None)
        if not isinstance(path, str) or not path:
            raise ImproperlyConfigured(
                f"{self.model.__name__} uses RestrictedQuerySet but names no organisation_path.")
        organisation_ids = organisation_ids_where(user, permission)
        if organisation_ids is None:
            return self.none()
        return self.filter(**{f"{path}__in": organisation_ids})


def holds_permission_anywhere(user: AbstractBaseUser | AnonymousUser, permission: str) -> bool:
    """Whether ``user`` holds ``permission`` in at least one active organisation (one query).

    For pages that list rather than show one row, such as the case queue: someone who may
    view cases nowhere is refused (403) instead of shown an empty list.
    """
    organisation_ids = organisation_ids_where(user, permission)
    return organisation_ids is not None and organisation_ids.exists()
