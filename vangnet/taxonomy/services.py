"""Writes for legal grounds: an article number cited in notices changes only with an event saying so."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from vangnet.audit.services import Actor, record_event

from .choices import TaxonomyEvent
from .models import FormOfViolence, LegalGround

# Fields whose old and new values the log keeps; the longer texts are logged by name only.
LEGAL_GROUND_FIELDS = ("slug", "name_nl", "name_en", "provision", "law", "sor_category", "in_force_from",
                       "source_url", "verified_on", "is_active", "sort_order")
LEGAL_GROUND_TEXT_FIELDS = ("explanation_nl", "explanation_en", "source_note")


@transaction.atomic
def save_legal_ground(*, legal_ground: LegalGround, actor: Actor) -> LegalGround:
    """Create or change a legal ground (the admin calls this); the log keeps the provision before and after."""
    before = LegalGround.objects.select_for_update().filter(pk=legal_ground.pk).first() if legal_ground.pk else None
    legal_ground.full_clean()
    legal_ground.save()
    changed = [f for f in LEGAL_GROUND_FIELDS if before is None or getattr(before, f) != getattr(legal_ground, f)]
    changed_text = [f for f in LEGAL_GROUND_TEXT_FIELDS
                    if before is not None and getattr(before, f) != getattr(legal_ground, f)]
    if before is not None and not changed and not changed_text:
        return legal_ground
    data: dict[str, Any] = {field: getattr(legal_ground, field) for field in changed}
    if before is not None and "provision" in changed:
        data["previous_provision"] = before.provision
    if changed_text:
        data["changed"] = changed_text
    event_type = TaxonomyEvent.LEGAL_GROUND_CREATED if before is None else TaxonomyEvent.LEGAL_GROUND_CHANGED
    record_event(actor=actor, subject=legal_ground, event_type=event_type, data=data)
    return legal_ground


@transaction.atomic
def set_legal_ground_forms(*, legal_ground: LegalGround, forms: Iterable[FormOfViolence], actor: Actor) -> None:
    """Map a legal ground to exactly these forms of violence; logged when the mapping changes."""
    wanted = {form.pk: form for form in forms}
    current = set(legal_ground.forms.values_list("pk", flat=True))
    if current == set(wanted):
        return
    legal_ground.forms.set(list(wanted.values()))
    record_event(actor=actor, event_type=TaxonomyEvent.LEGAL_GROUND_CHANGED, subject=legal_ground,
                 data={"forms": sorted(form.slug for form in wanted.values())})
