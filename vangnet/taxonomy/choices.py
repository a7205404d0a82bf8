"""Taxonomy vocabularies: the DSA statement-of-reasons categories, and the taxonomy's event types."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from vangnet.audit.registry import register_event_types


class SorCategory(models.TextChoices):
    """The DSA Transparency Database's statement-of-reasons categories (``category``).

    The values are the codes its API takes (see docs in the design folder,
    dsa-sor-code-lists.md, for the snapshot they were taken from); never rename one.
    """

    ANIMAL_WELFARE = "STATEMENT_CATEGORY_ANIMAL_WELFARE", _("Animal welfare")
    CONSUMER_INFORMATION = "STATEMENT_CATEGORY_CONSUMER_INFORMATION", _("Consumer information infringements")
    CYBER_VIOLENCE = "STATEMENT_CATEGORY_CYBER_VIOLENCE", _("Cyber violence")
    CYBER_VIOLENCE_AGAINST_WOMEN = "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN", _("Cyber violence against women")
    DATA_PROTECTION_AND_PRIVACY_VIOLATIONS = ("STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS",
                                              _("Data protection and privacy violations"))
    ILLEGAL_OR_HARMFUL_SPEECH = "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH", _("Illegal or harmful speech")
    INTELLECTUAL_PROPERTY_INFRINGEMENTS = ("STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS",
                                           _("Intellectual property infringements"))
    NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS = (
        "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS",
        _("Negative effects on civic discourse or elections"))
    NOT_SPECIFIED_NOTICE = ("STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE",
                            _("Type of alleged illegal content not specified by the notifier"))
    OTHER_VIOLATION_TC = ("STATEMENT_CATEGORY_OTHER_VIOLATION_TC",
                          _("Other violation of provider's terms and conditions"))
    PROTECTION_OF_MINORS = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS", _("Protection of minors")
    RISK_FOR_PUBLIC_SECURITY = "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY", _("Risk for public security")
    SCAMS_AND_FRAUD = "STATEMENT_CATEGORY_SCAMS_AND_FRAUD", _("Scams and/or fraud")
    SELF_HARM = "STATEMENT_CATEGORY_SELF_HARM", _("Self-harm")
    UNSAFE_AND_PROHIBITED_PRODUCTS = ("STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS",
                                      _("Unsafe, non-compliant or prohibited products"))
    VIOLENCE = "STATEMENT_CATEGORY_VIOLENCE", _("Violence")


@register_event_types
class TaxonomyEvent(models.TextChoices):
    """Changes to legal grounds, as written to the event log (an article number cited in notices)."""

    LEGAL_GROUND_CREATED = "legal_ground.created", _("Legal ground created")
    LEGAL_GROUND_CHANGED = "legal_ground.changed", _("Legal ground changed")
