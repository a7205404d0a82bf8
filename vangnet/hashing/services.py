"""Writes of the hash banks: banks and their entries, each change logged and counted.

Every change first bumps the bank's ``version`` (an ``UPDATE`` that holds the bank's row lock
until the transaction ends) and only then inserts or deletes entries. So the writers of one
bank take turns, entry ids grow in the order their transactions commit, and a process's match
index (``matching``) that has loaded a bank's entries up to some id only needs those after it
when the version moves on. Removals also count in ``removals``, which makes every index reload
the bank.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from vangnet.audit.services import Actor, record_event

from .choices import BankEvent, HashType
from .models import Bank, BankEntry

HEX_64 = re.compile(r"[0-9a-f]{64}")
BANK_FIELDS = ["slug", "name", "description", "organisation_id", "case_id", "pdq_max_distance", "pdq_min_quality",
               "is_active"]


def normalise_hash(value: str | None, hash_type: str) -> str | None:
    """A hash as stored: 64 lower-case hex digits, or None for none; anything else is refused."""
    if value is None or value == "":
        return None
    text = value.strip().lower()
    if not HEX_64.fullmatch(text):
        label = HashType(hash_type).label
        raise ValidationError({hash_type: _("%(type)s must be 64 hexadecimal digits.") % {"type": label}})
    return text


def bump_version(bank: Bank, *, removed: int = 0) -> None:
    """Count a change of ``bank`` (locking its row until the transaction ends); call before changing entries."""
    Bank.objects.filter(pk=bank.pk).update(version=F("version") + 1, removals=F("removals") + removed)
    bank.version, bank.removals = Bank.objects.values_list("version", "removals").get(pk=bank.pk)


@transaction.atomic
def save_bank(*, bank: Bank, actor: Actor) -> Bank:
    """Create or change a bank (the admin calls this); the event names the fields that changed.

    A bank for a case belongs to the case's organisation.
    """
    before = Bank.objects.select_for_update().filter(pk=bank.pk).first() if bank.pk else None
    if bank.case is not None and bank.organisation_id is None:
        bank.organisation_id = bank.case.organisation_id
    bank.full_clean()
    changed = [f for f in BANK_FIELDS if before is None or getattr(before, f) != getattr(bank, f)]
    if before is not None and not changed:
        return bank
    if before is not None:
        bank.version, bank.removals = before.version, before.removals
    bank.save()
    bump_version(bank)
    record_event(actor=actor, subject=bank, event_type=BankEvent.CREATED if before is None else BankEvent.CHANGED,
                 data={"changed": changed, **{f: getattr(bank, f) for f in changed if f != "description"}})
    return bank


def create_bank(*, slug: str, name: str, actor: Actor, description: str = "", organisation: Any = None,
                case: Any = None, pdq_max_distance: int = 31, pdq_min_quality: int = 50,
                is_active: bool = True) -> Bank:
    """A new bank; one for a case (its re-upload bank) belongs to the case's organisation."""
    bank = Bank(slug=slug, name=name, description=description, organisation=organisation, case=case,
                pdq_max_distance=pdq_max_distance, pdq_min_quality=pdq_min_quality, is_active=is_active)
    return save_bank(bank=bank, actor=actor)


@transaction.atomic
def delete_bank(*, bank: Bank, actor: Actor) -> None:
    """Delete a bank with all its hashes; the log keeps that it existed, its name and how many hashes it held."""
    count = bank.entries.count()
    bump_version(bank, removed=count)
    record_event(actor=actor, subject=bank, event_type=BankEvent.DELETED,
                 data={"slug": bank.slug, "name": bank.name, "entries": count})
    bank.delete()


