"""Evidence items ("bewijsstukken"): metadata in the database, the bytes sealed in storage."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from vangnet.accounts.access import RestrictedQuerySet
from vangnet.common.crypto import EncryptedTextField

from .choices import CaptureStatus, Kind, Source


class EvidenceItem(models.Model):
    """One piece of evidence for a case, with the fingerprints that let anyone check it.

    The original bytes are kept exactly as received, sealed (``evidence.vault``) under
    ``storage_name``. Where the case concerns a minor and sexual imagery, the bytes are never
    stored: ``storage_name`` stays empty and ``discarded_reason`` says why; the hashes, size
    and type remain so the material can be recognised and reported. When the retention period of
    its kind has ended (``VANGNET_EVIDENCE_RETENTION_DAYS``), the bytes, the file name and the
    source URL are purged: ``purged_at`` is set, ``storage_name`` emptied and ``discarded_reason``
    says why, and the row keeps its hashes.
    """

    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.PROTECT,
                             related_name="evidence")
    report = models.ForeignKey("intake.Report", verbose_name=_("report"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="evidence")
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    media_type = models.CharField(_("media type (from the content)"), max_length=100)
    size = models.PositiveBigIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    pdq = models.CharField(_("PDQ hash"), max_length=64, blank=True, db_index=True)
    pdq_quality = models.PositiveSmallIntegerField(_("PDQ quality"), null=True, blank=True)
    pdq_variants = models.JSONField(_("PDQ of flips and rotations"), default=list, blank=True)
    pdq_frames = models.JSONField(_("PDQ of a video's key frames"), default=list, blank=True,
                                  help_text=_("Per key frame: its time in seconds, PDQ hash and quality."))
    original_name = EncryptedTextField(_("original file name"), blank=True)
    source_url = EncryptedTextField(_("source URL"), blank=True)
    storage_name = models.CharField(_("stored as"), max_length=200, blank=True)
    discarded_reason = models.CharField(_("why the bytes were not kept"), max_length=200, blank=True)
    has_location = models.BooleanField(
        _("location in the file"), default=False,
        help_text=_("The file's metadata (EXIF) holds GPS coordinates: sharing it may reveal where she lives."))
    purged_at = models.DateTimeField(_("purged at"), null=True, blank=True,
                                     help_text=_("When the retention period ended and the bytes, file name and "
                                                 "source URL were deleted; the hashes stay."))
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)
    added_by = models.CharField(_("added by"), max_length=150)

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "case__organisation"

    class Meta:
        ordering = ["added_at", "id"]
        verbose_name = _("evidence item")
        verbose_name_plural = _("evidence items")
        constraints = [models.CheckConstraint(
            condition=~models.Q(storage_name="") | ~models.Q(discarded_reason=""), name="evidence_kept_or_discarded")]

    def __str__(self) -> str:
        return f"{self.kind} {self.sha256[:12]}"


class SigningKey(models.Model):
    """An organisation's Ed25519 key that signs evidence bundles ("ondertekeningssleutel").

    Made on the first export. Police and prosecution compare the public key's fingerprint
    with the one the organisation publishes, so a key is kept as long as bundles it signed
    may be checked; a new key replaces it for new bundles only.
    """

    organisation = models.ForeignKey("accounts.Organisation", verbose_name=_("organisation"),
                                     on_delete=models.PROTECT, related_name="signing_keys")
    private_key = EncryptedTextField(_("private key (PEM, encrypted)"))
    public_key = models.TextField(_("public key (PEM)"))
    fingerprint = models.CharField(_("SHA-256 fingerprint of the public key (DER)"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    is_active = models.BooleanField(_("signs new bundles"), default=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("signing key")
        verbose_name_plural = _("signing keys")
        constraints = [models.UniqueConstraint(fields=["organisation"], condition=models.Q(is_active=True),
                                               name="one_active_signing_key_per_organisation")]

    def __str__(self) -> str:
        return f"{self.organisation} {self.fingerprint[:16]}"


class UrlCapture(models.Model):
    """A handler's request to record "this URL at this moment" ("vastlegging"), and how it went.

    The worker fetches the URL through the guarded fetcher (``common.safefetch``) and stores
    three evidence items: the response body as received, a JSON record of the exchange
    (headers, status, redirects, final URL, time, hashes) and a full-page screenshot. A
    failure keeps its message as the English text (a message id of the catalogue) with its
    values, so the case page shows it in the reader's language.
    """

    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.PROTECT,
                             related_name="captures")
    url = EncryptedTextField(_("URL"))
    status = models.CharField(_("status"), max_length=10, choices=CaptureStatus.choices,
                              default=CaptureStatus.QUEUED)
    requested_by = models.CharField(_("requested by"), max_length=150)
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("last attempt started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error_code = models.CharField(_("error code"), max_length=30, blank=True)
    error_message = models.CharField(_("error (English message id)"), max_length=300, blank=True)
    error_params = models.JSONField(_("values in the error message"), default=dict, blank=True)
    http_status = models.PositiveSmallIntegerField(_("HTTP status of the page"), null=True, blank=True)
    body = models.ForeignKey(EvidenceItem, verbose_name=_("response body"), null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    record = models.ForeignKey(EvidenceItem, verbose_name=_("record of the exchange"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    screenshot = models.ForeignKey(EvidenceItem, verbose_name=_("screenshot"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    objects = RestrictedQuerySet.as_manager()
    organisation_path = "case__organisation"

    class Meta:
        ordering = ["-requested_at", "-id"]
        verbose_name = _("URL capture")
        verbose_name_plural = _("URL captures")
        constraints = [models.CheckConstraint(condition=models.Q(status__in=CaptureStatus.values),
                                              name="url_capture_status_known")]

    def __str__(self) -> str:
        return f"capture {self.pk} ({self.status})"

    @property
    def items(self) -> list[tuple[str, EvidenceItem | None]]:
        """The evidence items a finished capture made, each with its name for people."""
        return [(gettext("Screenshot"), self.screenshot), (gettext("Page as received"), self.body),
                (gettext("Record of the exchange"), self.record)]

    @property
    def error_text(self) -> str:
        """The error, or what was left out of a capture that was made, in the active language."""
        if not self.error_message:
            return ""
        text = gettext(self.error_message)
        try:
            return text % self.error_params if self.error_params else text
        except (KeyError, TypeError, ValueError):
            return self.error_message
