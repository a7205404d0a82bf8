"""Moderation retention: decided content goes after its period, allowed items after theirs, nothing still needed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.moderation.choices import AlertStatus, AppealStatus, DeliveryState, ItemStatus, ModerationEvent
from vangnet.moderation.models import (Appeal, Decision, Item, ReviewTask, ThreatAlert, UserNotice, WebhookDelivery,
                                       WebhookEndpoint)
from vangnet.moderation.retention import apply_moderation_retention

pytestmark = pytest.mark.django_db
ACTOR = Actor.system("retention")
LONG_AGO = timezone.now() - timedelta(days=400)


def decided_item(platform, external_id: str, *, when=LONG_AGO) -> Item:
    item = Item.objects.create(organisation=platform, external_id=external_id, text="Je bent een ...", text_chars=14,
                               url="https://x.test/1", image_sealed=b"sealed", status=ItemStatus.DECIDED)
    decision = Decision.objects.create(organisation=platform, item=item, no_action=False,
                                       visibility=["DECISION_VISIBILITY_CONTENT_REMOVED"])
    Decision.objects.filter(pk=decision.pk).update(decided_at=when)
    return item


def test_content_of_items_decided_long_ago_is_erased_and_the_decision_stays(platform) -> None:
    old = decided_item(platform, "old")
    recent = decided_item(platform, "recent", when=timezone.now() - timedelta(days=10))
    UserNotice.objects.create(organisation=platform, external_id="n1", item=old, explanation="It is about me.")
    appeal = Appeal.objects.create(organisation=platform, external_id="a1", decision=old.decisions.get(),
                                   reason="Unfair", status=AppealStatus.UPHELD)
    counts = apply_moderation_retention(actor=ACTOR)
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.text, old.url, old.image_sealed) == ("", "", None) and old.decisions.exists()
    assert recent.text and recent.url and recent.image_sealed is not None
    assert UserNotice.objects.get().explanation == "" and Appeal.objects.get(pk=appeal.pk).reason == ""
    assert counts["item_contents"] == 1 and counts["notices"] == 1 and counts["appeals"] == 1
    event = Event.objects.get(event_type=ModerationEvent.RETENTION_APPLIED)
    assert event.data["item_contents"] == 1
    assert apply_moderation_retention(actor=ACTOR)["item_contents"] == 0  # once


def test_nothing_is_erased_while_a_task_an_appeal_or_an_alert_is_open(platform) -> None:
    tasked = decided_item(platform, "tasked")
    ReviewTask.objects.create(organisation=platform, item=tasked, kind="notice")
    appealed = decided_item(platform, "appealed")
    Appeal.objects.create(organisation=platform, external_id="a2", decision=appealed.decisions.get(), reason="No")
    alerted = decided_item(platform, "alerted")
    ThreatAlert.objects.create(organisation=platform, item=alerted, status=AlertStatus.OPEN, notification="text")
    assert apply_moderation_retention(actor=ACTOR)["item_contents"] == 0
    assert not Item.objects.filter(text="").exists()
    assert Appeal.objects.get(external_id="a2").reason == "No"


def test_old_allowed_items_go_unless_something_still_needs_them(platform) -> None:
    gone = Item.objects.create(organisation=platform, external_id="allowed", author_id="u1")
    young = Item.objects.create(organisation=platform, external_id="young", author_id="u1")
    decided = decided_item(platform, "decided")
    Item.objects.filter(pk__in=[gone.pk, decided.pk]).update(received_at=LONG_AGO)
    counts = apply_moderation_retention(actor=ACTOR)
    assert counts["items"] == 1
    assert set(Item.objects.values_list("external_id", flat=True)) == {"young", "decided"}
    assert young.pk


def test_handled_alerts_lose_their_text_and_old_deliveries_go(platform) -> None:
    item = decided_item(platform, "t")
    handled = ThreatAlert.objects.create(organisation=platform, item=item, status=AlertStatus.DISMISSED,
                                         notification="Ik maak je af", handling_note="Not credible",
                                         handled_at=LONG_AGO)
    endpoint = WebhookEndpoint.objects.create(organisation=platform, url="https://hooks.example.org/", secret="s")
    old = WebhookDelivery.objects.create(organisation=platform, endpoint=endpoint, event_id="00000000-0000-4000-8000"
                                         "-000000000001", event_type="decision.made", payload={"author_id": "u1"},
                                         state=DeliveryState.DELIVERED, delivered_at=LONG_AGO)
    waiting = WebhookDelivery.objects.create(organisation=platform, endpoint=endpoint, event_id="00000000-0000-4000-"
                                             "8000-000000000002", event_type="decision.made", payload={})
    WebhookDelivery.objects.filter(pk=waiting.pk).update(created_at=LONG_AGO)
    counts = apply_moderation_retention(actor=ACTOR)
    handled.refresh_from_db()
    assert handled.notification == "" and handled.handling_note == "" and counts["alerts"] == 1
    assert not WebhookDelivery.objects.filter(pk=old.pk).exists()
    assert WebhookDelivery.objects.filter(pk=waiting.pk).exists()  # still pending: never dropped
