"""Checking a platform's content: classify the texts, hash and match the images, apply the policy, store.

``check_items`` is the one code path for the API's ``POST /moderation/check`` and for
``vangnet classify`` (which only assesses, without a platform: ``assess``). A batch is judged
whole before anything is stored, and stored in one transaction: a refused batch changes
nothing, an accepted one is durable before the answer goes out.

What is kept (minimised): for every item its scores, matches, language and outcome, so an
author's history and the policy's work can be shown; the text, address and image only for an
item that goes to review or is restricted, since only a moderator or a statement needs them.
Image bytes are sealed and dropped again once the item is decided (``decisions``).
"""

from __future__ import annotations

import hashlib
import io
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from vangnet.accounts.models import Organisation
from vangnet.audit.services import Actor, record_event
from vangnet.common.crypto import fernet
from vangnet.evidence import media
from vangnet.common.crypto import keyed_hash, url_hash_keys
from vangnet.hashing.hashers import HASHERS, PdqHasher

from . import classifier, queue
from .choices import RESTRICTING_ACTIONS, Action, ItemSource, ItemStatus, ModerationEvent, TaskKind
from .models import Item
from .policy import EffectivePolicy, Verdict, default_policy, evaluate, policy_for

MAX_BATCH = 64
MAX_TEXT_CHARS = 10_000
MAX_IMAGE_BYTES = 4 * 1024 * 1024
# Decoding is what an image costs: at most 12 megapixels each and 100 in one batch keep the worst
# request to seconds, and each image is hashed from a copy of at most 1,024 pixels a side.
MAX_IMAGE_PIXELS = 12_000_000
MAX_BATCH_PIXELS = 100_000_000
HASH_SIDE = 1024
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


@dataclass
class ItemIn:
    """One item as a platform sends it, already type-checked (the API's schema)."""

    external_id: str
    text: str = ""
    image: bytes | None = None
    language: str | None = None
    author_id: str = ""
    parent_id: str = ""
    url: str = ""
    posted_at: datetime | None = None


@dataclass
class Assessment:
    """What the machine and the policy say about one item, before anything is stored."""

    scores: dict[str, float]
    language: str
    language_validated: bool
    doxing_kinds: tuple[str, ...]
    matches: list[dict[str, Any]]
    verdict: Verdict
    image_sha256: str = ""
    image_pdq: str = ""
    image_quality: int | None = None
    image_type: str = ""


@dataclass
class CheckResult:
    item: Item
    assessment: Assessment
    replayed: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class BatchRefused(ValidationError):
    """A batch with errors: ``errors_by_item`` maps an item's position to its field messages."""

    def __init__(self, errors_by_item: dict[int, dict[str, list[str]]], code: str = "invalid") -> None:
        super().__init__(_("The batch was refused; nothing was stored."), code=code)
        self.errors_by_item = errors_by_item


