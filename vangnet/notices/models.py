"""Notices to providers ("meldingen", DSA Art. 16), the URLs they name, their outbox and the replies."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from vangnet.accounts.access import RestrictedQuerySet
from vangnet.common.crypto import EncryptedTextField

from .choices import DeliveryState, EscalationStep, MailboxMessageState, NoticeStatus, Outcome


class Notice(models.Model):
    """One notice to one provider about one or more URLs of a case.

    The handler reviews a draft (``body``); once queued its text is fixed and is exactly what
    the provider receives. The notifier is the organisation, never the victim. ``reference``
    goes into the subject and Message-ID, so a reply finds its way back.
    """

    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="notices")
    provider = models.ForeignKey("directory.Provider", verbose_name=_("provider"), on_delete=models.PROTECT,
                                 related_name="notices")
    reference = models.CharField(_("reference"), max_length=20, unique=True)
    language = models.CharField(_("language"), max_length=2)
    channel = models.CharField(_("channel"), max_length=50)
    status = models.CharField(_("status"), max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.DRAFT)
    trusted_flagger = models.BooleanField(_("sent as trusted flagger"), default=False)
    notifier_name = models.CharField(_("notifier's name"), max_length=200)
    notifier_email = models.EmailField(_("notifier's e-mail"))
    explanation = EncryptedTextField(_("the handler's explanation"))
    legal_grounds = models.ManyToManyField("taxonomy.LegalGround", verbose_name=_("legal grounds"), blank=True)
    subject = models.CharField(_("subject"), max_length=300)
    body = EncryptedTextField(_("text"))
    follows = models.ForeignKey("self", verbose_name=_("follow-up of"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="follow_ups")
    created_by = models.CharField(_("drafted by"), max_length=150)
    created_at = models.DateTimeField(_("drafted at"), auto_now_add=True)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    deadline_at = models.DateTimeField(_("deadline"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    outcome_note = EncryptedTextField(_("outcome: the provider's reason or the handler's note"), blank=True)
    outcome_at = models.DateTimeField(_("outcome recorded at"), null=True, blank=True)
    pdf_storage_name = models.CharField(_("PDF copy stored as"), max_length=200, blank=True)
    overdue_handled_at = models.DateTimeField(
        _("deadline passed, handled at"), null=True, blank=True,
        help_text=_("When the deadline job reminded the case owner (and queued a follow-up) for this notice."))

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "case__organisation"

    @property
    def is_overdue(self) -> bool:
        from django.utils import timezone

        return bool(self.deadline_at and not self.outcome and self.status in {NoticeStatus.SENT, NoticeStatus.ANSWERED}
                    and self.deadline_at < timezone.now())

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        indexes = [models.Index(fields=["status", "deadline_at"], name="notice_status_deadline")]

    def __str__(self) -> str:
        return self.reference


class NoticeUrl(models.Model):
    """An exact electronic location the notice names (Art. 16(2)(b)), with the evidence that shows it."""

    notice = models.ForeignKey(Notice, verbose_name=_("notice"), on_delete=models.CASCADE, related_name="urls")
    reported_url = models.ForeignKey("intake.ReportedUrl", verbose_name=_("reported URL"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="notice_urls")
    url = EncryptedTextField(_("URL"))
    evidence = models.ManyToManyField("evidence.EvidenceItem", verbose_name=_("evidence"), blank=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "notice__case__organisation"

    class Meta:
        ordering = ["id"]
        verbose_name = _("URL in a notice")
        verbose_name_plural = _("URLs in notices")

    def __str__(self) -> str:
        return self.url


class Delivery(models.Model):
    """The outbox: one hand-over of a notice to its channel ("verzending").

    The worker claims a pending delivery (``sending``, committed) before it talks to the
    channel and marks it ``sent`` after. A worker that dies in between leaves ``sending``:
    the recovery job makes it ``uncertain`` and never sends it again by itself, so a notice
    is never sent twice; the case page asks the handler to check and confirm or resend.
    """

    notice = models.ForeignKey(Notice, verbose_name=_("notice"), on_delete=models.CASCADE,
                               related_name="deliveries")
    channel = models.CharField(_("channel"), max_length=50)
    state = models.CharField(_("state"), max_length=10, choices=DeliveryState.choices,
                             default=DeliveryState.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), db_index=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    message_id = models.CharField(_("Message-ID"), max_length=200, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "notice__case__organisation"

    class Meta:
        ordering = ["id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="delivery_due")]

    def __str__(self) -> str:
        return f"{self.notice} {self.channel} {self.state}"


class Reply(models.Model):
    """A message from a provider about a notice, kept as plain text, never rendered as HTML.

    Matched to its notice by the reference in its subject or headers; an unmatched reply
    (forged, unknown or mistyped reference) stays unattached and is seen by no case.
    """

    notice = models.ForeignKey(Notice, verbose_name=_("notice"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="replies")
    source = models.CharField(_("came in through"), max_length=10)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    message_id = models.CharField(_("Message-ID"), max_length=300, blank=True)
    from_address = EncryptedTextField(_("from"), blank=True)
    subject = EncryptedTextField(_("subject"), blank=True)
    text = EncryptedTextField(_("text"), blank=True)
    attachments = models.JSONField(_("attachments (names, types and sizes only)"), default=list, blank=True)
    raw_sha256 = models.CharField(_("SHA-256 of the message as received"), max_length=64)
    raw_size = models.PositiveIntegerField(_("size as received"))

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "notice__case__organisation"

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("reply")
        verbose_name_plural = _("replies")

    def __str__(self) -> str:
        return f"reply {self.pk} to {self.notice_id}"


class Escalation(models.Model):
    """A step up the ladder when a provider does not act ("escalatie"), with the text prepared for it.

    Steps: the host's upstream provider (a new notice), a complaint to the Digital Services
    Coordinator (DSA Art. 53), a complaint to the data-protection authority, the police.
    """

    notice = models.ForeignKey(Notice, verbose_name=_("notice"), on_delete=models.PROTECT, related_name="escalations")
    step = models.CharField(_("step"), max_length=12, choices=EscalationStep.choices)
    text = EncryptedTextField(_("prepared text"))
    where = models.CharField(_("where to send or file it"), max_length=300, blank=True)
    upstream_notice = models.ForeignKey(Notice, verbose_name=_("notice to the upstream provider"), null=True,
                                        blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.CharField(_("prepared by"), max_length=150)
    created_at = models.DateTimeField(_("prepared at"), auto_now_add=True)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "notice__case__organisation"

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")

    def __str__(self) -> str:
        return f"{self.notice} {self.step}"


class ReuploadAlert(models.Model):
    """Content that was removed appeared again ("herupload"): a new evidence item matched the case's bank.

    The case owner is told; one click drafts a new notice that cites the notice that had it removed.
    """

    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.PROTECT,
                             related_name="reupload_alerts")
    item = models.ForeignKey("evidence.EvidenceItem", verbose_name=_("new evidence item"), on_delete=models.PROTECT,
                             related_name="+")
    original = models.ForeignKey(Notice, verbose_name=_("notice that had it removed"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    match_kind = models.CharField(_("matched by"), max_length=10)
    distance = models.PositiveSmallIntegerField(_("PDQ distance"), default=0)
    detected_at = models.DateTimeField(_("detected at"), auto_now_add=True)
    notice = models.ForeignKey(Notice, verbose_name=_("new notice"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "case__organisation"

    class Meta:
        ordering = ["-detected_at", "-id"]
        verbose_name = _("re-upload alert")
        verbose_name_plural = _("re-upload alerts")
        constraints = [models.UniqueConstraint(fields=["case", "item"], name="one_reupload_alert_per_item")]

    def __str__(self) -> str:
        return f"re-upload {self.item_id} in {self.case_id}"


class MailboxMessage(models.Model):
    """One message of the reply mailbox, taken in exactly once.

    The poller (``notices.mailbox``) writes this row in the same transaction as the reply it made
    from the message, before it marks the message read or moves it: a worker that stops in between
    leaves a row that tells the next run the message was taken in (it only moves it then), and one
    that stops before leaves neither row nor reply, so the next run takes the message in. The key
    is the message's IMAP UID within its folder's UIDVALIDITY; the SHA-256 of its bytes recognises
    the same message under new UIDs (a folder that was recreated). No text of the message is kept here.
    """

    mailbox = models.CharField(_("mailbox"), max_length=300)
    uidvalidity = models.PositiveBigIntegerField(_("UIDVALIDITY of the folder"))
    uid = models.PositiveBigIntegerField(_("UID"))
    state = models.CharField(_("state"), max_length=10, choices=MailboxMessageState.choices)
    reply = models.OneToOneField(Reply, verbose_name=_("reply"), null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="mailbox_message")
    raw_sha256 = models.CharField(_("SHA-256 of the message"), max_length=64, blank=True, db_index=True)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    taken_at = models.DateTimeField(_("taken in at"), auto_now_add=True)

    class Meta:
        ordering = ["mailbox", "uidvalidity", "uid"]
        verbose_name = _("mailbox message")
        verbose_name_plural = _("mailbox messages")
        constraints = [models.UniqueConstraint(fields=["mailbox", "uidvalidity", "uid"],
                                               name="mailbox_message_once")]

    def __str__(self) -> str:
        return f"{self.mailbox} {self.uidvalidity}/{self.uid} {self.state}"
