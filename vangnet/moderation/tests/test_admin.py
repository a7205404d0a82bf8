"""The moderation models in the admin: scoped like the staff pages, read-only, keys only revoked (audited)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from vangnet.accounts.choices import Role
from vangnet.accounts.models import Membership
from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.common.testing import make_user
from vangnet.moderation import keys

from .factories import make_item, make_policy

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("test")


@pytest.fixture
def root(db: Any) -> Any:
    return make_user("root", is_superuser=True, is_staff=True)


def _admin(user: Any) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def test_a_superuser_sees_only_the_platforms_her_memberships_give(root: Any, platform: Any,
                                                                   other_platform: Any) -> None:
    mine, _ = keys.create_key(organisation=platform, name="mine-key", scopes=["check"], actor=SYSTEM)
    keys.create_key(organisation=other_platform, name="their-key", scopes=["check"], actor=SYSTEM)
    item = make_item(platform, external_id="my-item-77")
    make_item(other_platform, external_id="their-item-88")
    client = _admin(root)
    for path in ["/admin/moderation/platformkey/", "/admin/moderation/item/", "/admin/moderation/policy/",
                 "/admin/moderation/decision/", "/admin/moderation/statementofreasons/"]:
        assert client.get(path).status_code == 200, path
    assert "mine-key" not in client.get("/admin/moderation/platformkey/").content.decode()
    assert client.get(f"/admin/moderation/item/{item.pk}/change/").status_code == 302  # "does not exist"

    Membership.objects.create(user=root, organisation=platform, role=Role.POLICY_MANAGER)
    listing = client.get("/admin/moderation/platformkey/").content.decode()
    assert "mine-key" in listing and "their-key" not in listing
    items = client.get("/admin/moderation/item/").content.decode()
    assert "my-item-77" in items and "their-item-88" not in items
    page = client.get(f"/admin/moderation/platformkey/{mine.pk}/change/").content.decode()
    assert mine.key_hash in page and 'name="key_hash"' not in page, "the hash is shown, never editable"


def test_keys_are_not_added_here_and_are_revoked_by_an_audited_action(root: Any, platform: Any) -> None:
    Membership.objects.create(user=root, organisation=platform, role=Role.ADMIN)
    row, key = keys.create_key(organisation=platform, name="old", scopes=["check"], actor=SYSTEM)
    client = _admin(root)
    assert client.get("/admin/moderation/platformkey/add/").status_code == 403
    response = client.post("/admin/moderation/platformkey/", {"action": "revoke", "_selected_action": [row.pk]})
    assert response.status_code == 302
    assert keys.authenticate(key) is None
    event = Event.objects.get(event_type="moderation.key_revoked")
    assert event.actor_user == root


def test_an_item_is_shown_without_its_text_and_a_policy_with_its_rules(root: Any, platform: Any) -> None:
    Membership.objects.create(user=root, organisation=platform, role=Role.POLICY_MANAGER)
    item = make_item(platform, text="Secret words MARKER-3141", url="https://praatplein.test/p/MARKER-2718")
    policy = make_policy(platform, rules={"hate": {"review_threshold": 0.35, "terms_clause": "Rule 9"}})
    client = _admin(root)
    page = client.get(f"/admin/moderation/item/{item.pk}/change/").content.decode()
    assert item.external_id in page and "MARKER-3141" not in page and "MARKER-2718" not in page
    page = client.get(f"/admin/moderation/policy/{policy.pk}/change/").content.decode()
    assert "Rule 9" in page and "0.35" in page
    assert client.post(f"/admin/moderation/policy/{policy.pk}/change/", {}).status_code == 403
