"""Reads of the hash banks for staff, scoped like every staff read (``accounts.access``).

A bank of an organisation is seen by whoever holds the permission there; a shared bank (no
organisation) by whoever holds it in some active organisation. Changing a bank takes the right
to work cases in its organisation; changing a shared bank is for superusers (``may_change_bank``).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from vangnet.accounts.access import holds_permission_anywhere
from vangnet.accounts.choices import Permission

from .models import Bank, BankEntry


def banks_for_user(user: AbstractBaseUser | AnonymousUser, permission: str = Permission.VIEW_CASES) -> QuerySet[Bank]:
    """The banks ``user`` may see: her organisations' (where she holds ``permission``) and the shared ones."""
    if not holds_permission_anywhere(user, permission):
        return Bank.objects.none()
    return Bank.objects.restrict(user, permission) | Bank.objects.filter(organisation__isnull=True)


def entries_for_user(user: AbstractBaseUser | AnonymousUser,
                     permission: str = Permission.VIEW_CASES) -> QuerySet[BankEntry]:
    """The entries of the banks that ``banks_for_user`` gives."""
    if not holds_permission_anywhere(user, permission):
        return BankEntry.objects.none()
    return BankEntry.objects.restrict(user, permission) | BankEntry.objects.filter(bank__organisation__isnull=True)


def may_change_bank(user: AbstractBaseUser | AnonymousUser, bank: Bank | None) -> bool:
    """Whether ``user`` may change ``bank`` (None: add one): a bank of an organisation where she may work
    cases; a shared bank only as a superuser. The admin checks Django's model permissions first.
    """
    if not user.is_authenticated or not user.is_active:
        return False
    if bank is None:
        return True
    if bank.organisation_id is None:
        return bool(getattr(user, "is_superuser", False))
    return Bank.objects.restrict(user, Permission.WORK_CASES).filter(pk=bank.pk).exists()
