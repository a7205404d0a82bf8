"""The schedule that runs inside `vangnet serve`: which jobs, when, and a real scheduler process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vangnet.moderation.retention import KINDS
from vangnet.common.scheduling import scheduled_jobs


def _load_task_modules() -> None:
    import vangnet.audit.tasks  # noqa: F401
    import vangnet.common.tasks  # noqa: F401
    import vangnet.evidence.tasks  # noqa: F401
    import vangnet.notices.tasks  # noqa: F401
    import vangnet.intake.tasks  # noqa: F401
    import vangnet.moderation.tasks  # noqa: F401


def test_housekeeping_and_chaining_are_on_the_schedule() -> None:
    _load_task_modules()
    jobs = scheduled_jobs()
    assert jobs["vangnet.audit.tasks.chain_audit_events"] == "interval[0:00:02]"
    assert jobs["apply_retention_daily"].startswith("cron[month='*', day='*', day_of_week='*', "
                                                                        "hour='3', minute='30'")
    for hourly in ("clear_expired_sessions", "prune_finished_tasks", "forget_ended_followup_lockouts"):
        assert "hour='*'" in jobs[hourly], hourly
    assert "minute='*/10'" in jobs["recover_stalled_captures"]
    assert jobs["process_outbox_every_minute"].endswith("hour='*', minute='*']")
    assert "minute='*/5'" in jobs["recover_stalled_deliveries"]
    assert jobs["schedule_availability_checks"].endswith("hour='*', minute='*/30']")
    assert jobs["poll_reply_mailbox"].endswith("hour='*', minute='*/2']")
    assert jobs["deliver_webhooks_every_minute"].endswith("hour='*', minute='*']")


@pytest.mark.django_db
def test_housekeeping_tasks_do_their_work(submit, settings) -> None:
    from datetime import timedelta

    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from vangnet.common import tasks as common_tasks
    from vangnet.intake import tasks as intake_tasks
    from vangnet.intake.models import FollowupAttempts

    Session.objects.create(session_key="old", session_data="x", expire_date=timezone.now() - timedelta(hours=1))
    Session.objects.create(session_key="new", session_data="x", expire_date=timezone.now() + timedelta(hours=1))
    FollowupAttempts.objects.create(receipt_code="VN-AAAA-AAAA", attempts=3,
                                    window_ends_at=timezone.now() - timedelta(minutes=1))
    FollowupAttempts.objects.create(receipt_code="VN-BBBB-BBBB", attempts=3,
                                    window_ends_at=timezone.now() + timedelta(minutes=1))
    common_tasks.clear_expired_sessions.call()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["new"]
    assert intake_tasks.forget_ended_followup_lockouts.call() == 1
    assert list(FollowupAttempts.objects.values_list("receipt_code", flat=True)) == ["VN-BBBB-BBBB"]
    report = submit().report
    report.case.status = "closed"
    report.case.closed_at = timezone.now() - timedelta(days=settings.VANGNET_RETENTION_DAYS + 1)
    report.case.save(update_fields=["status", "closed_at"])
    assert intake_tasks.apply_retention_daily.call() == {"cases": 1, "evidence": 0, "idempotency_keys": 0,
        **{f"moderation_{kind}": 0 for kind in KINDS}}
    report.refresh_from_db()
    assert report.description == "" and report.erased_at is not None


def test_the_scheduler_process_chains_new_events_within_seconds(tmp_path: Path) -> None:
    """`vangnet scheduler` as `vangnet serve` starts it, on the embedded default (SQLite)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VANGNET_", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="vangnet.config.dev", VANGNET_DATA_DIR=str(tmp_path), VANGNET_LOG_LEVEL="INFO")
    cli = [sys.executable, "-m", "vangnet.cli"]
    subprocess.run([*cli, "migrate", "-v", "0"], env=env, check=True, timeout=120)
    subprocess.run([*cli, "demo"], env=env, check=True, timeout=120, capture_output=True)
    count = ("from vangnet.audit.models import Event; "
             "print(Event.objects.filter(seq__isnull=True).count(), Event.objects.filter(seq__isnull=False).count())")

    def waiting_and_chained() -> tuple[int, int]:
        out = subprocess.run([*cli, "shell", "-c", count], env=env, check=True, capture_output=True, text=True)
        waiting, chained = out.stdout.strip().splitlines()[-1].split()
        return int(waiting), int(chained)

    waiting, chained = waiting_and_chained()
    assert waiting > 0 and chained == 0, "the demo's events wait for the chainer"
    scheduler = subprocess.Popen([*cli, "scheduler"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and waiting_and_chained()[0]:
            time.sleep(1)
        assert waiting_and_chained() == (0, waiting)
    finally:
        scheduler.terminate()
        output = scheduler.communicate(timeout=20)[0]
    assert scheduler.returncode == 0, output
    verify = subprocess.run([*cli, "verify_audit_chain"], env=env, capture_output=True, text=True, timeout=60)
    assert verify.returncode == 0 and f"intact: {waiting} events verified" in verify.stdout
