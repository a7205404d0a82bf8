"""Vocabulary of the event log itself: who can act. Event types are declared by each app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ActorType(models.TextChoices):
    STAFF = "staff", _("Staff member")
    REPORTER = "reporter", _("Reporter")
    PARTNER = "partner", _("Partner organisation (API)")
    PLATFORM = "platform", _("Platform (moderation API)")
    SYSTEM = "system", _("System")

