"""Art. 18 threat alerts: raised once per item, the policy managers told by e-mail, the authority notified."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection

from vangnet.accounts.choices import Role
from vangnet.accounts.models import Organisation
from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.moderation import threats
from vangnet.moderation.choices import AlertStatus, ModerationEvent
from vangnet.moderation.models import Item, Policy, ThreatAlert

THREAT = "Ik weet waar je woont en morgen kom ik je afmaken."
SYSTEM = Actor.system("check")


@pytest.fixture
def platform(db: Any) -> Organisation:
    return Organisation.objects.create(slug="chatplaats", name="Chatplaats", is_platform=True, handles_reports=False,
                                       notice_email="policy@chatplaats.test")


@pytest.fixture
def manager(make_staff: Any, platform: Organisation) -> Any:
    user = make_staff("pim", platform, Role.POLICY_MANAGER)
    user.email = "pim@chatplaats.test"
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def item(platform: Organisation) -> Item:
    return Item.objects.create(organisation=platform, external_id="post-42", author_id="u-7f3a", text=THREAT,
                               url="https://chatplaats.test/p/42",
                               content_date=datetime(2025, 3, 1, 21, 15, tzinfo=ZoneInfo("Europe/Amsterdam")))


@pytest.fixture
def policy(platform: Organisation) -> Policy:
    return Policy.objects.create(organisation=platform, authority_name="Politie Nederland",
                                 authority_email="meldingen@politie.test")


def test_an_alert_prepares_the_notification_and_tells_policy_managers_without_the_text(
        item: Item, policy: Policy, manager: Any, make_staff: Any, platform: Organisation, smtp_inbox: Any,
        django_capture_on_commit_callbacks: Any, settings: Any) -> None:
    settings.VANGNET_SITE_URL = "https://vangnet.test"
    second = make_staff("pam", platform, Role.POLICY_MANAGER)
    second.email = "pam@chatplaats.test"
    second.save(update_fields=["email"])
    make_staff("nomail", platform, Role.POLICY_MANAGER)  # no e-mail address: nothing to send
    moderator = make_staff("mo", platform, Role.MODERATOR)
    moderator.email = "mo@chatplaats.test"
    moderator.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        alert = threats.raise_alert(item=item, score=0.973, actor=SYSTEM)
    assert alert is not None and alert.status == AlertStatus.OPEN
    assert alert.authority_name == "Politie Nederland" and alert.authority_email == "meldingen@politie.test"
    alert.refresh_from_db()
    text = alert.notification
    for fact in ("Chatplaats", "post-42", "1 maart 2025 21:15", "https://chatplaats.test/p/42", "u-7f3a", "0.97",
                 THREAT, "policy@chatplaats.test", "artikel 18 van de verordening digitale diensten"):
        assert fact in text, fact  # the notification is always in the authority's language, Dutch
    assert "&" not in text.replace(THREAT, ""), "plain text, nothing escaped"
    assert sorted(m["to"][0] for m in smtp_inbox.messages) == ["pam@chatplaats.test", "pim@chatplaats.test"]
    for message in smtp_inbox.messages:
        assert THREAT not in message["body"] and "afmaken" not in message["body"]
        assert f"https://vangnet.test/staff/moderation/alerts/{alert.pk}/" in message["body"]
        assert "Chatplaats" in message["subject"]
    event = Event.objects.get(event_type=ModerationEvent.THREAT_ALERT_RAISED)
    assert event.subject_id == str(alert.pk) and event.organisation_id == platform.pk
    assert event.data["item"] == "post-42" and event.data["score"] == 0.973 and event.actor_type == "system"
    assert THREAT not in str(event.data)


def test_one_open_alert_per_item(item: Item, django_capture_on_commit_callbacks: Any) -> None:
    first = threats.raise_alert(item=item, score=0.9, actor=SYSTEM)
    assert threats.raise_alert(item=item, score=0.95, actor=SYSTEM) is None
    assert ThreatAlert.objects.count() == 1 and Event.objects.filter(
        event_type=ModerationEvent.THREAT_ALERT_RAISED).count() == 1
    assert first is not None and first.authority_email == "", "no policy: no authority yet"
    with pytest.raises(IntegrityError):  # what the database holds, for two checks at the same moment
        ThreatAlert.objects.create(organisation=item.organisation, item=item)


def test_a_race_for_the_same_item_raises_one_alert(item: Item, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other check's alert was committed between our look and our insert: the constraint decides, no error."""
    ThreatAlert.objects.create(organisation=item.organisation, item=item, score=0.5)  # the other check's
    real = threats._open_alert_exists
    looks: list[Item] = []

    def first_look_misses_it(item: Item) -> bool:
        looks.append(item)
        return len(looks) > 1 and real(item)

    monkeypatch.setattr(threats, "_open_alert_exists", first_look_misses_it)
    assert threats.raise_alert(item=item, score=0.9, actor=SYSTEM) is None
    assert ThreatAlert.objects.count() == 1
    assert len(looks) == 2, "the insert hit the constraint and looked again"
    assert not Event.objects.filter(event_type=ModerationEvent.THREAT_ALERT_RAISED).exists()


