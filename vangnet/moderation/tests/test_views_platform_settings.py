"""The platform's own settings on staff pages: the policy, API keys and webhooks (policy managers only)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from vangnet.accounts.choices import Role
from vangnet.audit.models import Event
from vangnet.common.testing import make_user
from vangnet.hashing.models import Bank
from vangnet.moderation import keys as platform_keys
from vangnet.moderation.choices import Action, DeliveryState, KeyScope, Label, WebhookEvent
from vangnet.moderation.models import PlatformKey, Policy, PolicyRule, WebhookDelivery, WebhookEndpoint
from vangnet.moderation.policy import policy_for

from .dashboard import fixed_default_rules

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    from vangnet.moderation import policy

    monkeypatch.setattr(policy, "default_rules", fixed_default_rules)


def _client(user: Any) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def policy_post_data(platform: Any, *, rules: dict[str, dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    """What the policy page posts unchanged (the default policy), with ``rules`` and ``fields`` changed."""
    defaults = fixed_default_rules()
    data: dict[str, Any] = {"platform": str(platform.pk), "rules-TOTAL_FORMS": str(len(Label)),
                            "rules-INITIAL_FORMS": str(len(Label)), "rules-MIN_NUM_FORMS": str(len(Label)),
                            "rules-MAX_NUM_FORMS": str(len(Label)),
                            "bank_match_action": Action.REVIEW, "strike_window_days": "90", "warning_points": "1",
                            "suspension_points": "3", "suspension_days": "7", "terms_url": "", "dispute_body": "",
                            "authority_name": "", "authority_email": ""}
    for n, label in enumerate(Label.values):
        rule = defaults[label]
        row = {"label": label, "review_threshold": str(rule.review_threshold), "action_threshold": "",
               "action": rule.action, "strike_weight": str(rule.strike_weight), "category": rule.category,
               "terms_clause": ""}
        row.update((rules or {}).get(label, {}))
        data.update({f"rules-{n}-{key}": value for key, value in row.items()})
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def _event(event_type: str) -> Event:
    return Event.objects.filter(event_type=event_type).latest("id")


# ---------------------------------------------------------------------------------------------
# The policy


def test_the_policy_page_shows_the_defaults_and_the_banks_the_platform_may_use(policy_manager: Any, platform: Any,
                                                                             other_platform: Any) -> None:
    Bank.objects.create(slug="own", name="Own bank", organisation=platform)
    Bank.objects.create(slug="shared", name="Shared bank", organisation=None, is_active=False)
    Bank.objects.create(slug="theirs", name="Their bank", organisation=other_platform)
    html = _client(policy_manager).get(reverse("moderation:policy")).content.decode()
    assert "still uses the default policy" in html
    assert html.count("Default: review from 0.5, no automatic restriction.") == len(Label)
    assert html.count("The default applies until you change something here.") == len(Label)
    assert 'name="rules-0-review_threshold" value="0.5"' in html
    assert "Own bank" in html and "Shared bank (shared) (inactive: matches nothing)" in html
    assert "Their bank" not in html
    assert "Warning: the classifiers make more mistakes" in html
    assert 'data-nav="policy" aria-current="page"' in html


def test_saving_the_policy_changes_the_effective_policy(policy_manager: Any, platform: Any) -> None:
    own = Bank.objects.create(slug="own", name="Own bank", organisation=platform)
    shared = Bank.objects.create(slug="shared", name="Shared bank", organisation=None)
    data = policy_post_data(platform, rules={
        Label.HATE: {"review_threshold": "0.4", "action_threshold": "0.9", "action": Action.DEMOTE,
                     "strike_weight": "2", "terms_clause": "Rule 4: no hate"}},
        banks=[str(own.pk), str(shared.pk)], bank_match_action=Action.REMOVE, act_on_unvalidated_languages="on",
        warning_points="2", suspension_points="5", suspension_days="14", terms_url="https://praatplein.test/terms",
        authority_name="Politie", authority_email="meldpunt@politie.test")
    client = _client(policy_manager)
    response = client.post(reverse("moderation:policy_save"), data)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('moderation:policy')}?platform={platform.pk}"
    effective = policy_for(platform)
    hate = effective.rules[Label.HATE]
    assert (hate.review_threshold, hate.action_threshold, hate.action, hate.strike_weight, hate.terms_clause) == (
        0.4, 0.9, Action.DEMOTE, 2, "Rule 4: no hate")
    assert effective.rules[Label.THREAT].review_threshold == 0.5
    assert sorted(effective.bank_ids) == sorted([own.pk, shared.pk])
    assert (effective.bank_match_action, effective.act_on_unvalidated_languages, effective.warning_points,
            effective.suspension_points, effective.suspension_days, effective.authority_email) == (
        Action.REMOVE, True, 2, 5, 14, "meldpunt@politie.test")
    assert effective.version == 1
    # Only the label changed is stored: the others keep following the default.
    assert list(PolicyRule.objects.values_list("label", flat=True)) == [Label.HATE]
    event = _event("moderation.policy_changed")
    assert (event.actor_user, event.data["version"], event.data["labels"]) == (policy_manager, 1, [Label.HATE])
    assert event.data["banks"] == sorted([own.pk, shared.pk])

    html = client.get(response["Location"]).content.decode()
    assert "Policy saved as version 1." in html and "Version 1," in html
    assert html.count("Your own rule.") == 1
    # Saving again without a change keeps the own rule and makes a new version.
    again = policy_post_data(platform, rules={Label.HATE: {"review_threshold": "0.4", "action_threshold": "0.9",
                                                           "action": Action.DEMOTE, "strike_weight": "2",
                                                           "terms_clause": "Rule 4: no hate"}},
                             warning_points="2", suspension_points="5")
    assert client.post(reverse("moderation:policy_save"), again).status_code == 302
    assert policy_for(platform).version == 2 and policy_for(platform).bank_ids == ()
    assert policy_for(platform).rules[Label.HATE].action_threshold == 0.9


@pytest.mark.parametrize(("changes", "message"), [
    ({"rules": {Label.THREAT: {"review_threshold": "0.8", "action_threshold": "0.6"}}},
     "must be at least the score for review"),
    ({"warning_points": "4", "suspension_points": "3"}, "at least as many strike points as a warning"),
    ({"rules": {Label.HATE: {"review_threshold": "1.5"}}}, "less than or equal to 1"),
    ({"rules": {Label.HATE: {"action": Action.ALLOW}}}, "Select a valid choice"),
    ({"rules": {Label.HATE: {"label": Label.THREAT}}}, "Give one rule for every label."),
    ({"strike_window_days": "0"}, "greater than or equal to 1"),
    ({"authority_email": "not an address"}, "Enter a valid email address."),
])
def test_a_policy_with_errors_is_shown_again_and_changes_nothing(policy_manager: Any, platform: Any,
                                                                 changes: dict[str, Any], message: str) -> None:
    response = _client(policy_manager).post(reverse("moderation:policy_save"),
                                            policy_post_data(platform, **changes))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and "The policy was not saved" in html
    assert not Policy.objects.exists() and not PolicyRule.objects.exists()
    assert not Event.objects.filter(event_type="moderation.policy_changed").exists()


def test_a_bank_of_another_platform_cannot_be_chosen(policy_manager: Any, platform: Any,
                                                      other_platform: Any) -> None:
    theirs = Bank.objects.create(slug="theirs", name="Their bank", organisation=other_platform)
    response = _client(policy_manager).post(reverse("moderation:policy_save"),
                                            policy_post_data(platform, banks=[str(theirs.pk)]))
    assert response.status_code == 400 and not Policy.objects.exists()


def test_another_platforms_policy_answers_404(policy_manager: Any, platform: Any, other_platform: Any) -> None:
    client = _client(policy_manager)
    assert client.get(reverse("moderation:policy"), {"platform": other_platform.pk}).status_code == 404
    data = {**policy_post_data(platform), "platform": str(other_platform.pk)}
    assert client.post(reverse("moderation:policy_save"), data).status_code == 404
    assert not Policy.objects.exists()


def test_a_manager_of_two_platforms_chooses_one(platform: Any, other_platform: Any) -> None:
    from vangnet.accounts.models import Membership

    manager = make_user("two", organisation=platform, role=Role.POLICY_MANAGER)
    Membership.objects.create(user=manager, organisation=other_platform, role=Role.POLICY_MANAGER)
    client = _client(manager)
    html = client.get(reverse("moderation:policy"), {"platform": other_platform.pk}).content.decode()
    assert "data-platform-choice" in html and f'<option value="{other_platform.pk}" selected>' in html
    assert client.post(reverse("moderation:policy_save"),
                       policy_post_data(other_platform, rules={Label.HATE: {"review_threshold": "0.3"}})
                       ).status_code == 302
    assert policy_for(other_platform).rules[Label.HATE].review_threshold == 0.3
    assert policy_for(platform).organisation_id is None


def test_a_helpline_admin_manages_no_platform(platform: Any) -> None:
    from vangnet.accounts.models import Organisation

    helpline = Organisation.objects.create(slug="hulplijn", name="Hulplijn")
    admin = make_user("boss", organisation=helpline, role=Role.ADMIN)
    client = _client(admin)
    for name in ("moderation:policy", "moderation:keys", "moderation:webhooks"):
        response = client.get(reverse(name))
        assert response.status_code == 200 and "data-no-platform" in response.content.decode()
    assert client.post(reverse("moderation:key_create"), {"name": "x", "scopes": ["check"],
                                                          "rate_per_minute": "5"}).status_code == 404


def test_only_policy_managers_see_the_settings_links(moderator: Any, policy_manager: Any) -> None:
    assert 'data-nav="keys"' not in _client(moderator).get(reverse("moderation:dashboard")).content.decode()
    html = _client(policy_manager).get(reverse("moderation:dashboard")).content.decode()
    assert 'data-nav="policy"' in html and 'data-nav="keys"' in html and 'data-nav="webhooks"' in html


# ---------------------------------------------------------------------------------------------
# API keys


def test_a_new_key_is_shown_once_and_only_its_hash_is_stored(policy_manager: Any, platform: Any) -> None:
    client = _client(policy_manager)
    response = client.post(reverse("moderation:key_create"), {
        "platform": str(platform.pk), "name": "Forum back end", "scopes": [KeyScope.CHECK, KeyScope.APPEALS],
        "rate_per_minute": "120"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    row = PlatformKey.objects.get()
    key = response.context["key"]
    assert key.startswith(f"vnm_{row.prefix}_") and key in html and "shown only this once" in html
    assert row.key_hash == platform_keys.hash_key(key) and key not in str(PlatformKey.objects.values().get())
    assert (row.name, row.scopes, row.rate_per_minute, row.organisation) == (
        "Forum back end", [KeyScope.APPEALS, KeyScope.CHECK], 120, platform)
    assert platform_keys.authenticate(key) == row
    event = _event("moderation.key_created")
    assert event.actor_user == policy_manager and key not in str(event.data)

    listing = client.get(reverse("moderation:keys")).content.decode()
    assert "Forum back end" in listing and f"vnm_{row.prefix}_…" in listing and key not in listing
    assert "Pass on users&#x27; appeals" in listing
    assert key not in client.get(reverse("moderation:key", args=[row.pk])).content.decode()


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "", "scopes": ["check"], "rate_per_minute": "60"}, "This field is required."),
    ({"name": "x", "rate_per_minute": "60"}, "This field is required."),
    ({"name": "x", "scopes": ["admin"], "rate_per_minute": "60"}, "Select a valid choice"),
    ({"name": "x", "scopes": ["check"], "rate_per_minute": "0"}, "greater than or equal to 1"),
])
def test_a_key_with_errors_is_not_made(policy_manager: Any, platform: Any, data: dict[str, Any],
                                       message: str) -> None:
    response = _client(policy_manager).post(reverse("moderation:key_create"), {"platform": platform.pk, **data})
    assert response.status_code == 400 and message in response.content.decode()
    assert not PlatformKey.objects.exists()


def test_a_key_is_revoked_after_confirmation(policy_manager: Any, platform: Any) -> None:
    from vangnet.audit.services import Actor

    row, key = platform_keys.create_key(organisation=platform, name="Old", scopes=["check"],
                                        actor=Actor.system("test"))
    client = _client(policy_manager)
    page = client.get(reverse("moderation:key", args=[row.pk])).content.decode()
    assert "Revoke this key" in page and "cannot be undone" in page
    assert platform_keys.authenticate(key) == row, "opening the page revokes nothing"
    response = client.post(reverse("moderation:key_revoke", args=[row.pk]))
    assert response.status_code == 302
    assert platform_keys.authenticate(key) is None
    assert _event("moderation.key_revoked").actor_user == policy_manager
    listing = client.get(response["Location"]).content.decode()
    assert "no longer works" in listing and "data-revoked" in listing
    assert "Revoke this key" not in client.get(reverse("moderation:key", args=[row.pk])).content.decode()


def test_another_platforms_key_answers_404(policy_manager: Any, other_platform: Any) -> None:
    from vangnet.audit.services import Actor

    row, key = platform_keys.create_key(organisation=other_platform, name="Theirs", scopes=["check"],
                                        actor=Actor.system("test"))
    client = _client(policy_manager)
    assert client.get(reverse("moderation:key", args=[row.pk])).status_code == 404
    assert client.post(reverse("moderation:key_revoke", args=[row.pk])).status_code == 404
    assert platform_keys.authenticate(key) == row
    assert "Theirs" not in client.get(reverse("moderation:keys")).content.decode()


# ---------------------------------------------------------------------------------------------
# Webhooks


def test_a_new_webhook_shows_its_secret_once(policy_manager: Any, platform: Any) -> None:
    client = _client(policy_manager)
    response = client.post(reverse("moderation:webhook_add"), {
        "platform": str(platform.pk), "url": "https://hooks.praatplein.test/vangnet",
        "events": [WebhookEvent.DECISION_MADE, WebhookEvent.APPEAL_DECIDED]})
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get()
    secret = response.context["secret"]
    assert endpoint.secret == secret and secret in response.content.decode()
    assert endpoint.events == sorted([WebhookEvent.APPEAL_DECIDED, WebhookEvent.DECISION_MADE])
    assert _event("moderation.webhook_changed").data["change"] == "created"
    listing = client.get(reverse("moderation:webhooks")).content.decode()
    assert "https://hooks.praatplein.test/vangnet" in listing and secret not in listing
    assert secret not in client.get(reverse("moderation:webhook", args=[endpoint.pk])).content.decode()


@pytest.mark.parametrize(("url", "message"), [
    ("http://hooks.praatplein.test/", "must start with https://"),
    ("https://10.0.0.5/hook", "private network"),
    ("", "This field is required."),
])
def test_a_webhook_without_a_public_https_address_is_refused(policy_manager: Any, platform: Any, url: str,
                                                             message: str) -> None:
    response = _client(policy_manager).post(reverse("moderation:webhook_add"),
                                            {"platform": str(platform.pk), "url": url})
    assert response.status_code == 400 and message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_webhooks_list_their_latest_deliveries_and_switch_off(policy_manager: Any, platform: Any) -> None:
    import uuid

    endpoint = WebhookEndpoint.objects.create(organisation=platform, url="https://hooks.praatplein.test/" + "x" * 300,
                                              secret="s3cr3t-never-shown", events=[])
    WebhookDelivery.objects.create(organisation=platform, endpoint=endpoint, event_id=uuid.uuid4(),
                                   event_type=WebhookEvent.DECISION_MADE, payload={"secret-payload": 1},
                                   state=DeliveryState.DELIVERED, attempts=1, last_status=200)
    waiting = WebhookDelivery.objects.create(organisation=platform, endpoint=endpoint, event_id=uuid.uuid4(),
                                             event_type=WebhookEvent.SANCTION_APPLIED, payload={},
                                             state=DeliveryState.PENDING, attempts=3, last_status=503,
                                             last_error="the platform answered 503")
    client = _client(policy_manager)
    html = client.get(reverse("moderation:webhooks")).content.decode()
    assert "every event" in html and "the platform answered 503" in html and "HTTP 503" in html
    assert f'data-delivery="{waiting.pk}" data-state="pending"' in html
    assert "s3cr3t-never-shown" not in html and "secret-payload" not in html
    page = client.get(reverse("moderation:webhook", args=[endpoint.pk])).content.decode()
    assert "Switch this webhook off" in page
    response = client.post(reverse("moderation:webhook_off", args=[endpoint.pk]))
    assert response.status_code == 302
    endpoint.refresh_from_db()
    waiting.refresh_from_db()
    assert not endpoint.is_active and waiting.state == DeliveryState.FAILED
    assert 'data-active="no"' in client.get(response["Location"]).content.decode()


def test_another_platforms_webhook_answers_404(policy_manager: Any, other_platform: Any) -> None:
    endpoint = WebhookEndpoint.objects.create(organisation=other_platform, url="https://hooks.kletshoek.test/",
                                              secret="s", events=[])
    client = _client(policy_manager)
    assert client.get(reverse("moderation:webhook", args=[endpoint.pk])).status_code == 404
    assert client.post(reverse("moderation:webhook_off", args=[endpoint.pk])).status_code == 404
    assert WebhookEndpoint.objects.get().is_active
