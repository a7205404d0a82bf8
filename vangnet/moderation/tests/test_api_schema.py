"""schemathesis over the moderation API with a platform key, every phase and every check (as for reports)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vangnet.accounts.models import Organisation
from vangnet.audit.services import Actor
from vangnet.intake.tests.test_api_schema import live_site, run_schemathesis  # noqa: F401 - live_site: fixture
from vangnet.moderation import keys
from vangnet.moderation.models import Item


def test_the_moderation_api_keeps_every_promise_of_its_openapi_document(live_site: str, settings: Any,  # noqa: F811
                                                                          tmp_path: Path) -> None:
    platform = Organisation.objects.create(slug="st-platform", name="Platform", is_platform=True,
                                           handles_reports=False)
    settings.VANGNET_MODERATION_MAX_KEY_RATE = 100_000  # the run sends hundreds of requests in a minute
    _row, key = keys.create_key(organisation=platform, name="st", scopes=["check", "notices", "appeals"],
                                actor=Actor.system(), rate_per_minute=100_000)
    failures = run_schemathesis(base_url=live_site, token=key, max_examples=30)
    assert not failures, "\n\n".join(dict.fromkeys(failures))
    assert Item.objects.filter(organisation=platform).exists()  # valid checks were accepted and stored