def test_after_handling_a_new_alert_may_be_raised(item: Item, manager: Any) -> None:
    alert = threats.raise_alert(item=item, score=0.9, actor=SYSTEM)
    assert alert is not None
    threats.dismiss(alert=alert, user=manager, note="A quote from a film.")
    assert threats.raise_alert(item=item, score=0.99, actor=SYSTEM) is not None


def test_mark_notified_sends_the_prepared_notification_to_the_authority(
        item: Item, policy: Policy, manager: Any, smtp_inbox: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    alert = threats.raise_alert(item=item, score=0.9, actor=SYSTEM)
    assert alert is not None
    smtp_inbox.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        threats.mark_notified(alert=alert, user=manager, note="")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.NOTIFIED and alert.handled_by == manager and alert.handled_at is not None
    [message] = smtp_inbox.messages
    assert message["to"] == ["meldingen@politie.test"]
    assert message["body"].replace("\r\n", "\n").strip() == alert.notification.strip()
    assert THREAT in message["body"] and "Chatplaats" in message["subject"]
    event = Event.objects.get(event_type=ModerationEvent.THREAT_ALERT_HANDLED)
    assert event.data["status"] == "notified" and event.data["sent_to"] == "meldingen@politie.test"
    assert event.actor_user_id == manager.pk
    with pytest.raises(ValidationError):
        threats.mark_notified(alert=alert, user=manager, note="again")
    with pytest.raises(ValidationError):
        threats.dismiss(alert=alert, user=manager, note="changed my mind")


def test_without_an_authority_address_the_note_records_how_it_was_told(
        item: Item, manager: Any, smtp_inbox: Any, django_capture_on_commit_callbacks: Any) -> None:
    alert = threats.raise_alert(item=item, score=0.9, actor=SYSTEM)
    assert alert is not None
    smtp_inbox.messages.clear()
    with pytest.raises(ValidationError):
        threats.mark_notified(alert=alert, user=manager, note="  ")
    with django_capture_on_commit_callbacks(execute=True):
        threats.mark_notified(alert=alert, user=manager, note="Called the police at 21:40, case 2025-123.")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.NOTIFIED and alert.handling_note.startswith("Called the police")
    assert smtp_inbox.messages == []
    event = Event.objects.get(event_type=ModerationEvent.THREAT_ALERT_HANDLED)
    assert event.data["sent_to"] == "" and event.data["note"].startswith("Called")


def test_dismissing_needs_a_reason_and_sends_nothing(item: Item, policy: Policy, manager: Any, smtp_inbox: Any,
                                                     django_capture_on_commit_callbacks: Any) -> None:
    alert = threats.raise_alert(item=item, score=0.9, actor=SYSTEM)
    assert alert is not None
    with pytest.raises(ValidationError):
        threats.dismiss(alert=alert, user=manager, note="")
    smtp_inbox.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        threats.dismiss(alert=alert, user=manager, note="Song lyrics, not a threat.")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.DISMISSED and alert.handling_note == "Song lyrics, not a threat."
    assert smtp_inbox.messages == []
    event = Event.objects.get(event_type=ModerationEvent.THREAT_ALERT_HANDLED)
    assert event.data == {"status": "dismissed", "note": "Song lyrics, not a threat."}


def test_only_a_policy_manager_of_the_platform_handles_alerts(item: Item, make_staff: Any, platform: Organisation,
                                                              outsider: Any) -> None:
    alert = threats.raise_alert(item=item, score=0.9, actor=SYSTEM)
    assert alert is not None
    moderator = make_staff("mo", platform, Role.MODERATOR)
    for user in (moderator, outsider):
        with pytest.raises(PermissionDenied):
            threats.dismiss(alert=alert, user=user, note="no")
        with pytest.raises(PermissionDenied):
            threats.mark_notified(alert=alert, user=user, note="told them")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN
    assert not Event.objects.filter(event_type=ModerationEvent.THREAT_ALERT_HANDLED).exists()


on_postgresql = pytest.mark.skipif(connection.vendor == "sqlite", reason="concurrent writers need PostgreSQL (CI)")


@pytest.mark.django_db(transaction=True)
@on_postgresql
def test_two_checks_at_once_raise_one_alert() -> None:
    from vangnet.common.testing import at_the_same_moment

    platform = Organisation.objects.create(slug="chatplaats", name="Chatplaats", is_platform=True)
    item = Item.objects.create(organisation=platform, external_id="post-1", text=THREAT)
    results = at_the_same_moment(4, lambda _i: threats.raise_alert(item=item, score=0.9, actor=SYSTEM))
    assert sum(result is not None for result in results) == 1
    assert ThreatAlert.objects.count() == 1
