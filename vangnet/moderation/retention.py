"""Retention in the moderation engine: what a platform's users wrote is kept only as long as the law needs it.

- The text, address and image of a decided item, the explanations of its users' notices and the
  reasons of its appeals: until ``VANGNET_MODERATION_CONTENT_DAYS`` (default 200) after the item's
  last decision, and never while a task or an appeal about it is open. DSA Art. 20(1) gives users
  six months after a decision to complain; the margin covers an appeal decided late.
- An item's row (scores, matches, the author's pseudonymous id, its outcome): until
  ``VANGNET_MODERATION_HISTORY_DAYS`` (default 365) after it was received, but only once it has no
  decision, strike, open task or open alert that needs it. The author's history and the strike
  windows (at most the policy's window) read no further back. Decisions and statements of reasons
  (which hold no personal data) stay.
- The text prepared for the authority (Art. 18), and the handler's note: ``VANGNET_MODERATION_CONTENT_DAYS``
  after the alert was handled.
- Webhook deliveries (their payloads name authors' pseudonymous ids): 30 days after they were
  delivered or given up.

Run nightly with the other retention jobs (``intake.tasks.apply_retention_daily``); each run is
one event in the log with its counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from vangnet.audit.services import Actor, record_event

from .choices import AlertStatus, AppealStatus, DeliveryState, ItemStatus, ModerationEvent
from .models import Appeal, Decision, Item, ReviewTask, Strike, ThreatAlert, UserNotice, WebhookDelivery

DELIVERY_DAYS = 30
KINDS = ("item_contents", "notices", "appeals", "items", "alerts", "webhook_deliveries")  # the counts, in order


@transaction.atomic
def apply_moderation_retention(*, actor: Actor, now: datetime | None = None) -> dict[str, int]:
    """Erase what has passed its period (see the module docstring); return the counts per kind."""
    now = now or timezone.now()
    content_before = now - timedelta(days=settings.VANGNET_MODERATION_CONTENT_DAYS)
    history_before = now - timedelta(days=settings.VANGNET_MODERATION_HISTORY_DAYS)
    open_task = ReviewTask.objects.filter(item=OuterRef("pk"), done_at__isnull=True)
    open_appeal = Appeal.objects.filter(decision__item=OuterRef("pk"), status=AppealStatus.OPEN)
    open_alert = ThreatAlert.objects.filter(item=OuterRef("pk"), status=AlertStatus.OPEN)

    settled = (Item.objects.annotate(last_decision=Max("decisions__decided_at"))
               .filter(last_decision__lt=content_before)
               .exclude(Exists(open_task)).exclude(Exists(open_appeal)).exclude(Exists(open_alert)))
    kept = settled.filter(Q(text__gt="") | Q(url__gt="") | Q(image_sealed__isnull=False))
    item_ids = list(kept.values_list("pk", flat=True))
    contents = Item.objects.filter(pk__in=item_ids).update(text="", url="", image_sealed=None)
    notices = (UserNotice.objects.filter(item__in=settled).exclude(explanation="")
               .update(explanation="", notifier_name="", notifier_email=""))
    appeals = (Appeal.objects.filter(decision__item__in=settled).exclude(status=AppealStatus.OPEN)
               .exclude(reason="").update(reason=""))

    needed = (Exists(Decision.objects.filter(item=OuterRef("pk"))) | Exists(Strike.objects.filter(
        decision__item=OuterRef("pk"))) | Exists(open_task) | Exists(open_alert))
    old_items = (Item.objects.filter(received_at__lt=history_before, status=ItemStatus.ALLOWED)
                 .exclude(needed))
    histories, _by_model = old_items.delete()

    alerts = (ThreatAlert.objects.exclude(status=AlertStatus.OPEN).filter(handled_at__lt=content_before)
              .exclude(notification="", handling_note="").update(notification="", handling_note=""))
    deliveries, _by_model = (WebhookDelivery.objects.filter(state__in=[DeliveryState.DELIVERED,
                                                                     DeliveryState.FAILED])
                             .filter(Q(delivered_at__lt=now - timedelta(days=DELIVERY_DAYS))
                                     | Q(delivered_at__isnull=True,
                                         created_at__lt=now - timedelta(days=DELIVERY_DAYS)))
                             .delete())
    counts = {"item_contents": contents, "notices": notices, "appeals": appeals, "items": histories,
              "alerts": alerts, "webhook_deliveries": deliveries}
    if any(counts.values()):
        record_event(actor=actor, event_type=ModerationEvent.RETENTION_APPLIED, subject_type="moderation.retention",
                     subject_id=now.date().isoformat(), data=counts)
    return counts
