"""The review dashboard: queues, the review page (claim, held by, image, decisions), alerts, exports, metrics."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from vangnet.accounts.choices import Role
from vangnet.common.testing import make_user
from vangnet.moderation.choices import AlertStatus, AppealStatus, ItemStatus, TaskKind
from vangnet.moderation.models import Appeal, Decision, Policy, ReviewTask, StatementOfReasons, ThreatAlert

from .dashboard import (LONG_URL, SECRET_TEXT, alert_for, appeal_task, decided, fixed_default_rules, flagged_item,
                        flagged_task, notice_for, png)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    from vangnet.moderation import policy

    monkeypatch.setattr(policy, "default_rules", fixed_default_rules)


def _client(user: Any, *, language: str | None = None) -> Client:
    """A client logged in as ``user``; with ``language``, every request asks for that language (Accept-Language)."""
    client = Client(headers={"Accept-Language": language}) if language else Client()
    client.force_login(user)
    return client


def _task(pk: int) -> ReviewTask:
    return ReviewTask.objects.get(pk=pk)


# ---------------------------------------------------------------------------------------------
# The queues


def test_the_queues_list_tasks_by_severity_then_age_with_counts(moderator: Any, platform: Any,
                                                                other_platform: Any) -> None:
    low = flagged_task(platform, external_id="low", severity=0.5)
    high = flagged_task(platform, external_id="high", severity=0.97)
    older_low = flagged_task(platform, external_id="low-later", severity=0.5)
    flagged_task(other_platform, external_id="elsewhere-item")
    html = _client(moderator).get(reverse("moderation:dashboard")).content.decode()
    assert html.index('data-task="%d"' % high.pk) < html.index('data-task="%d"' % low.pk) < html.index(
        'data-task="%d"' % older_low.pk)
    assert 'data-count="flagged">(3)' in html and 'data-count="notice">(0)' in html
    assert "elsewhere-item" not in html and SECRET_TEXT not in html
    assert 'data-take-next="appeal"' in html


def test_take_next_claims_the_most_severe_task_and_opens_it(moderator: Any, platform: Any) -> None:
    flagged_task(platform, external_id="low", severity=0.5)
    high = flagged_task(platform, external_id="high", severity=0.97)
    response = _client(moderator).post(reverse("moderation:take_next"), {"kind": "flagged"})
    assert response.status_code == 302 and response["Location"] == reverse("moderation:task", args=[high.pk])
    assert _task(high.pk).assigned_to == moderator


def test_take_next_on_an_empty_queue_says_so(moderator: Any, platform: Any) -> None:
    client = _client(moderator, language="en")
    response = client.post(reverse("moderation:take_next"), {"kind": "appeal"}, follow=True)
    assert "This queue is empty" in response.content.decode()
    assert client.post(reverse("moderation:take_next"), {"kind": "nonsense"}).status_code == 400


def test_the_dashboard_shows_who_holds_a_task(moderator: Any, second_moderator: Any, platform: Any) -> None:
    task = flagged_task(platform)
    _client(moderator).get(reverse("moderation:task", args=[task.pk]))
    html = _client(second_moderator).get(reverse("moderation:dashboard")).content.decode()
    assert f'data-task="{task.pk}"' in html and ">mod1</td>" in html


def test_the_header_links_to_the_dashboard_for_moderators_only(moderator: Any, platform: Any, handler: Any) -> None:
    link = f'href="{reverse("moderation:dashboard")}"'
    assert link in _client(moderator).get(reverse("moderation:dashboard")).content.decode()
    assert link not in _client(handler).get(reverse("cases:queue")).content.decode()


# ---------------------------------------------------------------------------------------------
# The review page


def test_the_review_page_shows_text_scores_context_notices_and_history(moderator: Any, platform: Any) -> None:
    task = flagged_task(platform, url=LONG_URL, language="pl", language_validated=False)
    notice_for(task.item)
    earlier = flagged_item(platform, external_id="earlier-post", scores={"hate": 0.88}, flagged=["hate"])
    decided(earlier, moderator)
    flagged_item(platform, external_id="someone-else", author_id="author-other")
    html = _client(moderator).get(reverse("moderation:task", args=[task.pk])).content.decode()
    assert SECRET_TEXT in html
    assert 'data-score="threat" class="flagged"' in html and 'value="0.930"' in html and "0.93" in html
    assert "data-language-warning" in html
    assert f"<code data-item-url>{LONG_URL}</code>" in html and f'href="{LONG_URL}"' not in html
    assert "thread-12" in html
    assert "He threatens my sister." in html
    assert "Noor Notifier" not in html and "noor@notifier.example" not in html
    assert "earlier-post" in html and "Removal of content" in html and "someone-else" not in html
    assert "data-held-by-me" in html and 'data-shortcut="n"' in html and 'id="shortcuts"' in html


def test_opening_the_page_claims_the_task(moderator: Any, platform: Any) -> None:
    task = flagged_task(platform)
    _client(moderator).get(reverse("moderation:task", args=[task.pk]))
    task = _task(task.pk)
    assert task.assigned_to == moderator and task.lease_expires_at is not None
    assert task.lease_expires_at > timezone.now()


def test_a_second_moderator_sees_who_holds_it_and_cannot_decide(moderator: Any, second_moderator: Any,
                                                                platform: Any) -> None:
    task = flagged_task(platform)
    _client(moderator).get(reverse("moderation:task", args=[task.pk]))
    other = _client(second_moderator, language="en")
    html = other.get(reverse("moderation:task", args=[task.pk])).content.decode()
    assert "Held by mod1" in html and "data-held-by" in html
    assert 'data-shortcut="n"' not in html and 'data-action="decision"' not in html
    response = other.post(reverse("moderation:decide", args=[task.pk]), {"preset": "no_action"})
    assert response.status_code == 409 and not Decision.objects.exists()
    assert _task(task.pk).assigned_to == moderator


def test_a_lapsed_hold_lets_another_moderator_take_it(moderator: Any, second_moderator: Any, platform: Any) -> None:
    task = flagged_task(platform)
    ReviewTask.objects.filter(pk=task.pk).update(assigned_to=moderator, assigned_at=timezone.now(),
                                                 lease_expires_at=timezone.now() - timedelta(minutes=1))
    html = _client(second_moderator).get(reverse("moderation:task", args=[task.pk])).content.decode()
    assert "data-held-by-me" in html and _task(task.pk).assigned_to == second_moderator


def test_another_platforms_task_is_not_found(moderator: Any, other_platform: Any) -> None:
    task = flagged_task(other_platform)
    client = _client(moderator)
    assert client.get(reverse("moderation:task", args=[task.pk])).status_code == 404
    assert client.get(reverse("moderation:task_image", args=[task.pk])).status_code == 404
    assert _task(task.pk).assigned_to is None


def test_release_gives_the_task_back(moderator: Any, platform: Any) -> None:
    task = flagged_task(platform)
    client = _client(moderator)
    client.get(reverse("moderation:task", args=[task.pk]))
    response = client.post(reverse("moderation:release", args=[task.pk]))
    assert response.status_code == 302 and _task(task.pk).assigned_to is None


def test_skip_gives_the_task_back_and_takes_the_next(moderator: Any, platform: Any) -> None:
    first = flagged_task(platform, external_id="first", severity=0.9)
    second = flagged_task(platform, external_id="second", severity=0.8)
    client = _client(moderator)
    client.get(reverse("moderation:task", args=[first.pk]))
    response = client.post(reverse("moderation:release", args=[first.pk]), {"then": "next"})
    assert response["Location"] == reverse("moderation:task", args=[second.pk])
    assert _task(first.pk).assigned_to is None and _task(second.pk).assigned_to == moderator


def test_the_image_is_a_png_remade_from_its_pixels(moderator: Any, platform: Any) -> None:
    task = flagged_task(platform, image=png())
    client = _client(moderator)
    html = client.get(reverse("moderation:task", args=[task.pk])).content.decode()
    assert "data-item-image" in html and "<details" in html and 'class="unblur"' in html
    response = client.get(reverse("moderation:task_image", args=[task.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert b"secret-metadata-4242" not in response.content
    assert Image.open(io.BytesIO(response.content)).size == (64, 48)


def test_an_image_no_longer_kept_answers_gone(moderator: Any, platform: Any) -> None:
    task = flagged_task(platform, image=png())
    task.item.__class__.objects.filter(pk=task.item_id).update(image_sealed=None)
    client = _client(moderator, language="en")
    assert client.get(reverse("moderation:task_image", args=[task.pk])).status_code == 410
    assert "The image is no longer kept." in client.get(reverse("moderation:task", args=[task.pk])).content.decode()


def test_the_terms_preset_without_a_clause_asks_for_it(moderator: Any, platform: Any) -> None:
    task = flagged_task(platform)
    client = _client(moderator, language="en")
    client.get(reverse("moderation:task", args=[task.pk]))
    response = client.post(reverse("moderation:decide", args=[task.pk]), {"preset": "remove_terms"})
    assert response.status_code == 400 and "Needed when the content breaks the terms." in response.content.decode()
    assert not Decision.objects.exists()


def test_the_illegal_preset_opens_the_full_form_prefilled(moderator: Any, platform: Any) -> None:
    task = flagged_task(platform)
    url = reverse("moderation:task", args=[task.pk]) + "?preset=remove_illegal"
    html = _client(moderator).get(url).content.decode()
    assert '<details id="decision-full" class="decision-full" open>' in html
    assert 'value="DECISION_GROUND_ILLEGAL_CONTENT" selected' in html


# ---------------------------------------------------------------------------------------------
# Deciding (moderation.decisions and moderation.appeals)


def test_no_action_records_a_decision_and_goes_on_to_the_next_task(moderator: Any, platform: Any) -> None:
    task = flagged_task(platform, external_id="first", severity=0.9)
    following = flagged_task(platform, external_id="second", severity=0.8)
    client = _client(moderator)
    client.get(reverse("moderation:task", args=[task.pk]))
    response = client.post(reverse("moderation:decide", args=[task.pk]), {"preset": "no_action"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == reverse("moderation:task", args=[following.pk])
    decision = Decision.objects.get(item=task.item)
    assert decision.no_action and decision.decided_by == moderator
    assert _task(task.pk).done_at is not None
    assert task.item.__class__.objects.get(pk=task.item_id).status == ItemStatus.DECIDED


def test_the_full_form_records_a_removal(moderator: Any, platform: Any) -> None:
    task = flagged_task(platform)
    client = _client(moderator)
    client.get(reverse("moderation:task", args=[task.pk]))
    response = client.post(reverse("moderation:decide", args=[task.pk]), {
        "visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"], "labels": ["threat"],
        "ground": "DECISION_GROUND_ILLEGAL_CONTENT", "legal_ground": "Art. 285 Wetboek van Strafrecht",
        "illegal_explanation": "A threat against life.", "facts": "Posted in a public thread.",
        "category": "STATEMENT_CATEGORY_VIOLENCE"})
    assert response.status_code == 302, response.content.decode()[:3000]
    decision = Decision.objects.get(item=task.item)
    assert decision.legal_ground == "Art. 285 Wetboek van Strafrecht" and not decision.no_action
    assert StatementOfReasons.objects.filter(decision=decision).exists()
    assert response["Location"] == reverse("moderation:dashboard")


def test_an_incomplete_decision_shows_the_form_with_its_errors(moderator: Any, platform: Any) -> None:
    task = flagged_task(platform)
    client = _client(moderator, language="en")
    client.get(reverse("moderation:task", args=[task.pk]))
    response = client.post(reverse("moderation:decide", args=[task.pk]), {
        "visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"], "ground": "DECISION_GROUND_ILLEGAL_CONTENT"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Needed when the content is illegal." in html and "decision-full" in html and " open>" in html
    assert not Decision.objects.exists() and _task(task.pk).done_at is None


def test_an_appeal_is_decided_by_another_moderator(moderator: Any, second_moderator: Any, platform: Any) -> None:
    task = appeal_task(platform, decider=moderator)
    own = _client(moderator)
    html = own.get(reverse("moderation:task", args=[task.pk])).content.decode()
    assert "data-own-appeal" in html and 'data-action="decide-appeal"' not in html
    assert own.post(reverse("moderation:decide_appeal", args=[task.pk]),
                    {"outcome": "overturn", "explanation": "x"}).status_code == 403
    other = _client(second_moderator)
    html = other.get(reverse("moderation:task", args=[task.pk])).content.decode()
    assert "It was a joke between friends." in html and "Removal of content" in html
    response = other.post(reverse("moderation:decide_appeal", args=[task.pk]),
                          {"outcome": "uphold", "explanation": "A threat remains a threat."})
    assert response.status_code == 302, response.content.decode()[:2000]
    appeal = Appeal.objects.get(pk=task.appeal_id or 0)
    assert appeal.status == AppealStatus.UPHELD and appeal.decided_by == second_moderator


def test_an_appeal_against_no_action_is_overturned_with_the_full_decision_form(
        moderator: Any, second_moderator: Any, platform: Any) -> None:
    task = appeal_task(platform, decider=moderator)
    Decision.objects.filter(pk=task.appeal.decision_id).update(no_action=True, visibility=[], ground="")
    client = _client(second_moderator, language="en")
    html = client.get(reverse("moderation:task", args=[task.pk])).content.decode()
    assert "data-overturn-by-decision" in html and 'data-action="decision"' in html
    assert '<details id="decision-full" class="decision-full" open>' in html
    refused = client.post(reverse("moderation:decide_appeal", args=[task.pk]),
                          {"outcome": "overturn", "explanation": "You are right."})
    assert refused.status_code == 400 and "full decision form" in refused.content.decode()
    assert Appeal.objects.get(pk=task.appeal_id or 0).status == AppealStatus.OPEN
    assert _client(moderator).post(reverse("moderation:decide", args=[task.pk]), {
        "visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"], "labels": ["threat"],
        "ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT", "incompatible_ground": "Rules 2",
        "incompatible_explanation": "A threat.", "facts": "A threat in a public thread.",
        "category": "STATEMENT_CATEGORY_VIOLENCE"}).status_code == 403, "never the first decider"
    response = client.post(reverse("moderation:decide", args=[task.pk]), {
        "visibility": ["DECISION_VISIBILITY_CONTENT_REMOVED"], "labels": ["threat"],
        "ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT", "incompatible_ground": "Rules 2",
        "incompatible_explanation": "A threat.", "facts": "A threat in a public thread.",
        "category": "STATEMENT_CATEGORY_VIOLENCE"})
    assert response.status_code == 302, response.content.decode()[:3000]
    appeal = Appeal.objects.get(pk=task.appeal_id or 0)
    assert appeal.status == AppealStatus.OVERTURNED and appeal.decided_by == second_moderator
    resolution = Decision.objects.get(appeal=appeal)
    assert not resolution.no_action and StatementOfReasons.objects.filter(decision=resolution).exists()
    assert _task(task.pk).done_at is not None


def test_a_restriction_appealed_is_still_upheld_or_overturned(moderator: Any, second_moderator: Any,
                                                             platform: Any) -> None:
    task = appeal_task(platform, decider=moderator)
    client = _client(second_moderator)
    html = client.get(reverse("moderation:task", args=[task.pk])).content.decode()
    assert "data-overturn-by-decision" not in html and 'data-action="decision"' not in html
    assert client.post(reverse("moderation:decide", args=[task.pk]), {"preset": "no_action"}).status_code == 400


def test_an_appeal_needs_an_explanation(moderator: Any, second_moderator: Any, platform: Any) -> None:
    task = appeal_task(platform, decider=moderator)
    response = _client(second_moderator).post(reverse("moderation:decide_appeal", args=[task.pk]),
                                              {"outcome": "uphold", "explanation": ""})
    assert response.status_code == 400 and Appeal.objects.get(pk=task.appeal_id or 0).status == AppealStatus.OPEN


def test_the_appeal_file_downloads_as_json(moderator: Any, second_moderator: Any, platform: Any) -> None:
    task = appeal_task(platform, decider=moderator)
    response = _client(second_moderator).post(reverse("moderation:appeal_file", args=[task.appeal_id]))
    assert response.status_code == 200 and response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert "mod1" not in response.content.decode() and isinstance(data, dict)


# ---------------------------------------------------------------------------------------------
# Statements of reasons, threat alerts, metrics


def test_a_policy_manager_exports_statements_once(moderator: Any, policy_manager: Any, platform: Any) -> None:
    Policy.objects.create(organisation=platform, terms_url="https://praatplein.example/terms")
    task = flagged_task(platform)
    client = _client(moderator)
    client.get(reverse("moderation:task", args=[task.pk]))
    assert client.post(reverse("moderation:decide", args=[task.pk]), {"preset": "remove_terms"}).status_code == 302
    assert StatementOfReasons.objects.count() == 1, "the terms preset makes a valid decision"
    manager = _client(policy_manager, language="en")
    assert 'data-action="export-statements"' in manager.get(reverse("moderation:dashboard")).content.decode()
    response = manager.post(reverse("moderation:export_statements"), {"organisation": str(platform.pk)})
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    batches = json.loads(response.content)
    assert len(batches) == 1 and len(batches[0]["statements"]) == 1
    again = manager.post(reverse("moderation:export_statements"), {"organisation": str(platform.pk)}, follow=True)
    assert "No statements of reasons wait to be exported." in again.content.decode()


def test_a_policy_manager_downloads_every_statement_again(moderator: Any, policy_manager: Any,
                                                          platform: Any) -> None:
    """The first download never arrived: the statements are not lost."""
    Policy.objects.create(organisation=platform, terms_url="https://praatplein.example/terms")
    task = flagged_task(platform)
    client = _client(moderator)
    client.get(reverse("moderation:task", args=[task.pk]))
    assert client.post(reverse("moderation:decide", args=[task.pk]), {"preset": "remove_terms"}).status_code == 302
    manager = _client(policy_manager, language="en")
    assert "data-export-all" in manager.get(reverse("moderation:dashboard")).content.decode()
    first = manager.post(reverse("moderation:export_statements"), {"organisation": str(platform.pk)})
    assert first.status_code == 200  # and lost on its way
    again = manager.post(reverse("moderation:export_statements"), {"organisation": str(platform.pk), "all": "1"})
    assert again.status_code == 200 and "attachment" in again["Content-Disposition"]
    assert json.loads(again.content) == json.loads(first.content)


def test_the_alert_page_shows_a_failed_e_mail_and_never_notified_before_it_was_sent(
        policy_manager: Any, platform: Any, settings: Any, run_worker: Any,
        django_capture_on_commit_callbacks: Any) -> None:
    import socket

    alert = alert_for(flagged_item(platform))
    ThreatAlert.objects.filter(pk=alert.pk).update(authority_email="meldingen@politie.test")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there: the mail server is down
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 2}}}
    client = _client(policy_manager, language="en")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("moderation:alert_notified", args=[alert.pk]), {"notified-note": ""})
    assert response.status_code == 302
    page = client.get(reverse("moderation:alert", args=[alert.pk])).content.decode()
    assert 'data-send-state="sending"' in page and "Authority notified" not in page
    run_worker()
    page = client.get(reverse("moderation:alert", args=[alert.pk])).content.decode()
    assert 'data-send-state="retrying"' in page and "attempt 1 of 6 failed" in page
    assert "Send the notification again" in page and "Authority notified" not in page
    assert ThreatAlert.objects.get(pk=alert.pk).status == AlertStatus.OPEN


def test_a_policy_manager_handles_a_threat_alert(policy_manager: Any, moderator: Any, platform: Any) -> None:
    alert = alert_for(flagged_item(platform))
    client = _client(policy_manager, language="en")
    listing = client.get(reverse("moderation:alerts")).content.decode()
    assert f'data-alert="{alert.pk}"' in listing and SECRET_TEXT not in listing
    page = client.get(reverse("moderation:alert", args=[alert.pk])).content.decode()
    assert "Prepared notification text." in page and SECRET_TEXT in page
    refused = client.post(reverse("moderation:alert_notified", args=[alert.pk]), {"notified-note": ""})
    assert refused.status_code == 400 and "note how and when" in refused.content.decode()
    response = client.post(reverse("moderation:alert_notified", args=[alert.pk]),
                           {"notified-note": "Phoned the police at 14:05."})
    assert response.status_code == 302
    assert ThreatAlert.objects.get(pk=alert.pk).status == AlertStatus.NOTIFIED
    assert _client(moderator).get(reverse("moderation:alerts")).status_code == 403


def test_a_policy_manager_dismisses_an_alert_with_a_reason(policy_manager: Any, platform: Any) -> None:
    alert = alert_for(flagged_item(platform))
    client = _client(policy_manager)
    response = client.post(reverse("moderation:alert_dismiss", args=[alert.pk]), {"dismiss-note": "Song lyrics."})
    assert response.status_code == 302 and ThreatAlert.objects.get(pk=alert.pk).status == AlertStatus.DISMISSED


def test_metrics_count_without_texts_and_suppress_small_cells(platform: Any, moderator: Any,
                                                              other_platform: Any) -> None:
    analyst = make_user("ana", organisation=platform, role=Role.ANALYST)
    for n in range(6):
        item = flagged_item(platform, external_id=f"m-{n}")
        decided(item, moderator)
    decided(flagged_item(platform, external_id="kept"), moderator, no_action=True, visibility=[], ground="")
    for n in range(7):
        decided(flagged_item(other_platform, external_id=f"o-{n}"), None, no_action=True, visibility=[])
    html = _client(analyst, language="nl").get(reverse("moderation:metrics") + "?days=30").content.decode()
    assert SECRET_TEXT not in html and "m-0" not in html and "author-9" not in html
    assert "<dd data-reviewed>7</dd>" in html
    # The DSA database's labels stay in English (vangnet.moderation.dsa); 1 "no action": fewer than 5.
    assert "Removal of content" in html and "data-suppressed" in html
    assert "elk aantal van 1 tot en met 4 staat er als “minder dan 5”" in html
    assert "Besloten door het beleid</dt><dd>0</dd>" in html  # the other platform's 7 never count
    assert _client(moderator).get(reverse("moderation:metrics")).status_code == 403


def test_metrics_of_no_platform_show_nothing(helpline: Any, platform: Any) -> None:
    admin = make_user("adm", organisation=helpline, role=Role.ADMIN)
    html = _client(admin).get(reverse("moderation:metrics")).content.decode()
    assert "<dd data-reviewed>0</dd>" in html


def test_analysts_never_reach_the_queues_or_items(platform: Any) -> None:
    analyst = _client(make_user("ana", organisation=platform, role=Role.ANALYST))
    task = flagged_task(platform)
    assert analyst.get(reverse("moderation:dashboard")).status_code == 403
    assert analyst.get(reverse("moderation:task", args=[task.pk])).status_code == 403
    assert analyst.get(reverse("moderation:task_image", args=[task.pk])).status_code == 403
    assert TaskKind.FLAGGED == _task(task.pk).kind and _task(task.pk).assigned_to is None