@transaction.atomic
def add_entry(*, bank: Bank, actor: Actor, sha256: str | None = None, pdq: str | None = None,
              pdq_quality: int | None = None, label: str = "", case: Any = None) -> BankEntry | None:
    """Add a file's hashes to a bank; a hash the bank holds already is left out. None when both were there.

    ``case`` (where the hashes came from) must be one of the bank's organisation. A shared bank
    (no organisation) may keep a case too, on vangnet's side only, so that the case's hashes can
    be taken out again (``remove_case_entries``): neither matching, nor the CSV export, nor the
    admin shows a shared bank's case to anyone.
    """
    sha256, pdq = normalise_hash(sha256, HashType.SHA256), normalise_hash(pdq, HashType.PDQ)
    if sha256 is None and pdq is None:
        raise ValidationError(_("Give a SHA-256 or a PDQ hash."))
    if pdq_quality is not None and not 0 <= pdq_quality <= 100:
        raise ValidationError({"pdq_quality": _("The PDQ quality is a number from 0 to 100.")})
    if case is not None and bank.organisation_id is not None and case.organisation_id != bank.organisation_id:
        raise ValidationError({"case": _("The case belongs to another organisation than the bank.")})
    bump_version(bank)  # first: the bank's writers take turns from here on
    if sha256 is not None and bank.entries.filter(sha256=sha256).exists():
        sha256 = None
    if pdq is not None and bank.entries.filter(pdq=pdq).exists():
        pdq = None
    if sha256 is None and pdq is None:
        transaction.set_rollback(True)  # nothing new: the version stays as it was
        return None
    entry = BankEntry(bank=bank, sha256=sha256, pdq=pdq, pdq_quality=pdq_quality if pdq else None,
                      label=label, case=case, added_by=actor.label[:150])
    entry.full_clean(exclude=["bank", "case"])
    entry.save()
    record_event(actor=actor, subject=bank, event_type=BankEvent.ENTRY_ADDED,
                 case_id=entry.case_id or bank.case_id,
                 data={"entry": entry.pk, "sha256": sha256, "pdq": pdq, "pdq_quality": entry.pdq_quality})
    return entry


@transaction.atomic
def remove_entry(*, entry: BankEntry, actor: Actor) -> None:
    """Take a hash out of its bank (every match index reloads the bank)."""
    bank = entry.bank
    bump_version(bank, removed=1)
    record_event(actor=actor, subject=bank, event_type=BankEvent.ENTRY_REMOVED,
                 case_id=entry.case_id or bank.case_id,
                 data={"entry": entry.pk, "sha256": entry.sha256, "pdq": entry.pdq})
    entry.delete()


def add_item_to_bank(*, bank: Bank, item: Any, label: str, actor: Actor) -> BankEntry | None:
    """Add an evidence item's hashes (SHA-256, and PDQ with its quality for an image) to a bank.

    For the re-upload watch: the hashes of a removed item join its case's bank. The entry
    names the item's case; into a bank of another organisation it is refused. Into a shared
    bank it goes with the case kept on our side only (see ``add_entry``): the caller gives an
    empty label there, so nothing that platforms read points to the case.
    """
    case = item.case
    if bank.organisation_id is not None and bank.organisation_id != case.organisation_id:
        raise ValidationError({"bank": _("This bank belongs to another organisation.")})
    return add_entry(bank=bank, actor=actor, sha256=item.sha256 or None, pdq=item.pdq or None,
                     pdq_quality=item.pdq_quality, label=label, case=case)


@transaction.atomic
def remove_case_entries(*, case_ids: list[int], actor: Actor) -> int:
    """Take every hash that came from these cases out of the shared banks (each removal logged); how many.

    For a withdrawn consent to the NCII bank: what her case put into a bank that platforms read
    comes out again. The banks of organisations (a case's own re-upload bank) are left alone.
    """
    entries = (BankEntry.objects.filter(case_id__in=case_ids, bank__organisation__isnull=True)
               .select_related("bank").order_by("bank_id", "id"))
    count = 0
    for entry in entries:
        remove_entry(entry=entry, actor=actor)
        count += 1
    return count