def _image_errors(data: bytes) -> tuple[list[str], int]:
    """The image's errors (none: it may be checked) and its pixels, read once from its header."""
    if not data:
        return [_("The image is empty.")], 0
    if len(data) > MAX_IMAGE_BYTES:
        return [_("The image is larger than %(mb)d MB.") % {"mb": MAX_IMAGE_BYTES // 2**20}], 0
    detected = media.detect(data)
    if detected is None or detected.mime not in IMAGE_TYPES:
        return [_("This is not a JPEG, PNG, GIF or WebP image (read from its content).")], 0
    pixels = image_pixels(data)
    if pixels is None:
        return [_("The image cannot be decoded; send it again or another copy.")], 0
    if pixels > MAX_IMAGE_PIXELS:
        return [_("The image has more than %(mp)d megapixels.") % {"mp": MAX_IMAGE_PIXELS // 1_000_000}], pixels
    return [], pixels


def image_pixels(data: bytes) -> int | None:
    """Width times height from the image's header, without decoding it (a pixel bomb costs nothing here)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Pillow's bomb warning: the size is compared by the caller
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    return int(width) * int(height)


def validate(items: Sequence[ItemIn]) -> None:
    """Refuse the whole batch when one item is wrong; nothing has been stored yet."""
    errors: dict[int, dict[str, list[str]]] = {}
    if not items:
        raise BatchRefused({-1: {"items": [_("Send at least one item.")]}})
    if len(items) > MAX_BATCH:
        raise BatchRefused({-1: {"items": [_("Send at most %(limit)d items at once.") % {"limit": MAX_BATCH}]}})
    seen: set[str] = set()
    batch_pixels = 0
    for position, item in enumerate(items):
        problems: dict[str, list[str]] = {}
        if item.external_id in seen:
            problems.setdefault("id", []).append(_("This id occurs twice in the batch."))
        seen.add(item.external_id)
        if not item.text.strip() and item.image is None:
            problems.setdefault("text", []).append(_("Send a text, an image or both; an empty text is not checked."))
        if len(item.text) > MAX_TEXT_CHARS:
            problems.setdefault("text", []).append(
                _("Give at most %(limit)d characters.") % {"limit": MAX_TEXT_CHARS})
        if item.image is not None:
            image_errors, pixels = _image_errors(item.image)
            if image_errors:
                problems["image"] = image_errors
            else:
                batch_pixels += pixels
                if batch_pixels > MAX_BATCH_PIXELS:
                    problems["image"] = [_("The images of one batch may have at most %(mp)d megapixels together; "
                                           "send the rest in another batch.") % {"mp": MAX_BATCH_PIXELS // 10**6}]
        if problems:
            errors[position] = problems
    if errors:
        raise BatchRefused(errors)


def _hash_image(data: bytes) -> tuple[str, str, int | None, tuple[str, ...]]:
    sha256 = HASHERS["sha256"].hash_bytes(data)
    pdq = PdqHasher().hash_bytes(data, max_side=HASH_SIDE)
    assert sha256 is not None
    if pdq is None:
        return sha256.value, "", None, ()
    return sha256.value, pdq.value, pdq.quality, pdq.variants


def _matches(sha256: str, pdq: str, quality: int | None, variants: tuple[str, ...],
             policy: EffectivePolicy) -> list[dict[str, Any]]:
    from vangnet.hashing.matching import match

    if not policy.bank_ids:
        return []
    found = match(sha256=sha256 or None, pdq=pdq or None, quality=quality, variants=variants, banks=policy.bank_ids)
    best: dict[int, dict[str, Any]] = {}
    for hit in found:  # one line per bank: its closest entry
        if hit.bank.pk not in best:
            best[hit.bank.pk] = {"bank": hit.bank.slug, "kind": str(hit.kind), "distance": hit.distance}
    return list(best.values())


def assess(items: Sequence[ItemIn], policy: EffectivePolicy | None = None) -> list[Assessment]:
    """Classify, hash and match every item and apply the policy; stores nothing."""
    policy = policy or default_policy()
    texts = [item.text for item in items]
    with_text = [position for position, text in enumerate(texts) if text.strip()]
    classified = classifier.classify([texts[p] for p in with_text], [items[p].language for p in with_text])
    by_position = dict(zip(with_text, classified, strict=True))
    assessments = []
    undecodable: dict[int, dict[str, list[str]]] = {}
    for position, item in enumerate(items):
        result = by_position.get(position)
        scores = dict(result.scores) if result else {label: 0.0 for label in classifier.LABELS}
        if result:
            language, validated = result.language, result.language_validated
        elif item.language:
            language, validated = item.language, item.language in classifier.VALIDATED_LANGUAGES
        else:
            language, validated = "und", False
        sha256 = pdq = image_type = ""
        quality: int | None = None
        matches: list[dict[str, Any]] = []
        if item.image is not None:
            sha256, pdq, quality, variants = _hash_image(item.image)
            if not pdq:  # the header looked right, the pixels do not decode (truncated, corrupt)
                undecodable[position] = {"image": [_("The image cannot be decoded; send it again or another "
                                                     "copy.")]}
                continue
            detected = media.detect(item.image)
            image_type = detected.mime if detected else ""
            matches = _matches(sha256, pdq, quality, variants, policy)
        verdict = evaluate(policy=policy, scores=scores, matches=matches, language_validated=validated)
        assessments.append(Assessment(scores=scores, language=language, language_validated=validated,
                                      doxing_kinds=result.doxing_kinds if result else (), matches=matches,
                                      verdict=verdict, image_sha256=sha256, image_pdq=pdq, image_quality=quality,
                                      image_type=image_type))
    if undecodable:
        raise BatchRefused(undecodable)
    return assessments


def content_hash(text: str, image: bytes | None) -> str:
    """A keyed fingerprint of an item's content: equal for a retry, without keeping (or revealing) the text."""
    image_sha = hashlib.sha256(image).hexdigest() if image is not None else ""
    return keyed_hash(f"{text}\x00{image_sha}", url_hash_keys()[0])


def check_items(*, organisation: Organisation, items: Sequence[ItemIn], actor: Actor,
                source: str = ItemSource.CHECK, _retried: bool = False) -> list[CheckResult]:
    """Judge and store a batch for a platform (all or nothing); see the module docstring.

    An id the platform sent before with the same content gets its first answer again (a retry
    after a lost answer); with other content the batch is refused (``item_exists``).
    """
    validate(items)
    policy = policy_for(organisation)
    existing = {item.external_id: item for item in
                Item.objects.filter(organisation=organisation, external_id__in=[i.external_id for i in items])}
    errors: dict[int, dict[str, list[str]]] = {}
    for position, item_in in enumerate(items):
        stored = existing.get(item_in.external_id)
        if stored is not None and not same_content(stored, item_in):
            errors[position] = {"id": [_("An item with this id was checked before with other content; give a new "
                                         "id.")]}
    if errors:
        raise BatchRefused(errors, code="item_exists")
    fresh_positions = [position for position, item in enumerate(items) if item.external_id not in existing]
    fresh = [items[position] for position in fresh_positions]
    try:
        assessed = assess(fresh, policy)
    except BatchRefused as refused:  # positions in the batch as sent, not among the fresh items
        raise BatchRefused({fresh_positions[p]: errors for p, errors in refused.errors_by_item.items()}) from None
    assessments = dict(zip((item.external_id for item in fresh), assessed, strict=True))
    try:
        with transaction.atomic():
            results = _store(organisation=organisation, items=fresh, assessments=assessments, policy=policy,
                             actor=actor, source=source)
    except IntegrityError:
        # The same new id arrived twice at once (a client's retry while its first request ran): the other
        # request stored it first, so this one answers as a replay, or 409 for other content.
        if _retried:
            raise
        return check_items(organisation=organisation, items=items, actor=actor, source=source, _retried=True)
    replayed = {item.external_id: item for item in existing.values()}
    out = []
    for item_in in items:
        if item_in.external_id in replayed:
            stored = replayed[item_in.external_id]
            out.append(CheckResult(item=stored, assessment=_stored_assessment(stored), replayed=True))
        else:
            out.append(results[item_in.external_id])
    return out


def same_content(stored: Item, item_in: ItemIn) -> bool:
    if stored.content_hash:
        return stored.content_hash == content_hash(item_in.text, item_in.image)
    # Stored before fingerprints: the kept text (if any) and the image's hash must agree.
    image_sha = hashlib.sha256(item_in.image).hexdigest() if item_in.image is not None else ""
    if stored.image_sha256 != image_sha or stored.text_chars != len(item_in.text):
        return False
    return bool(stored.text) and stored.text == item_in.text


def keep_content(*, item: Item, content: ItemIn) -> None:
    """Keep the text, address and image of an item checked before without them, now that a person asks about it.

    Only content that is the item's own (the same length of text, the same image hash) is taken.
    """
    if not same_content(item, content):
        return
    image_sha = hashlib.sha256(content.image).hexdigest() if content.image is not None else ""
    changed = []
    if not item.text and content.text:
        item.text = content.text
        changed.append("text")
    if not item.url and content.url:
        item.url = content.url
        changed.append("url")
    if item.image_sealed is None and content.image is not None and image_sha == item.image_sha256:
        item.image_sealed = fernet().encrypt(content.image)
        changed.append("image_sealed")
    if changed:
        item.save(update_fields=changed)


def _stored_assessment(item: Item) -> Assessment:
    verdict = Verdict(action=item.recommended_action, flagged=tuple(item.flagged),
                      review=item.recommended_action == Action.REVIEW, severity=item.severity)
    return Assessment(scores=item.scores, language=item.language, language_validated=item.language_validated,
                      doxing_kinds=(), matches=item.matches, verdict=verdict, image_sha256=item.image_sha256,
                      image_pdq=item.image_pdq, image_quality=item.image_pdq_quality, image_type=item.image_media_type)


def _store(*, organisation: Organisation, items: Sequence[ItemIn], assessments: dict[str, Assessment],
           policy: EffectivePolicy, actor: Actor, source: str) -> dict[str, CheckResult]:
    rows = []
    for item_in in items:
        assessment = assessments[item_in.external_id]
        verdict = assessment.verdict
        keep = verdict.review or verdict.action in RESTRICTING_ACTIONS or source != ItemSource.CHECK
        status = (ItemStatus.IN_REVIEW if verdict.review
                  else ItemStatus.ACTIONED if verdict.action in RESTRICTING_ACTIONS else ItemStatus.ALLOWED)
        rows.append(Item(
            organisation=organisation, external_id=item_in.external_id, source=source, author_id=item_in.author_id,
            parent_id=item_in.parent_id, url=item_in.url if keep else "", text=item_in.text if keep else "",
            text_chars=len(item_in.text), content_hash=content_hash(item_in.text, item_in.image),
            has_image=item_in.image is not None,
            image_sha256=assessment.image_sha256, image_pdq=assessment.image_pdq,
            image_pdq_quality=assessment.image_quality, image_media_type=assessment.image_type,
            image_sealed=fernet().encrypt(item_in.image) if keep and item_in.image is not None else None,
            content_date=item_in.posted_at, language=assessment.language,
            language_validated=assessment.language_validated, scores=assessment.scores,
            flagged=list(verdict.flagged), matches=assessment.matches, recommended_action=verdict.action,
            severity=verdict.severity, model_version=classifier.model_version(), policy_version=policy.version,
            status=status))
    Item.objects.bulk_create(rows)
    if source == ItemSource.CHECK:
        record_event(actor=actor, event_type=ModerationEvent.ITEMS_CHECKED, subject=organisation,
                     organisation_id=organisation.pk,
                     data={"items": len(rows), "review": sum(r.status == ItemStatus.IN_REVIEW for r in rows),
                           "actioned": sum(r.status == ItemStatus.ACTIONED for r in rows),
                           "model_version": classifier.model_version(), "policy_version": policy.version})
    results: dict[str, CheckResult] = {}
    for row in rows:
        if row.pk is None:  # backends that do not return ids from bulk_create (none that vangnet supports)
            row.refresh_from_db()
        assessment = assessments[row.external_id]
        verdict = assessment.verdict
        if verdict.review and source == ItemSource.CHECK:
            queue.enqueue(item=row, kind=TaskKind.FLAGGED, severity=verdict.severity, actor=actor)
        elif verdict.action in RESTRICTING_ACTIONS:
            from .decisions import decide_automatically

            decide_automatically(item=row, action=verdict.action, label=verdict.rule_label, actor=actor)
        if verdict.threat_alert:
            from .threats import raise_alert

            raise_alert(item=row, score=assessment.scores.get("threat", 0.0), actor=actor)
        results[row.external_id] = CheckResult(item=row, assessment=assessment)
    return results
