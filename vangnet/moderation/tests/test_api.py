"""The moderation API: keys and scopes, checks all or nothing, replays, images and banks, notices, bad input."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from django.utils import timezone
from hypothesis import strategies as st

from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.evidence.tests import corpus
from vangnet.hashing import services as bank_services
from vangnet.hashing.hashers import HASHERS
from vangnet.moderation import keys
from vangnet.moderation.choices import Action, ItemStatus, TaskKind
from vangnet.moderation.models import Item, Policy, ReviewTask, UserNotice

pytestmark = pytest.mark.django_db
CHECK = "/api/v1/moderation/check"
NOTICES = "/api/v1/moderation/notices"
ACTOR = Actor.system("test")
THREAT = "I will find you and kill you tonight, you stupid bitch"
BENIGN = "Thanks for the recipe, I will try it this weekend with my sister"


@pytest.fixture
def key(platform) -> str:
    return keys.create_key(organisation=platform, name="main", scopes=["check", "notices", "appeals"],
                           actor=ACTOR)[1]


def post(client: Any, key: str | None, body: Any, path: str = CHECK, **headers: str) -> Any:
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return client.post(path, data=json.dumps(body) if not isinstance(body, str) else body,
                       content_type="application/json", **headers)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_every_bad_key_gets_the_same_401(client, platform, other_platform, key) -> None:
    other_key = keys.create_key(organisation=other_platform, name="o", scopes=["check"], actor=ACTOR)
    keys.revoke_key(key=other_key[0], actor=ACTOR)
    answers = [post(client, k, {"items": [{"id": "a", "text": BENIGN}]})
               for k in (None, "nonsense", key + "x", other_key[1])]
    assert {a.status_code for a in answers} == {401}
    assert len({a.content for a in answers}) == 1
    assert answers[0].json()["code"] == "unauthorized" and answers[0]["WWW-Authenticate"] == "Bearer"
    assert not Item.objects.exists()


def test_a_key_without_the_scope_is_forbidden(client, platform) -> None:
    notices_only = keys.create_key(organisation=platform, name="n", scopes=["notices"], actor=ACTOR)[1]
    answer = post(client, notices_only, {"items": [{"id": "a", "text": BENIGN}]}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 403 and answer.json()["code"] == "forbidden"
    assert answer["Content-Language"] == "en" and not Item.objects.exists()


def test_a_check_scores_every_label_and_keeps_only_what_review_needs(client, platform, key) -> None:
    answer = post(client, key, {"items": [{"id": "t1", "text": THREAT, "author_id": "u9"},
                                          {"id": "b1", "text": BENIGN, "author_id": "u8", "url": "https://x.test/1"}]})
    assert answer.status_code == 200, answer.content
    threat, benign = answer.json()["results"]
    assert threat["id"] == "t1" and set(threat["scores"]) == {"misogyny", "hate", "threat", "sexual_harassment",
                                                              "doxing", "toxicity"}
    assert threat["language"] == "en" and threat["language_validated"] is True
    assert "threat" in threat["flagged"] and threat["action"] == Action.REVIEW and threat["review"] is True
    assert benign["flagged"] == [] and benign["action"] == Action.ALLOW and benign["review"] is False
    stored_threat = Item.objects.get(external_id="t1")
    stored_benign = Item.objects.get(external_id="b1")
    assert stored_threat.text == THREAT and stored_threat.status == ItemStatus.IN_REVIEW
    assert stored_benign.text == "" and stored_benign.url == "" and stored_benign.text_chars == len(BENIGN)
    assert stored_benign.scores == benign["scores"] and stored_benign.author_id == "u8"
    assert ReviewTask.objects.filter(item=stored_threat, kind=TaskKind.FLAGGED, done_at__isnull=True).exists()
    assert not ReviewTask.objects.filter(item=stored_benign).exists()
    event = Event.objects.get(event_type="moderation.items_checked")
    assert event.data["items"] == 2 and event.data["review"] == 1 and event.organisation_id == platform.pk
    assert THREAT not in json.dumps(event.data)


def test_one_bad_item_refuses_the_whole_batch_and_stores_nothing(client, key) -> None:
    events = Event.objects.count()
    answer = post(client, key, {"items": [{"id": "ok", "text": THREAT},
                                          {"id": "bad", "image": b64(corpus.elf_executable())},
                                          {"id": "empty", "text": "   "}]}, HTTP_ACCEPT_LANGUAGE="nl")
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert set(errors) == {"items.1.image", "items.2.text"}
    assert answer["Content-Language"] == "nl"
    assert not Item.objects.exists() and not ReviewTask.objects.exists() and Event.objects.count() == events


@pytest.mark.parametrize("body, field", [
    ({"items": []}, "items"),
    ({"items": [{"id": f"i{n}", "text": "hoi"} for n in range(65)]}, "items"),
    ({"items": [{"id": "a", "text": "x", "language": "xx"}]}, "language"),
    ({"items": [{"id": "a b", "text": "x"}]}, "id"),
    ({"items": [{"id": "a", "text": 5}]}, "text"),
    ({"items": [{"id": "a", "text": "x" * 10_001}]}, "text"),
    ({"items": [{"id": "a", "image": "not base64!"}]}, "image"),
])
def test_bad_input_is_a_clear_400(client, key, body: dict[str, Any], field: str) -> None:
    answer = post(client, key, body, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400, answer.content
    assert field in json.dumps(answer.json()["errors"]) and not Item.objects.exists()


def test_not_json_is_invalid_body(client, key) -> None:
    answer = post(client, key, "{not json")
    assert answer.status_code == 400 and answer.json()["code"] == "invalid_body"


def test_duplicate_ids_in_a_batch_are_refused(client, key) -> None:
    answer = post(client, key, {"items": [{"id": "a", "text": "hoi"}, {"id": "a", "text": "hallo"}]})
    assert answer.status_code == 400 and "items.1.id" in answer.json()["errors"]
    assert not Item.objects.exists()


def test_the_same_id_and_content_replays_other_content_conflicts(client, key) -> None:
    first = post(client, key, {"items": [{"id": "a", "text": THREAT}]})
    again = post(client, key, {"items": [{"id": "a", "text": THREAT}]})
    assert first.json() == again.json() and Item.objects.count() == 1 and ReviewTask.objects.count() == 1
    other = post(client, key, {"items": [{"id": "a", "text": "another text"}]})
    assert other.status_code == 409 and other.json()["code"] == "item_exists"


@pytest.mark.parametrize("key_name", corpus.HOSTILE)
def test_the_hostile_corpus_gets_an_answer_and_only_real_images_are_kept(client, key, key_name: str) -> None:
    """Bombs, polyglots, executables named .jpg, SVG with script, truncated files: a clear answer, no crash."""
    sample = corpus.sample(key_name)
    answer = post(client, key, {"items": [{"id": "h", "image": b64(sample.data)}]})
    real_image = (sample.accepted and sample.kind == "image" and "bomb" not in key_name
                  and key_name != "truncated-jpeg" and len(sample.data) <= 4 * 1024 * 1024)
    if real_image:  # a real JPEG with odd extras (EXIF, trailing HTML): hashed, matched, sealed only if kept
        assert answer.status_code == 200, answer.content
        assert Item.objects.get(external_id="h").image_sha256 == hashlib.sha256(sample.data).hexdigest()
    else:
        assert answer.status_code == 400, (key_name, answer.content)
        assert "items.0.image" in answer.json()["errors"] or "items.0.text" in answer.json()["errors"]
        assert not Item.objects.exists()


def textured_jpeg(seed: int, size: tuple[int, int] = (256, 256)) -> bytes:
    """A photo-like image with enough detail for a PDQ quality well over 50."""
    import io

    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, (size[1] // 16, size[0] // 16, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).resize(size, Image.Resampling.BICUBIC).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def test_an_image_in_a_bank_of_the_policy_matches_and_goes_to_review(client, platform, key) -> None:
    photo = textured_jpeg(1)
    bank = bank_services.create_bank(slug="ncii", name="NCII", actor=ACTOR)
    pdq = HASHERS["pdq"].hash_bytes(photo)
    bank_services.add_entry(bank=bank, actor=ACTOR, pdq=pdq.value, pdq_quality=pdq.quality, label="case 1")
    image = {"id": "img", "image": b64(photo)}
    assert post(client, key, {"items": [image]}).json()["results"][0]["matches"] == []  # no bank in the policy yet
    policy = Policy.objects.create(organisation=platform)
    policy.banks.add(bank)
    result = post(client, key, {"items": [{**image, "id": "img2"}]}).json()["results"][0]
    assert result["matches"] == [{"bank": "ncii", "kind": "pdq", "distance": 0}]
    assert result["action"] == Action.REVIEW and result["review"] is True
    stored = Item.objects.get(external_id="img2")
    assert stored.image_sealed is not None and bytes(stored.image_sealed) != photo  # sealed, not plain
    assert stored.image_pdq == pdq.value and Item.objects.get(external_id="img").image_sealed is None


def test_the_rate_per_minute_answers_429(client, platform, monkeypatch) -> None:
    slow = keys.create_key(organisation=platform, name="slow", scopes=["check"], actor=ACTOR, rate_per_minute=2)[1]
    moment = timezone.now().replace(second=30)
    monkeypatch.setattr(keys.timezone, "now", lambda: moment)  # all three in one minute, whenever the test runs
    answers = [post(client, slow, {"items": [{"id": f"r{n}", "text": BENIGN}]}) for n in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["code"] == "throttled" and answers[2]["Retry-After"] == "60"
    assert Item.objects.count() == 2


def test_a_users_notice_queues_the_item_with_its_content(client, platform, key) -> None:
    post(client, key, {"items": [{"id": "n1", "text": BENIGN}]})  # checked before: its text was not kept
    answer = post(client, key, {"id": "notice-1", "item": {"id": "n1", "text": BENIGN}, "label": "hate",
                                "explanation": "This is about me.", "notifier_email": "ik@voorbeeld.test",
                                "trusted_flagger": True}, NOTICES)
    assert answer.status_code == 201, answer.content
    assert answer.json() == {"id": "notice-1", "item": "n1", "status": "queued"}
    notice = UserNotice.objects.get()
    assert notice.notifier_email == "" and notice.notifier_name == "" and notice.item.text == BENIGN  # not kept
    task = ReviewTask.objects.get(kind=TaskKind.NOTICE)
    assert task.item == notice.item and task.severity >= 0.9
    again = post(client, key, {"id": "notice-1", "item": {"id": "n1", "text": BENIGN}, "explanation": "again"},
                 NOTICES)
    assert again.status_code == 409 and again.json()["code"] == "notice_exists"
    bad = post(client, key, {"id": "notice-2", "item": {"id": "n2", "text": "x"}, "explanation": "y",
                             "notifier_email": "not an address"}, NOTICES)
    assert bad.status_code == 400 and "notifier_email" in bad.json()["errors"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=30),
                         lambda children: st.lists(children, max_size=4)
                         | st.dictionaries(st.sampled_from(["items", "id", "text", "image", "language"]), children,
                                           max_size=4), max_leaves=12))
def test_any_body_gets_a_clear_answer_never_a_crash(client, key, body: Any) -> None:
    answer = post(client, key, body)
    assert answer.status_code in {200, 400, 409}, answer.content
    payload = answer.json()
    if answer.status_code == 400:
        assert "errors" in payload or payload.get("code") == "invalid_body"
    if answer.status_code != 200:
        assert Item.objects.filter(external_id="__never__").count() == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(min_size=0, max_size=200), min_size=1, max_size=5))
def test_any_texts_in_a_valid_envelope_are_scored_or_refused_whole(client, key, texts: list[str]) -> None:
    before = Item.objects.count()
    items = [{"id": f"p{abs(hash((t, n)))}", "text": t} for n, t in enumerate(texts)]
    answer = post(client, key, {"items": items})
    if answer.status_code == 200:
        for result in answer.json()["results"]:
            assert all(0.0 <= score <= 1.0 for score in result["scores"].values())
    else:
        assert answer.status_code in {400, 409} and Item.objects.count() == before


@pytest.mark.parametrize("number, status", [(1.5, 400), ("1", 400), (True, 400), (0, 400), (10**6, 404),
                                            (10.0**6, 404)])
def test_an_appeal_names_its_decision_by_a_json_integer(client, key, number: Any, status: int) -> None:
    answer = post(client, key, {"id": "ap", "decision": number, "reason": "Not fair"}, "/api/v1/moderation/appeals")
    assert answer.status_code == status, answer.content


def flat_png(side: int) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (side, side), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_images_are_bounded_in_pixels_each_and_per_batch(client, key) -> None:
    answer = post(client, key, {"items": [{"id": "big", "image": b64(flat_png(3500))}]}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400 and "12 megapixels" in answer.json()["errors"]["items.0.image"][0]
    many = [{"id": f"i{n}", "image": b64(flat_png(3000))} for n in range(12)]  # 9 MP each: 108 MP together
    answer = post(client, key, {"items": many}, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 400 and "items.11.image" in answer.json()["errors"]
    assert "items.10.image" not in answer.json()["errors"] and not Item.objects.exists()


def test_every_request_with_a_valid_key_counts_even_an_invalid_one_and_images_count_more(client, platform,
                                                                                       monkeypatch) -> None:
    moment = timezone.now().replace(second=30)
    monkeypatch.setattr(keys.timezone, "now", lambda: moment)
    row, slow = keys.create_key(organisation=platform, name="slow", scopes=["check"], actor=ACTOR, rate_per_minute=4)
    assert post(client, slow, {"items": []}).status_code == 400
    assert post(client, slow, "{not json").status_code == 400
    two_images = {"items": [{"id": "a", "image": b64(textured_jpeg(1))}, {"id": "b", "image": b64(textured_jpeg(2))}]}
    refused = post(client, slow, two_images)  # 1 for the request + 2 for its images > the 1 left
    assert refused.status_code == 429 and not Item.objects.exists()
    assert post(client, slow, {"items": [{"id": "c", "text": BENIGN}]}).status_code == 200  # the 4th and last
    assert post(client, slow, {"items": [{"id": "d", "text": BENIGN}]}).status_code == 429


def test_a_keys_rate_has_a_ceiling(platform, settings) -> None:
    from django.core.exceptions import ValidationError

    settings.VANGNET_MODERATION_MAX_KEY_RATE = 1000
    with pytest.raises(ValidationError):
        keys.create_key(organisation=platform, name="greedy", scopes=["check"], actor=ACTOR, rate_per_minute=1001)


def test_the_same_id_with_other_text_of_the_same_length_conflicts(client, key) -> None:
    assert post(client, key, {"items": [{"id": "s", "text": "Lovely weather today."}]}).status_code == 200
    assert Item.objects.get(external_id="s").text == ""  # allowed: the text was not kept
    other = post(client, key, {"items": [{"id": "s", "text": "I will kill you, cow!"}]})  # same length
    assert other.status_code == 409 and other.json()["code"] == "item_exists"
    notice = post(client, key, {"id": "n-s", "item": {"id": "s", "text": "I will kill you, cow!"},
                                "explanation": "A threat."}, NOTICES)
    assert notice.status_code == 409 and Item.objects.get(external_id="s").text == ""


@pytest.mark.parametrize("value, status", [
    ("2026-12-01T21:15:00+01:00", 200), ("2026-12-01t21:15:00z", 200), ("2026-12-01T21:15:00.123456789Z", 200),
    ("2026-12-01", 400), ("2026-12-01T21:15:00", 400), ("yesterday", 400), ("9999-01-01T00:00:00Z", 400),
    ("2026-02-30T10:00:00Z", 400)])
def test_posted_at_is_an_rfc_3339_moment_not_in_the_future(client, key, value: str, status: int) -> None:
    answer = post(client, key, {"items": [{"id": "d", "text": THREAT, "posted_at": value}]})
    assert answer.status_code == status, answer.content
    if status == 400:
        assert "items.0.posted_at" in answer.json()["errors"] and not Item.objects.exists()
    else:
        assert Item.objects.get(external_id="d").content_date.year == 2026


@pytest.mark.parametrize("field", ["author_id", "parent_id", "url", "text"])
def test_a_nul_character_is_refused_as_the_document_says(client, key, field: str) -> None:
    item = {"id": "z", "text": "hallo", field: "u\x00x"}
    answer = post(client, key, {"items": [item]})
    assert answer.status_code == 400 and f"items.0.{field}" in answer.json()["errors"]
    assert not Item.objects.exists()


def test_a_body_over_the_moderation_limit_is_refused_with_that_limit(client, key, settings) -> None:
    answer = client.post(CHECK, data=b"{}", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}",
                         CONTENT_LENGTH=str(17 * 2**20), HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 413 and "16 MB" in answer.json()["detail"]
