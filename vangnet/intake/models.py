"""A report ("melding") as the reporter made it, and what she added later."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from vangnet.accounts.access import RestrictedQuerySet
from vangnet.common.crypto import EncryptedTextField
from vangnet.common.i18n import BilingualMixin
from vangnet.common.text import render_plain

from .choices import (AgeBand, Availability, Channel, CheckOutcome, ContactPreference, Duration, PerpetratorCount,
                      Relationship, ReporterRole)


class Report(models.Model):
    """One reporter's account of online violence; it always belongs to a case.

    The reporter reaches it again only with its receipt code and secret. Only a hash of
    the secret is stored. Withdrawing erases the personal fields and keeps the category
    answers that statistics and the event log need.
    """

    receipt_code = models.CharField(_("receipt code"), max_length=16, unique=True)
    secret_hash = models.CharField(_("secret hash"), max_length=64)
    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("receiving organisation"),
                                     on_delete=models.PROTECT, related_name="reports")
    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.PROTECT,
                             related_name="reports", null=True, blank=True)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices, default=Channel.WEB)
    submitted_via = models.ForeignKey("accounts.ApiToken", verbose_name=_("partner API token"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="reports")
    language = models.CharField(_("language"), max_length=5, default="nl")
    reporter_role = models.CharField(_("who is reporting"), max_length=20, choices=ReporterRole.choices)
    forms = models.ManyToManyField("taxonomy.FormOfViolence", verbose_name=_("forms of violence"),
                                   related_name="reports")
    description = EncryptedTextField(_("what happened"), blank=True)
    platform = EncryptedTextField(_("platform or app"), blank=True)
    immediate_danger = models.BooleanField(_("someone is in immediate danger"), default=False)
    age_band = models.CharField(_("age of the person affected"), max_length=10, choices=AgeBand.choices)
    relationship = models.CharField(_("relationship to the perpetrator"), max_length=20,
                                    choices=Relationship.choices, blank=True)
    perpetrator_count = models.CharField(_("number of perpetrators"), max_length=10,
                                         choices=PerpetratorCount.choices, blank=True)
    duration = models.CharField(_("how long it has gone on"), max_length=10, choices=Duration.choices, blank=True)
    contact_preference = models.CharField(_("contact preference"), max_length=8, choices=ContactPreference.choices,
                                          default=ContactPreference.NONE)
    contact_email = EncryptedTextField(_("e-mail address"), blank=True)
    contact_phone = EncryptedTextField(_("phone number"), blank=True)
    consent_processing = models.BooleanField(_("consent to processing"), default=False)
    consent_share_with = models.ForeignKey("directory.ReferralOrganisation", verbose_name=_("may be shared with"),
                                           null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("submitted at"), auto_now_add=True, db_index=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    erased_at = models.DateTimeField(_("personal data erased at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()  # staff read reports through accounts.access.restrict
    organisation_path = "organisation"  # the receiving organisation, which also holds the report's case

    class Meta:
        ordering = ["submitted_at"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        constraints = [
            models.CheckConstraint(condition=models.Q(consent_processing=True) | models.Q(withdrawn_at__isnull=False),
                                   name="report_needs_consent"),
        ]
        indexes = [models.Index(fields=["submitted_via", "submitted_at"])]

    def __str__(self) -> str:
        return self.receipt_code

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class ReportedUrl(models.Model):
    """A location of the reported content; ``normalized`` is what duplicate detection compares.

    The availability fields are the state of the worker's re-checks (``intake.availability``):
    whether the content is still online, since when it is offline (the first of two "removed"
    checks in a row), and when it is checked next. ``claimed_until``/``claim_token`` mark a
    check that is queued or running, so two schedulers or workers never check it twice.
    """

    report = models.ForeignKey(Report, verbose_name=_("report"), on_delete=models.CASCADE, related_name="urls")
    url = EncryptedTextField(_("URL"))
    normalized = EncryptedTextField(_("normalised URL"))
    normalized_hash = models.CharField(_("normalised URL hash"), max_length=64, db_index=True)
    availability = models.CharField(_("availability"), max_length=10, choices=Availability.choices,
                                    default=Availability.UNCHECKED)
    removed_since = models.DateTimeField(
        _("removed since"), null=True, blank=True,
        help_text=_("The first check of the current run of checks that found the content removed."))
    offline_since = models.DateTimeField(
        _("offline since"), null=True, blank=True,
        help_text=_("Set when a second check in a row found the content removed: the time of the first."))
    last_checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    next_check_at = models.DateTimeField(_("next check at"), null=True, blank=True, db_index=True,
                                         help_text=_("Empty: not checked yet, due at once."))
    claimed_until = models.DateTimeField(_("check claimed until"), null=True, blank=True)
    claim_token = models.CharField(_("check claim token"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("reported URL")
        verbose_name_plural = _("reported URLs")

    def __str__(self) -> str:
        return self.normalized


class AvailabilityCheck(models.Model):
    """One re-check of a reported URL by the worker: what it answered, never the URL itself.

    The URL is kept encrypted on ``ReportedUrl`` only; a redirect's end is kept as a keyed
    hash (HMAC with the current URL hash key, ``common.crypto``), enough to see that the
    address now leads somewhere else without storing where. ``content_sha256`` is the
    SHA-256 of the body (bodies above the check's size limit are not hashed).
    """

    reported_url = models.ForeignKey(ReportedUrl, verbose_name=_("reported URL"), on_delete=models.CASCADE,
                                     related_name="checks")
    checked_at = models.DateTimeField(_("checked at"), db_index=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=CheckOutcome.choices)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    content_sha256 = models.CharField(_("content SHA-256"), max_length=64, blank=True)
    content_changed = models.BooleanField(
        _("content changed"), default=False,
        help_text=_("The content differs from what the previous check that saw it online found."))
    final_url_hash = models.CharField(_("final URL hash"), max_length=64, blank=True,
                                      help_text=_("Keyed hash of the address the last redirect led to."))
    redirected = models.BooleanField(_("redirected"), default=False)
    error_code = models.CharField(_("error code"), max_length=32, blank=True)

    class Meta:
        ordering = ["-checked_at", "-pk"]
        verbose_name = _("availability check")
        verbose_name_plural = _("availability checks")
        indexes = [models.Index(fields=["reported_url", "-checked_at"])]

    def __str__(self) -> str:
        return f"{self.reported_url_id} {self.checked_at:%Y-%m-%d %H:%M} {self.outcome}"


class ReportAddition(models.Model):
    """Information the reporter added later through her follow-up page."""

    report = models.ForeignKey(Report, verbose_name=_("report"), on_delete=models.CASCADE, related_name="additions")
    text = EncryptedTextField(_("text"))
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        ordering = ["added_at"]
        verbose_name = _("addition")
        verbose_name_plural = _("additions")


class InfoPage(BilingualMixin, models.Model):
    """A public information page (e.g. digital safety, "digitale scheiding"), edited as data."""

    slug = models.SlugField(_("slug"), unique=True)
    title_nl = models.CharField(_("title (Dutch)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    body_nl = models.TextField(
        _("text (Dutch)"), help_text=_("Paragraphs separated by a blank line; lines starting with '- ' form a list."))
    body_en = models.TextField(_("text (English)"), blank=True)
    is_published = models.BooleanField(_("published"), default=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=100)

    class Meta:
        ordering = ["sort_order", "slug"]
        verbose_name = _("information page")
        verbose_name_plural = _("information pages")

    def __str__(self) -> str:
        return self.title_nl

    @property
    def title_text(self) -> str:
        return self.tr("title")

    @property
    def body_html(self) -> str:
        return render_plain(self.tr("body"))


class FollowupAttempts(models.Model):
    """How many secrets were tried for one receipt code in its current lockout window.

    The count goes up in one atomic statement *before* a secret is checked, so however
    many guesses arrive at the same moment, at most ``VANGNET_FOLLOWUP_CODE_FAILURES``
    secrets are checked per code per window (``services.count_followup_attempt``).
    """

    receipt_code = models.CharField(_("receipt code"), max_length=16, unique=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    window_ends_at = models.DateTimeField(_("window ends at"), db_index=True)

    class Meta:
        verbose_name = _("follow-up sign-in attempts")
        verbose_name_plural = _("follow-up sign-in attempts")

    def __str__(self) -> str:
        return f"{self.receipt_code}: {self.attempts}"


class IdempotencyKey(models.Model):
    """The first answer to a partner's ``POST /api/v1/reports`` that carried an ``Idempotency-Key``.

    A partner whose connection broke after we stored a report retries with the same key
    and gets the same answer (receipt code and secret) instead of filing a second report.
    The row is inserted in the same transaction as the report, and the unique constraint
    makes a simultaneous retry wait for the first and then read its answer. The answer
    holds the reporter's secret, so it is kept sealed (Fernet, ``common.crypto.seal``) and
    for 24 hours only (``idempotency.KEY_LIFETIME``); ``idempotency.prune_expired_keys``,
    run daily by ``vangnet apply_retention``, deletes older rows.
    """

    token = models.ForeignKey("accounts.ApiToken", verbose_name=_("partner API token"), on_delete=models.CASCADE,
                              related_name="+")
    key = models.CharField(_("idempotency key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64,
                                   help_text=_("SHA-256 of the request body, to refuse the key for another request."))
    status = models.PositiveSmallIntegerField(_("answer status"), default=0)
    sealed_answer = models.TextField(_("sealed answer"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["token", "key"], name="idempotency_key_once_per_token"),
        ]

    def __str__(self) -> str:
        return self.key
