"""Exactly once under a killed worker: the real task worker SIGKILLed mid-batch, real PostgreSQL, real SMTP.

The test starts a PostgreSQL cluster of its own (whatever database the suite runs on) and an
SMTP server on loopback in this process, which counts every message it receives by the
notice's reference (the ``X-Vangnet-Notice`` header) and takes 20 ms over each, so that a
batch is in the middle of sending for a while. Each round queues notices as a handler sends
them (``send_notice`` in a ``vangnet shell``, one ``process_outbox`` task per notice), starts
``vangnet worker`` and has the SMTP server SIGKILL it at one moment of one message:

- ``before DATA``: the worker has named the recipient; the message never arrives;
- ``in DATA``: the server has the whole message but has not said 250 yet; the worker dies
  waiting for the answer, so the provider has a notice the outbox cannot know it sent;
- ``after 250``: a few milliseconds after the server took a message: the worker dies marking
  it sent or claiming the next one.

Then ``recover_stalled`` runs with a clock past ``STALLED_AFTER`` (as the recovery job
would ten minutes later) and a fresh ``vangnet worker`` runs one ``process_outbox`` task, which
sends what is left (the other tasks queued with the notices, PDF copies among them, stay for
the next round's worker). After every round: no reference was received twice; every notice
is sent and was received once, or (at most one per kill, the one in flight) uncertain and
received at most once; nothing is pending or being sent; the messages received are the
notices sent plus any uncertain one that arrived.
"""

from __future__ import annotations

import asyncio
import email
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from vangnet.common.testing import PostgresCluster, free_port, needs_postgres_binaries, throwaway_postgres

pytestmark = [pytest.mark.slow, needs_postgres_binaries]

NOTICES_PER_ROUND = 40
SECONDS_PER_MESSAGE = 0.02
URL = "https://social.example/p/1"


@pytest.fixture(scope="module")
def cluster() -> Iterator[PostgresCluster]:
    with throwaway_postgres("vangnet_outbox_kill") as pg:
        yield pg


@dataclass
class KillingSmtpServer:
    """An SMTP handler (aiosmtpd) that counts messages per notice and SIGKILLs ``victim`` at one chosen moment."""

    received: Counter[str] = field(default_factory=Counter)
    messages_this_round: int = 0
    moment: str = ""  # "before DATA", "in DATA", "after 250"
    at_message: int = 0  # the n-th message of the round
    victim: int = 0
    in_flight: str = ""  # the reference of the message the kill interrupted ("in DATA")
    killed: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def arm(self, *, moment: str, at_message: int, victim: int) -> None:
        with self.lock:
            self.messages_this_round, self.moment, self.at_message, self.victim = 0, moment, at_message, victim
            self.in_flight = ""
            self.killed.clear()

    def _kill(self) -> None:
        if self.victim and not self.killed.is_set():
            os.kill(self.victim, signal.SIGKILL)
            self.killed.set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802 - aiosmtpd API
                          rcpt_options: list[str]) -> str:
        envelope.rcpt_tos.append(address)
        with self.lock:
            if self.moment == "before DATA" and self.messages_this_round + 1 == self.at_message:
                self._kill()
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        reference = str(email.message_from_bytes(envelope.content)["X-Vangnet-Notice"])
        with self.lock:
            self.received[reference] += 1
            self.messages_this_round += 1
            if self.messages_this_round == self.at_message:
                if self.moment == "in DATA":
                    self.in_flight = reference
                    self._kill()
                elif self.moment == "after 250":
                    asyncio.get_running_loop().call_later(SECONDS_PER_MESSAGE + 0.004, self._kill)
        await asyncio.sleep(SECONDS_PER_MESSAGE)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[KillingSmtpServer, int]]:
    handler = KillingSmtpServer()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def queue_notices(count: int) -> None:
    """Run by ``vangnet shell`` against the cluster: ``count`` notices queued, as a handler sends them.

    Every ``send_notice`` commits on its own and enqueues a ``process_outbox`` task, as on the case page.
    """
    from django.contrib.auth import get_user_model

    from vangnet.accounts.choices import Role
    from vangnet.accounts.models import Membership, Organisation
    from vangnet.audit.services import Actor
    from vangnet.directory.models import Provider
    from vangnet.directory.services import add_provider_domain, save_provider
    from vangnet.intake.choices import Channel
    from vangnet.intake.forms import ReportForm
    from vangnet.intake.services import submit_report
    from vangnet.notices.services import draft_notices, send_notice

    helpline = Organisation.objects.get(slug="vangnet-helpline")
    if not Provider.objects.filter(slug="social").exists():
        helpline.notice_email = "meldingen@helpline.example.org"
        helpline.save(update_fields=["notice_email"])
        provider = save_provider(provider=Provider(slug="social", name="Social Ltd (example)", language="en",
                                                   contact_email="dsa@social.example.org"), actor=Actor.system("test"))
        add_provider_domain(provider=provider, domain="social.example", actor=Actor.system("test"))
        user = get_user_model().objects.create_user(username="hans", password="not-used-here-0123")
        Membership.objects.create(user=user, organisation=helpline, role=Role.HANDLER)
    actor = Actor.staff(get_user_model().objects.get(username="hans"))
    form = ReportForm(data={
        "immediate_danger": "no", "reporter_role": "victim", "forms": ["doxing"], "urls": URL,
        "description": "He posted my home address.", "platform": "Social", "age_band": "18_plus",
        "relationship": "ex_partner", "perpetrator_count": "one", "duration": "weeks", "contact_preference": "none",
        "contact_email": "", "contact_phone": "", "consent_processing": True, "share_with": "helpwanted"})
    assert form.is_valid(), form.errors
    case = submit_report(data=form.cleaned_data, organisation=helpline, channel=Channel.WEB, actor=Actor.reporter(),
                         language="en").report.case
    for _ in range(count):
        [notice] = draft_notices(case=case, urls=[URL], grounds=[], actor=actor,
                                 explanation="The post shows her home address and threatens to come: doxing.")
        send_notice(notice=notice, actor=actor)


