"""Fixtures of the moderation tests: a platform, another one, and their staff."""

from __future__ import annotations

from typing import Any

import pytest

from vangnet.accounts.choices import Role
from vangnet.accounts.models import Organisation
from vangnet.common.testing import make_user


@pytest.fixture
def platform(db: Any) -> Organisation:
    return Organisation.objects.create(slug="praatplein", name="Praatplein", is_platform=True, handles_reports=False)


@pytest.fixture
def other_platform(db: Any) -> Organisation:
    return Organisation.objects.create(slug="kletshoek", name="Kletshoek", is_platform=True, handles_reports=False)


@pytest.fixture
def moderator(platform: Organisation) -> Any:
    return make_user("mod1", organisation=platform, role=Role.MODERATOR, email="mod1@praatplein.test")


@pytest.fixture
def second_moderator(platform: Organisation) -> Any:
    return make_user("mod2", organisation=platform, role=Role.MODERATOR, email="mod2@praatplein.test")


@pytest.fixture
def policy_manager(platform: Organisation) -> Any:
    return make_user("pm", organisation=platform, role=Role.POLICY_MANAGER, email="pm@praatplein.test")
