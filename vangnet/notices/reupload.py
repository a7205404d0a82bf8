"""The re-upload watch ("heruploadwacht"): removed content joins its case's hash bank; when the same
content (equal SHA-256, or PDQ within the bank's threshold, flips and rotations included) comes
in again as evidence (a later report, a capture; a moderation check later), the case owner is
alerted and drafts a new notice in one click.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from vangnet.audit.services import Actor
from vangnet.evidence.models import EvidenceItem
from vangnet.hashing import services as bank_services
from vangnet.hashing.matching import match
from vangnet.hashing.models import Bank

from .choices import NoticeEvent
from .models import Notice, ReuploadAlert

ACTOR = Actor.system("re-upload watch")
logger = logging.getLogger(__name__)


def case_bank(case: Any, actor: Actor) -> Bank:
    """The case's own bank, made on first use."""
    bank = Bank.objects.filter(case=case).first()
    if bank is None:
        bank = bank_services.create_bank(slug=f"case-{case.reference.lower()}", name=f"Re-uploads {case.reference}",
                                         organisation=case.organisation, case=case, actor=actor)
    return bank


def ncii_bank(actor: Actor) -> Bank | None:
    """The shared bank of intimate images removed on notice (``VANGNET_NCII_BANK``), made on first use.

    It holds hashes only, shared with every organisation and matched by the platforms whose
    moderation policy names it, so an image a provider removed is recognised when it is posted
    elsewhere (as StopNCII does). Empty setting: no such bank. Only a shared bank (of no
    organisation and no case) is used: a bank of an organisation that happens to carry the slug
    gets nothing, with a warning in the log.
    """
    slug = settings.VANGNET_NCII_BANK
    if not slug:
        return None
    bank = Bank.objects.filter(slug=slug).first()
    if bank is None:
        bank = bank_services.create_bank(
            slug=slug, name="NCII: intimate images removed on notice", organisation=None, actor=actor,
            description="Hashes (never images) of intimate images that a provider removed after a notice, with the "
                        "victim's consent; fed by the re-upload watch, matched by platforms whose policy names it.")
    elif bank.organisation_id is not None or bank.case_id is not None:
        logger.warning("The NCII bank %r is not a shared bank (it belongs to an organisation or a case): "
                       "nothing joins it.", slug)
        return None
    return bank


def _feeds_ncii(case: Any) -> bool:
    """A case about sexual imagery of an adult whose victim consented: its removed images may join the NCII bank.

    Never a minor's: that material goes the child-abuse hotline's way, not into a bank platforms read.
    Never without her consent (``cases.services.set_ncii_consent``), recorded before the removal or
    later (``feed_ncii``).
    """
    from vangnet.cases.selectors import concerns_adult_sexual_imagery

    return case.ncii_consent_at is not None and concerns_adult_sexual_imagery(case=case)


def _to_ncii(notice: Notice, items: list[EvidenceItem], actor: Actor) -> int:
    """The images among ``items`` join the shared NCII bank if the notice's case feeds it; how many."""
    from .services import _event

    images = [item for item in items if item.pdq]
    shared = ncii_bank(actor) if images and _feeds_ncii(notice.case) else None
    if shared is None:
        return 0
    for item in images:
        # Labelled by the bank alone: the case's reference stays with the case (the entry's case
        # is kept on our side only, for a withdrawal of her consent).
        bank_services.add_item_to_bank(bank=shared, item=item, label="", actor=actor)
    _event(notice, actor, NoticeEvent.WATCHED, items=len(images), bank=shared.slug)
    return len(images)


def _removed_items(notice: Notice) -> list[EvidenceItem]:
    return list({item.pk: item for url in notice.urls.all() for item in url.evidence.all() if item.sha256}.values())


def watch_removed(notice: Notice, actor: Actor) -> int:
    """The evidence of a notice the provider acted on joins the case's bank; returns how many hashes.

    Images of a case about intimate imagery of an adult also join the shared NCII bank (``ncii_bank``)
    when the victim consented (``_feeds_ncii``).
    """
    from .services import _event

    items = _removed_items(notice)
    if not items:
        return 0
    bank = case_bank(notice.case, actor)
    added = 0
    for item in items:
        if bank_services.add_item_to_bank(bank=bank, item=item, label=notice.reference, actor=actor) is not None:
            added += 1
    _to_ncii(notice, items, actor)
    _event(notice, actor, NoticeEvent.WATCHED, items=len(items), bank=bank.slug)
    return added


def feed_ncii(case: Any, actor: Actor) -> int:
    """Once her consent is recorded: the images of the case's notices that a provider already acted on
    join the NCII bank too (as ``watch_removed`` adds them for later removals); how many images.
    """
    from .choices import ACTED

    if not _feeds_ncii(case):
        return 0
    notices = Notice.objects.filter(case=case, outcome__in=ACTED).select_related("case").order_by("pk")
    return sum(_to_ncii(notice, _removed_items(notice), actor) for notice in notices)


def check_item(item_id: int) -> list[ReuploadAlert]:
    """Match a new evidence item against the re-upload banks of its organisation; alert each case it hits."""
    from .services import _event

    item = EvidenceItem.objects.select_related("case", "case__organisation").filter(pk=item_id).first()
    if item is None or not item.sha256:
        return []
    banks = Bank.objects.filter(case__isnull=False, organisation_id=item.case.organisation_id, is_active=True)
    hits = match(sha256=item.sha256, pdq=item.pdq or None, quality=item.pdq_quality, variants=item.pdq_variants,
                 banks=list(banks))
    alerts = []
    for hit in hits:
        watched_case = hit.bank.case
        if watched_case is None or hit.entry.sha256 == item.sha256 and watched_case.pk == item.case_id and \
                _is_original(item, hit.entry.label):
            continue
        original = Notice.objects.filter(reference=hit.entry.label, case=watched_case).first()
        try:
            with transaction.atomic():
                alert = ReuploadAlert.objects.create(case=watched_case, item=item, original=original,
                                                     match_kind=hit.kind, distance=hit.distance)
        except IntegrityError:
            continue  # this item already alerted this case
        if original is not None:
            _event(original, ACTOR, NoticeEvent.REUPLOADED, item=item.pk, kind=hit.kind, distance=hit.distance)
        owner = watched_case.owner
        if owner is not None and owner.email:
            transaction.on_commit(functools.partial(_tell_owner, owner.email, alert.pk), robust=True)
        alerts.append(alert)
    return alerts


def _is_original(item: EvidenceItem, label: str) -> bool:
    """The very item whose removal put its hash in the bank is not its own re-upload."""
    return Notice.objects.filter(reference=label, urls__evidence=item).exists()


def _tell_owner(address: str, alert_id: int) -> None:
    from django.urls import reverse

    from vangnet.common.email import send_templated

    alert = ReuploadAlert.objects.select_related("case").get(pk=alert_id)
    send_templated(to=address, template="notices/email/reupload", language="nl", context={
        "alert": alert, "case_url": settings.VANGNET_SITE_URL + reverse("cases:detail", args=[alert.case_id])})


def on_evidence_added(sender: Any, item_id: int, **kwargs: Any) -> None:
    """Receiver of ``evidence.signals.evidence_added``: the worker checks the item (uploads stay fast)."""
    from .tasks import check_reupload

    check_reupload.enqueue(item_id=item_id)
