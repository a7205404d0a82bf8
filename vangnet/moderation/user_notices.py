"""Users' notices (DSA Art. 16) that a platform passes on: the item is checked and queued for review.

A notice is about an item: one the platform checked before (found by its id) or a new one,
which is then checked like any other (scores and matches for the moderator) and kept in full
whatever its scores, because a person asked for a decision on it. The notice goes to the
notices queue, a trusted flagger's ahead of the rest (DSA Art. 22).

The notifier's name and e-mail are checked but not kept: the platform that received the notice
confirms it and tells her the decision (Art. 16(4)-(5)), with the notice ids the decision's
webhook names; vangnet needs neither.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from vangnet.accounts.models import Organisation
from vangnet.audit.services import Actor, record_event

from . import checking, queue
from .choices import ItemSource, ModerationEvent, TaskKind
from .models import Item, UserNotice

NOTICE_SEVERITY = 0.5
TRUSTED_FLAGGER_SEVERITY = 0.9


class NoticeExists(Exception):
    """The platform sent a notice with this id before."""


def receive_notice(*, organisation: Organisation, external_id: str, item: checking.ItemIn, label: str,
                   explanation: str, trusted_flagger: bool,
                   actor: Actor) -> UserNotice:
    if UserNotice.objects.filter(organisation=organisation, external_id=external_id).exists():
        raise NoticeExists(external_id)
    with transaction.atomic():
        stored = Item.objects.filter(organisation=organisation, external_id=item.external_id).first()
        if stored is None:
            stored = checking.check_items(organisation=organisation, items=[item], actor=actor,
                                          source=ItemSource.NOTICE)[0].item
        else:
            checking.validate([item])
            if not checking.same_content(stored, item):
                raise checking.BatchRefused({0: {"id": [_("An item with this id was checked before with other "
                                                         "content; give a new id.")]}}, code="item_exists")
            checking.keep_content(item=stored, content=item)
        try:
            with transaction.atomic():
                notice = UserNotice.objects.create(
                    organisation=organisation, external_id=external_id, item=stored, label=label,
                    explanation=explanation,
                    trusted_flagger=trusted_flagger)
        except IntegrityError as exc:  # the same notice sent twice at once
            raise NoticeExists(external_id) from exc
        severity = max(stored.severity, TRUSTED_FLAGGER_SEVERITY if trusted_flagger else NOTICE_SEVERITY)
        queue.enqueue(item=stored, kind=TaskKind.NOTICE, severity=severity, actor=actor)
        record_event(actor=actor, event_type=ModerationEvent.NOTICE_RECEIVED, subject=notice,
                     data={"item": stored.pk, "label": label, "trusted_flagger": trusted_flagger})
    return notice
