"""schemathesis over the partner API's OpenAPI document, with every phase and every check.

The document must say what the server enforces: every request that fits it is accepted
(positive data acceptance), every one that does not is refused (negative data rejection),
every answer has a declared status, content type, headers and shape. The run is seeded,
deterministic and bounded so CI can afford it on every push; requests go to pytest-django's
live server on the loopback address.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis

from vangnet.accounts.models import Organisation
from vangnet.accounts.services import create_api_token
from vangnet.audit.models import ChainHead
from vangnet.audit.services import Actor
from vangnet.common.seed import seed_reference_data
from vangnet.evidence.models import EvidenceItem
from vangnet.intake import api

from . import schemathesis_hooks  # registers the http-url format

CONFIG = Path(__file__).resolve().parents[3] / "schemathesis.toml"


def run_schemathesis(*, base_url: str, token: str, max_examples: int) -> list[str]:
    """Run schemathesis as ``schemathesis run --checks all`` would; return the failures."""
    from schemathesis.engine import Status, events, from_schema

    settings = tomllib.loads(CONFIG.read_text())  # what `schemathesis run` in the repository root reads
    settings.update({
        "seed": 20261125,
        "workers": 1,
        # Without keep-alive every live-server thread ends, and closes its database connection, after one request.
        "headers": {"Authorization": f"Bearer {token}", "Connection": "close"},
        "generation": {"max-examples": max_examples, "deterministic": True},
    })
    config = schemathesis.Config.from_dict(settings)
    schema = schemathesis.openapi.from_url(f"{base_url}/api/v1/openapi.json", config=config)
    failures: list[str] = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for checks in event.recorder.checks.values():
                failures += [f"{check.name}: {check.failure_info.failure.title}\n"
                             f"{check.failure_info.failure.message}\n{check.failure_info.code_sample}"
                             for check in checks if check.status == Status.FAILURE and check.failure_info]
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            failures.append(f"error: {event!r}")
    return failures


@pytest.fixture
def live_site(live_server: Any) -> Iterator[str]:
    # The live server answers from its own thread, so its data is committed and flushed after the test.
    seed_reference_data()
    yield live_server.url
    ChainHead.objects.all().delete()  # the append-only log allows the flush only without its chain head


def test_the_api_keeps_every_promise_of_its_openapi_document(live_site: str, settings: Any, tmp_path: Path) -> None:
    settings.STORAGES = {**settings.STORAGES, "evidence": {
        "BACKEND": "vangnet.evidence.storage.DurableFileSystemStorage", "OPTIONS": {"location": str(tmp_path)}}}
    assert schemathesis_hooks.URL_FORMAT == api.URL_FORMAT
    _token, plain = create_api_token(organisation=Organisation.objects.get(slug="vangnet-helpline"), name="st",
                                     actor=Actor.system())
    settings.VANGNET_API_REPORTS_PER_MINUTE = 100_000  # the run sends hundreds of valid reports
    settings.VANGNET_API_EVIDENCE_PER_MINUTE = 100_000
    failures = run_schemathesis(base_url=live_site, token=plain, max_examples=30)
    assert not failures, "\n\n".join(dict.fromkeys(failures))
    # The document's link from a report to its evidence led the stateful phase to real uploads.
    assert EvidenceItem.objects.filter(source="partner").exists()
