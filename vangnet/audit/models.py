"""The append-only, hash-chained event log ("logboek") that every other app writes to."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .choices import ActorType
from .registry import registry


class Event(models.Model):
    """One change to a case, report or other record, chained to the one before it.

    A writer only inserts the event (``seq``, ``prev_hash`` and ``hash`` empty), so writers
    never wait for each other; the chainer (``audit.services.chain_pending_events``, run
    every few seconds by the scheduler) then gives each waiting event the next sequence
    number and a hash over its content and the previous event's hash. From then on, editing
    or deleting any event breaks every hash after it; ``vangnet verify_audit_chain`` finds
    the first broken link. The database refuses every update except that one chaining, and
    every delete. The payload never holds a reporter's personal data, so the log can be
    kept whole when a reporter withdraws.

    ``version`` names the digest format: 1 for events written before subjects were typed and
    the organisation was hashed too, 2 since.
    """

    seq = models.PositiveBigIntegerField(_("sequence number"), unique=True, null=True, blank=True)
    version = models.PositiveSmallIntegerField(_("digest format"), default=2)
    occurred_at = models.DateTimeField(_("occurred at"))
    actor_type = models.CharField(_("actor type"), max_length=16, choices=ActorType.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    actor_label = models.CharField(_("actor label"), max_length=150, blank=True)
    event_type = models.CharField(_("event type"), max_length=60)
    subject_type = models.CharField(_("subject type"), max_length=60)
    subject_id = models.CharField(_("subject id"), max_length=64)
    case_id = models.BigIntegerField(_("case id"), null=True, blank=True, db_index=True)
    organisation_id = models.BigIntegerField(_("organisation id"), null=True, blank=True, db_index=True)
    data = models.JSONField(_("data"), default=dict)
    prev_hash = models.CharField(_("previous hash"), max_length=64, null=True, blank=True)
    hash = models.CharField(_("hash"), max_length=64, unique=True, null=True, blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name = _("event")
        verbose_name_plural = _("events")
        indexes = [
            models.Index(fields=["subject_type", "subject_id"], name="audit_event_subject"),
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True), name="audit_event_unchained"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq or '-'} {self.event_type} {self.subject_type}:{self.subject_id}"

    @property
    def type_label(self) -> str:
        return registry.label(self.event_type)


class ChainHead(models.Model):
    """The single row that holds the last sequence number and hash; only the chainer locks it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.PositiveBigIntegerField(_("last sequence number"), default=0)
    hash = models.CharField(_("last hash"), max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("chain head")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_single_chain_head")]
