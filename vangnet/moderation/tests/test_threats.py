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
        django_capture_on_commit_callbacks: Any, run_worker: Any) -> None:
    alert = threats.raise_alert(item=item, score=0.9, actor=SYSTEM)
    assert alert is not None
    smtp_inbox.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        threats.mark_notified(alert=alert, user=manager, note="")
    run_worker()  # the e-mail is sent by a task
    alert.refresh_from_db()
    assert alert.status == AlertStatus.NOTIFIED and alert.handled_by == manager and alert.handled_at is not None
    assert alert.notification_sent_at == alert.handled_at
    [message] = smtp_inbox.messages
    assert message["to"] == ["meldingen@politie.test"]
    assert message["body"].replace("\r\n", "\n").strip() == alert.notification.strip()
    assert THREAT in message["body"] and "Chatplaats" in message["subject"]
    event = Event.objects.filter(event_type=ModerationEvent.THREAT_ALERT_HANDLED).latest("id")
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
    assert event.data["sent_to"] == "" and event.data["note_given"] is True
    assert event.data["note_length"] == len("Called the police at 21:40, case 2025-123.")
    assert "Called" not in str(event.data), "the event log is never erased: no free text in it"


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
    assert event.data == {"status": "dismissed", "note_given": True, "note_length": len("Song lyrics, not a threat.")}


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


def test_admins_of_the_platform_hear_of_an_alert_too(item: Item, manager: Any, make_staff: Any,
                                                     platform: Organisation, smtp_inbox: Any,
                                                     django_capture_on_commit_callbacks: Any) -> None:
    """Whoever's role grants MANAGE_MODERATION: a platform run by its admin gets the alert as well."""
    admin = make_staff("ada", platform, Role.ADMIN)
    admin.email = "ada@chatplaats.test"
    admin.save(update_fields=["email"])
    gone = make_staff("gone", platform, Role.ADMIN)
    gone.email, gone.is_active = "gone@chatplaats.test", False
    gone.save(update_fields=["email", "is_active"])
    analyst = make_staff("ana", platform, Role.ANALYST)
    analyst.email = "ana@chatplaats.test"
    analyst.save(update_fields=["email"])
    elsewhere = Organisation.objects.create(slug="closed", name="Closed", is_platform=True, is_active=False)
    closed_admin = make_staff("cla", elsewhere, Role.ADMIN)
    closed_admin.email = "cla@closed.test"
    closed_admin.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        threats.raise_alert(item=item, score=0.95, actor=SYSTEM)
        closed_item = Item.objects.create(organisation=elsewhere, external_id="x-1", text=THREAT)
        threats.raise_alert(item=closed_item, score=0.95, actor=SYSTEM)
    assert sorted(m["to"][0] for m in smtp_inbox.messages) == ["ada@chatplaats.test", "pim@chatplaats.test"]


def _smtp_down(settings: Any) -> None:
    """Every e-mail fails: nothing listens where the mail server should be."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2}}}


def test_with_the_mail_server_down_the_alert_is_not_notified_and_shows_the_failure(
        item: Item, policy: Policy, manager: Any, settings: Any, run_worker: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    alert = threats.raise_alert(item=item, score=0.9, actor=SYSTEM)
    assert alert is not None
    _smtp_down(settings)
    with django_capture_on_commit_callbacks(execute=True):  # no error reaches the policy manager
        threats.mark_notified(alert=alert, user=manager, note="Urgent: the author names a date.")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN and threats.notification_state(alert).state == "sending"
    with pytest.raises(ValidationError):  # the first attempt is on its way: no second e-mail
        threats.mark_notified(alert=alert, user=manager, note="")
    run_worker()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN, "never notified before the mail server accepted it"
    state = threats.notification_state(alert)
    assert state.state == "retrying" and state.attempts == 1 and "ConnectionRefusedError" in state.error
    assert alert.notification_error == state.error and alert.notification_sent_at is None
    failed = Event.objects.filter(event_type=ModerationEvent.THREAT_ALERT_HANDLED).latest("id")
    assert failed.data["status"] == "send_failed" and failed.actor_type == "system"
    assert "Urgent" not in str(list(Event.objects.values_list("data", flat=True)))


def test_after_the_last_attempt_she_sees_the_failure_and_sends_again(
        item: Item, policy: Policy, manager: Any, settings: Any, run_worker: Any, smtp_inbox: Any,
        django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threats, "MAX_SEND_ATTEMPTS", 1)
    alert = threats.raise_alert(item=item, score=0.9, actor=SYSTEM)
    assert alert is not None
    working = settings.MAILERS
    _smtp_down(settings)
    with django_capture_on_commit_callbacks(execute=True):
        threats.mark_notified(alert=alert, user=manager, note="")
    run_worker()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN and alert.handled_at is None
    state = threats.notification_state(alert)
    assert state.state == "failed" and state.attempts == 1
    settings.MAILERS = working
    smtp_inbox.messages.clear()
    with django_capture_on_commit_callbacks(execute=True):
        threats.mark_notified(alert=alert, user=manager, note="")
    run_worker()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.NOTIFIED and threats.notification_state(alert).state == "sent"
    assert alert.notification_sent_at is not None and alert.notification_error == ""
    assert [m["to"] for m in smtp_inbox.messages] == [["meldingen@politie.test"]]


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
