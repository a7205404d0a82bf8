"""Test data for the moderation app: platforms, their staff, items written directly, and a valid decision.

Kept small and stable: other test modules import these. Every function takes keyword
arguments with defaults, so a test names only what it is about.
"""

from __future__ import annotations

import itertools
from typing import Any

from vangnet.accounts.choices import Role
from vangnet.accounts.models import Organisation
from vangnet.common.testing import make_user

from .. import dsa
from ..choices import ItemStatus, Label
from ..models import Item, Policy, PolicyRule

_numbers = itertools.count(1)


def make_platform(slug: str = "platform", *, name: str = "", **fields: Any) -> Organisation:
    """A platform organisation (``is_platform``) that handles no reports."""
    return Organisation.objects.create(slug=slug, name=name or slug.replace("-", " ").title(), is_platform=True,
                                       handles_reports=False, **fields)


def make_moderator(username: str, platform: Organisation, *, role: str = Role.MODERATOR) -> Any:
    """A staff member of ``platform`` in ``role`` (a moderator unless said otherwise)."""
    return make_user(username, organisation=platform, role=role)


def make_item(platform: Organisation, *, external_id: str = "", author_id: str = "author-1",
              text: str = "You are worthless, go back to the kitchen.", status: str = ItemStatus.IN_REVIEW,
              **fields: Any) -> Item:
    """An item as a check would have stored it (written directly, no classifier run)."""
    defaults: dict[str, Any] = {
        "language": "en", "language_validated": True, "scores": {Label.MISOGYNY: 0.91},
        "flagged": [Label.MISOGYNY], "severity": 0.77, "text_chars": len(text),
    }
    defaults.update(fields)
    return Item.objects.create(organisation=platform, external_id=external_id or f"post-{next(_numbers)}",
                               author_id=author_id, text=text, status=status, **defaults)


def make_policy(platform: Organisation, *, rules: dict[str, dict[str, Any]] | None = None,
                **fields: Any) -> Policy:
    """A platform's own policy with a rule per label in ``rules`` (label -> PolicyRule fields)."""
    policy = Policy.objects.create(organisation=platform, **fields)
    for label, rule in (rules or {}).items():
        PolicyRule.objects.create(policy=policy, label=label, **rule)
    return policy


def decision_data(**overrides: Any) -> dict[str, Any]:
    """``form_data`` for ``decisions.decide``: a valid removal for incompatibility with the terms."""
    data: dict[str, Any] = {
        "labels": [Label.MISOGYNY],
        "visibility": [dsa.DecisionVisibility.CONTENT_REMOVED],
        "ground": dsa.DecisionGround.INCOMPATIBLE_CONTENT,
        "incompatible_ground": "Community rules, article 3: no demeaning content about women",
        "incompatible_explanation": "The post demeans a woman for being a woman.",
        "facts": "A reply under a post demeaning the poster because she is a woman.",
        "category": dsa.StatementCategory.CYBER_VIOLENCE_AGAINST_WOMEN,
        "keywords": [dsa.Keyword.CYBER_HARASSMENT_AGAINST_WOMEN],
        "territorial_scope": ["NL", "BE"],
    }
    data.update(overrides)
    return data


def no_action_data(**overrides: Any) -> dict[str, Any]:
    """``form_data`` for a decision to leave the item as it is."""
    return {"no_action": True, "facts": "Criticism of an opinion, not of a person.", **overrides}