def recover_and_kick() -> None:
    """Run by ``vangnet shell`` after the kill: the recovery job as it runs once ``STALLED_AFTER`` has passed,
    then a ``process_outbox`` task ahead of the queue (as the every-minute job would enqueue one)."""
    from datetime import timedelta

    from django.utils import timezone

    from vangnet.notices.outbox import STALLED_AFTER, recover_stalled
    from vangnet.notices.tasks import process_outbox

    print(recover_stalled(now=timezone.now() + STALLED_AFTER + timedelta(seconds=1)))
    process_outbox.using(priority=10).enqueue()


def _state(cluster: PostgresCluster) -> dict[str, tuple[str, list[str]]]:
    """Every notice's reference -> (its status, its deliveries' states), read straight from the database."""
    import psycopg

    with psycopg.connect(cluster.url) as conn:
        rows = conn.execute(
            "SELECT n.reference, n.status, array_agg(d.state ORDER BY d.id) FROM notices_notice n "
            "LEFT JOIN notices_delivery d ON d.notice_id = n.id GROUP BY n.reference, n.status").fetchall()
    return {reference: (status, list(states)) for reference, status, states in rows}


def test_a_worker_killed_mid_batch_never_sends_a_notice_twice_nor_loses_one(cluster: PostgresCluster, smtp: Any,
                                                                            tmp_path: Path) -> None:
    server, smtp_port = smtp
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VANGNET_", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="vangnet.config.test", VANGNET_DATABASE_URL=cluster.url,
               VANGNET_DATA_DIR=str(tmp_path), VANGNET_EMAIL_HOST="127.0.0.1", VANGNET_EMAIL_PORT=str(smtp_port),
               VANGNET_LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    root = Path(__file__).resolve().parents[3]
    vangnet = [sys.executable, "-m", "vangnet.cli"]

    def run(*args: str, timeout: float = 120) -> str:
        done = subprocess.run([*vangnet, *args], env=env, cwd=root, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    run("migrate", "-v", "0", timeout=180)
    uncertain_allowed = 0
    for moment, at_message in (("in DATA", 6), ("before DATA", 21), ("after 250", 33)):
        run("shell", "-c", f"from vangnet.notices.tests.test_outbox_kill import queue_notices; "
                           f"queue_notices({NOTICES_PER_ROUND})")
        queued = [ref for ref, (status, _) in _state(cluster).items() if status == "queued"]
        assert len(queued) == NOTICES_PER_ROUND

        with (tmp_path / f"worker-{at_message}.log").open("wb") as log:
            worker = subprocess.Popen([*vangnet, "worker", "--no-startup-delay", "--interval", "0.1"], env=env,
                                      cwd=root, stdout=log, stderr=subprocess.STDOUT)
        server.arm(moment=moment, at_message=at_message, victim=worker.pid)
        try:
            assert server.killed.wait(60), f"the worker reached message {at_message} ({moment})"
            assert worker.wait(10) == -signal.SIGKILL
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait(10)
        arrived_before_kill = sum(server.received[ref] for ref in queued)
        assert 0 < arrived_before_kill < NOTICES_PER_ROUND, "killed mid-batch"

        recovered = run("shell", "-c", "from vangnet.notices.tests.test_outbox_kill import recover_and_kick; "
                                       "recover_and_kick()")
        assert int(recovered.split()[-1]) <= 1, "only the notice in flight was left sending"
        run("worker", "--batch", "--max-tasks", "1", "--no-startup-delay")

        state = _state(cluster)
        round_state = {ref: state[ref] for ref in queued}
        uncertain = [ref for ref, (status, _) in round_state.items() if status == "uncertain"]
        sent = [ref for ref, (status, _) in round_state.items() if status == "sent"]
        assert len(sent) + len(uncertain) == NOTICES_PER_ROUND, f"none left queued after a kill {moment}"
        assert len(uncertain) <= 1, "at most the one in flight is uncertain"
        assert all(server.received[ref] == 1 for ref in sent), "every notice marked sent was received exactly once"
        assert all(states == ["sent"] for status, states in (round_state[ref] for ref in sent))
        assert all(round_state[ref][1] == ["uncertain"] for ref in uncertain), "an uncertain one is never re-sent"
        if moment == "in DATA":
            assert uncertain == [server.in_flight] and server.received[server.in_flight] == 1, \
                "the notice the server had but never acknowledged is uncertain, and was not sent again"
        elif moment == "before DATA":
            assert len(uncertain) == 1 and server.received[uncertain[0]] == 0, "cut off before its data: not received"
        uncertain_allowed += 1

        everything = _state(cluster)
        assert max(server.received.values()) == 1, "no reference was ever received twice"
        assert set(server.received) <= set(everything)
        assert not [ref for ref, (status, _) in everything.items() if status not in {"sent", "uncertain"}]
        marked_uncertain = [ref for ref, (status, _) in everything.items() if status == "uncertain"]
        assert len(marked_uncertain) <= uncertain_allowed
        assert sum(server.received.values()) == (
            sum(1 for status, _ in everything.values() if status == "sent")
            + sum(server.received[ref] for ref in marked_uncertain))
