"""The append-only, hash-chained event log ("logboek") that every other app writes to."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import ActorType, EventType


class Event(models.Model):
    """One change to a case, report or other record, chained to the one before it.

    ``hash`` covers this event's content and the previous event's hash, so editing or
    deleting any event breaks every hash after it; ``vangnet verify_audit_chain`` finds
    the first broken link. The payload never holds a reporter's personal data, so the
    log can be kept whole when a reporter withdraws.
    """

    seq = models.PositiveBigIntegerField(_("sequence number"), unique=True)
    occurred_at = models.DateTimeField(_("occurred at"))
    actor_type = models.CharField(_("actor type"), max_length=16, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    actor_label = models.CharField(_("actor label"), max_length=150, blank=True)
    event_type = models.CharField(_("event type"), max_length=40, choices=EventType.choices)
    object_type = models.CharField(_("object type"), max_length=40)
    object_id = models.CharField(_("object id"), max_length=64)
    case_id = models.BigIntegerField(_("case id"), null=True, blank=True, db_index=True)
    data = models.JSONField(_("data"), default=dict)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    class Meta:
        ordering = ["seq"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return f"#{self.seq} {self.event_type} {self.object_type}:{self.object_id}"


class ChainHead(models.Model):
    """The single row that holds the last sequence number and hash; locking it orders appends."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(_("last sequence number"), default=0)
    hash = models.CharField(_("last hash"), max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("chain head")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_single_chain_head")]
