"""Vocabularies of the hash banks, and their events."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from vangnet.audit.registry import register_event_types


class HashType(models.TextChoices):
    """The kinds of hash a bank holds; the values are the hashers' stable names (``hashers.HASHERS``)."""

    SHA256 = "sha256", _("SHA-256 (exact file)")
    PDQ = "pdq", _("PDQ (perceptual, images)")


@register_event_types
class BankEvent(models.TextChoices):
    """Every change to a hash bank, and every export of one (hashes shared with a partner)."""

    CREATED = "hash_bank.created", _("Hash bank created")
    CHANGED = "hash_bank.changed", _("Hash bank changed")
    DELETED = "hash_bank.deleted", _("Hash bank deleted")
    ENTRY_ADDED = "hash_bank.entry_added", _("Hash added to a bank")
    ENTRY_REMOVED = "hash_bank.entry_removed", _("Hash removed from a bank")
    IMPORTED = "hash_bank.imported", _("Hashes imported into a bank")
    EXPORTED = "hash_bank.exported", _("Hash bank exported")
