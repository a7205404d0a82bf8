"""Vocabularies of the evidence vault, and its custody events."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from vangnet.audit.registry import register_event_types


class Source(models.TextChoices):
    REPORTER = "reporter", _("The reporter")
    PARTNER = "partner", _("A partner organisation (API)")
    STAFF = "staff", _("A staff member")
    CAPTURE = "capture", _("Captured from a URL")


class Kind(models.TextChoices):
    IMAGE = "image", _("Image or screenshot")
    VIDEO = "video", _("Video")
    DOCUMENT = "document", _("PDF document")
    TEXT = "text", _("Text or chat export")
    ARCHIVE = "archive", _("Chat export archive (kept unopened)")


@register_event_types
class EvidenceEvent(models.TextChoices):
    """Chain of custody: every step an evidence item goes through."""

    ADDED = "evidence.added", _("Evidence added")
    DISCARDED = "evidence.discarded", _("Evidence hashed and discarded (a minor and sexual imagery)")
    VIEWED = "evidence.viewed", _("Evidence viewed")
    DOWNLOADED = "evidence.downloaded", _("Evidence downloaded")
    EXPORTED = "evidence.exported", _("Evidence exported")
    DELETED = "evidence.deleted", _("Evidence deleted")
    CAPTURE_REQUESTED = "evidence.capture_requested", _("URL capture requested")
    CAPTURED = "evidence.captured", _("URL captured")
    CAPTURE_POSTPONED = "evidence.capture_postponed", _("URL capture postponed (will try again)")
    CAPTURE_FAILED = "evidence.capture_failed", _("URL capture failed")


class CaptureStatus(models.TextChoices):
    """Where a URL capture stands: waiting for the worker, being made, made, or given up."""

    QUEUED = "queued", pgettext_lazy("capture status", "Queued")
    RUNNING = "running", pgettext_lazy("capture status", "Being captured")
    DONE = "done", pgettext_lazy("capture status", "Captured")
    FAILED = "failed", pgettext_lazy("capture status", "Failed")
