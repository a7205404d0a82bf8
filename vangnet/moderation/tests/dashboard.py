"""Rows for the dashboard's tests: a flagged item with its review task, an image, a notice, an appeal, an alert.

Made directly (as the check and the API leave them), so the pages are tested without the classifiers.
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image

from vangnet.audit.services import Actor
from vangnet.common.crypto import fernet
from vangnet.moderation import queue
from vangnet.moderation.choices import ItemStatus, TaskKind
from vangnet.moderation.models import Appeal, Decision, Item, ReviewTask, ThreatAlert, UserNotice

SECRET_TEXT = "Ik weet waar je woont, vanavond kom ik langs. MARKER-7781"
LONG_URL = "https://social.example/p/" + "a" * 400
SYSTEM = Actor.system("test")


def fixed_default_rules() -> dict[str, Any]:
    """The default policy's rules with review at 0.5 for every label: the pages' tests need no classifier weights."""
    from vangnet.moderation.choices import Label
    from vangnet.moderation.policy import DEFAULT_CATEGORY, RuleSpec

    return {label: RuleSpec(label=label, review_threshold=0.5, category=DEFAULT_CATEGORY[label])
            for label in Label.values}


def png(*, with_metadata: bool = True) -> bytes:
    image = Image.radial_gradient("L").resize((64, 48)).convert("RGB")
    out = io.BytesIO()
    if with_metadata:
        from PIL import PngImagePlugin

        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "secret-metadata-4242")
        image.save(out, format="PNG", pnginfo=info)
    else:
        image.save(out, format="PNG")
    return out.getvalue()


def flagged_item(organisation: Any, *, external_id: str = "post-1", author_id: str = "author-9",
                 text: str = SECRET_TEXT, severity: float = 0.93, image: bytes | None = None,
                 url: str = "https://social.example/p/1", **fields: Any) -> Item:
    return Item.objects.create(
        organisation=organisation, external_id=external_id, author_id=author_id, text=text, text_chars=len(text),
        url=url, parent_id="thread-12", language=fields.pop("language", "nl"),
        language_validated=fields.pop("language_validated", True),
        scores=fields.pop("scores", {"threat": severity, "toxicity": 0.41, "misogyny": 0.12}),
        flagged=fields.pop("flagged", ["threat"]), severity=severity, status=ItemStatus.IN_REVIEW,
        has_image=image is not None, image_sealed=fernet().encrypt(image) if image is not None else None,
        image_media_type="image/png" if image is not None else "", **fields)


def flagged_task(organisation: Any, **kwargs: Any) -> ReviewTask:
    item = flagged_item(organisation, **kwargs)
    return queue.enqueue(item=item, kind=TaskKind.FLAGGED, severity=item.severity, actor=SYSTEM)


def notice_for(item: Item, *, external_id: str = "notice-1") -> UserNotice:
    return UserNotice.objects.create(organisation=item.organisation, external_id=external_id, item=item,
                                     label="threat", explanation="He threatens my sister.",
                                     notifier_name="Noor Notifier", notifier_email="noor@notifier.example")


def decided(item: Item, user: Any, **fields: Any) -> Decision:
    defaults: dict[str, Any] = {"visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"],
                                "ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT", "labels": ["threat"],
                                "facts": "Threat.", "category": "STATEMENT_CATEGORY_VIOLENCE"}
    defaults.update(fields)
    return Decision.objects.create(organisation=item.organisation, item=item, decided_by=user, **defaults)


def appeal_task(organisation: Any, decider: Any, *, external_id: str = "appeal-1") -> ReviewTask:
    item = flagged_item(organisation, external_id=f"appealed-{external_id}")
    decision = decided(item, decider)
    appeal = Appeal.objects.create(organisation=organisation, external_id=external_id, decision=decision,
                                   reason="It was a joke between friends.")
    return queue.enqueue(item=item, kind=TaskKind.APPEAL, severity=0.5, actor=SYSTEM, appeal=appeal)


def alert_for(item: Item, *, score: float = 0.95) -> ThreatAlert:
    return ThreatAlert.objects.create(organisation=item.organisation, item=item, score=score,
                                      authority_name="Politie", notification="Prepared notification text.")
