"""A partner's retry with the same Idempotency-Key gets the first answer and never files a second report."""

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from vangnet.accounts.models import Organisation
from vangnet.accounts.services import create_api_token
from vangnet.audit.selectors import verify_chain
from vangnet.audit.services import chain_all_pending
from vangnet.audit.services import Actor
from vangnet.common.testing import at_the_same_moment
from vangnet.common.seed import seed_reference_data
from vangnet.intake import idempotency
from vangnet.intake.models import IdempotencyKey, Report

from .test_api import VALID, post

KEY = "3f6c2a0e-8d7b-4c1e-9a55-5a1f0e7d2b64"


def post_with_key(client, body, token, key=KEY, **headers):
    return post(client, body, token, HTTP_IDEMPOTENCY_KEY=key, **headers)


@pytest.mark.django_db
def test_a_retry_after_a_lost_answer_gets_the_first_answer_and_no_second_report(client, api_token) -> None:
    first = post_with_key(client, VALID, api_token)  # stored, but suppose the answer never arrived
    assert first.status_code == 201, first.content
    retry = post_with_key(client, VALID, api_token)
    assert retry.status_code == 201
    assert retry.content == first.content, "the same receipt code and secret"
    assert Report.objects.count() == 1
    assert Report.objects.get().receipt_code == retry.json()["receipt_code"]


@pytest.mark.django_db
def test_the_stored_answer_keeps_the_secret_sealed(client, api_token) -> None:
    secret = post_with_key(client, VALID, api_token).json()["secret"]
    stored = IdempotencyKey.objects.get()
    assert secret not in stored.sealed_answer and secret.replace("-", "") not in stored.sealed_answer
    assert stored.key == KEY and stored.status == 201


@pytest.mark.django_db
def test_a_retry_with_the_keys_in_another_order_is_the_same_request(client, api_token) -> None:
    first = post_with_key(client, VALID, api_token)
    reordered = post(client, None, api_token, raw=json.dumps(dict(reversed(list(VALID.items())))),
                     HTTP_IDEMPOTENCY_KEY=KEY)
    assert reordered.content == first.content and Report.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_for_a_different_report_answers_422(client, api_token) -> None:
    post_with_key(client, VALID, api_token)
    response = post_with_key(client, {**VALID, "description": "Another story."}, api_token)
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert "different report" in response.json()["detail"]
    assert Report.objects.count() == 1


@pytest.mark.django_db
def test_keys_belong_to_one_token(client, api_token, helpline) -> None:
    _token, other = create_api_token(organisation=helpline, name="other", actor=Actor.system())
    first = post_with_key(client, VALID, api_token).json()
    second = post_with_key(client, VALID, other).json()
    assert first["receipt_code"] != second["receipt_code"] and Report.objects.count() == 2


@pytest.mark.django_db
def test_requests_without_a_key_or_with_new_keys_each_make_a_report(client, api_token) -> None:
    post(client, VALID, api_token)
    post(client, VALID, api_token)
    post_with_key(client, VALID, api_token, key="a")
    post_with_key(client, VALID, api_token, key="b")
    assert Report.objects.count() == 4


@pytest.mark.django_db
def test_a_refused_request_stores_no_answer_so_the_corrected_one_may_reuse_the_key(client, api_token) -> None:
    refused = post_with_key(client, {**VALID, "consent_processing": False}, api_token)
    assert refused.status_code == 400 and not IdempotencyKey.objects.exists()
    assert post_with_key(client, VALID, api_token).status_code == 201


@pytest.mark.django_db
def test_a_replay_is_not_throttled(client, api_token, settings) -> None:
    settings.VANGNET_API_REPORTS_PER_MINUTE = 1
    first = post_with_key(client, VALID, api_token)
    assert post_with_key(client, VALID, api_token).content == first.content
    assert post_with_key(client, VALID, api_token, key="new").status_code == 429


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "with space", "x" * 256, "ключ"])
def test_an_invalid_key_answers_400(client, api_token, key) -> None:
    response = post(client, VALID, api_token, HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1"))
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["errors"]
    assert not Report.objects.exists()


@pytest.mark.django_db
def test_a_key_is_kept_for_24_hours(client, api_token) -> None:
    first = post_with_key(client, VALID, api_token).json()
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=23, minutes=59))
    assert post_with_key(client, VALID, api_token).json() == first
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, minutes=1))
    later = post_with_key(client, VALID, api_token).json()
    assert later["receipt_code"] != first["receipt_code"], "an expired key starts afresh"
    assert Report.objects.count() == 2 and IdempotencyKey.objects.count() == 1


@pytest.mark.django_db
def test_pruning_deletes_only_expired_keys(client, api_token) -> None:
    post_with_key(client, VALID, api_token, key="old")
    post_with_key(client, VALID, api_token, key="new")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=25))
    assert idempotency.prune_expired_keys() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


@pytest.mark.django_db
def test_the_daily_retention_command_prunes_keys(client, api_token) -> None:
    post_with_key(client, VALID, api_token)
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(days=2))
    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    assert not IdempotencyKey.objects.exists()
    assert "idempotency keys deleted: 1" in out.getvalue()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite",
                    reason="the in-memory SQLite test database refuses concurrent writers; runs on PostgreSQL in CI")
def test_simultaneous_requests_with_one_key_make_exactly_one_report() -> None:
    seed_reference_data()  # transactional tests run on a database emptied by the ones before
    _token, token = create_api_token(organisation=Organisation.objects.get(slug="vangnet-helpline"), name="race",
                                     actor=Actor.system())
    def send(_i: int) -> tuple[int, bytes]:
        response = post_with_key(Client(), VALID, token)
        return response.status_code, response.content

    answers = at_the_same_moment(6, send)
    assert Report.objects.count() == 1
    assert len(set(answers)) == 1 and answers[0][0] == 201, "every request got the one first answer"
    assert json.loads(answers[0][1])["receipt_code"] == Report.objects.get().receipt_code
    chain_all_pending()
    assert list(verify_chain()) == []
