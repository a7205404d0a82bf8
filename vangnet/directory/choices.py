"""Directory vocabularies: the language a provider takes notices in, and the directory's event types."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from vangnet.audit.registry import register_event_types


class NoticeLanguage(models.TextChoices):
    """The language notices to a provider are drafted in."""

    DUTCH = "nl", _("Dutch")
    ENGLISH = "en", _("English")


@register_event_types
class DirectoryEvent(models.TextChoices):
    """Changes to providers, their domains and coordinators, as written to the event log."""

    PROVIDER_CREATED = "provider.created", _("Provider created")
    PROVIDER_CHANGED = "provider.changed", _("Provider changed")
    PROVIDER_DOMAIN_ADDED = "provider.domain_added", _("Domain added to a provider")
    PROVIDER_DOMAIN_REMOVED = "provider.domain_removed", _("Domain removed from a provider")
    UNKNOWN_HOST_ASSIGNED = "unknown_host.assigned", _("Unknown website assigned to a provider")
    COORDINATOR_SAVED = "coordinator.saved", _("Digital Services Coordinator saved")
