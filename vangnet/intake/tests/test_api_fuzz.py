"""Hostile and malformed bodies for the partner API: always a clear 201 or 400, never a crash."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vangnet.intake.models import Report

from .test_api import VALID

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=10,
)
bodies = st.dictionaries(st.sampled_from(sorted(VALID) + ["urls", "contact_email", "share_with", "extra"]),
                         json_values, max_size=8).map(lambda changes: {**VALID, **changes})


@pytest.mark.django_db
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_any_body_gets_201_or_400_and_a_400_stores_nothing(client, api_token, body) -> None:
    before = Report.objects.count()
    response = client.post("/api/v1/reports", data=json.dumps(body), content_type="application/json",
                           HTTP_AUTHORIZATION=f"Bearer {api_token}")
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert response.json()["errors"]
        assert Report.objects.count() == before
    else:
        assert Report.objects.count() == before + 1
