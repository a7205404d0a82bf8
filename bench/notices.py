"""Benchmark: notices from "send" to a mail server that accepted them, through the outbox and the real worker.

Starts a throw-away PostgreSQL on loopback (or uses ``VANGNET_DATABASE_URL``, dropping and
re-creating that database and one named ``<it>_template``) and an SMTP server on loopback in
a process of its own (aiosmtpd), which notes the moment it accepted each message (its 250)
by the notice's reference (``X-Vangnet-Notice``).

N notices (default 1,000) are drafted once, in a template database. Then, for 1 and 2
``vangnet worker`` processes, on a fresh copy of it: the workers are started and connected,
and a load generator (a process of its own) queues all N at once, as if handlers had pressed
"send" together: ``send_notice`` for each, in one transaction, so its commit is the moment
of "send" for every notice, and the ``process_outbox`` tasks are enqueued after it as on the
case page. Measured: per notice the time from that commit to the server's 250 (p50, p95),
and notices/s (N over the time until the last was accepted). Every reference must arrive
exactly once and every notice end ``sent``, or the run fails.

Baseline, in the same run, to the same server: the same N messages (the bytes Django's
mailer makes of them) sent by a plain ``smtplib`` loop over one connection (``smtplib_s``),
and, for reference, over a connection per message as the outbox opens them.

The last line reads ``p95_ms=<n> notices_s=<n> smtplib_s=<n>`` (for the largest worker count).

    python bench/notices.py [--notices 1000] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import email.policy
import multiprocessing
import os
import queue
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_submission import ROOT, free_port, percentile, recreate_database, with_postgres  # noqa: E402

URL = "https://social.example/p/1"
EXPLANATION = "The post shows her home address and says he will come tonight: a threat and doxing."
REFERENCE_HEADER = b"\nX-Vangnet-Notice: "


def _env(url: str, data_dir: str, smtp_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VANGNET_", "DJANGO_"))}
    env.update(VANGNET_DATABASE_URL=url, DJANGO_SETTINGS_MODULE="vangnet.config.dev", VANGNET_DATA_DIR=data_dir,
               VANGNET_EMAIL_HOST="127.0.0.1", VANGNET_EMAIL_PORT=str(smtp_port), VANGNET_LOG_LEVEL="WARNING")
    return env


def _django(env: dict[str, str]) -> None:
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


# --- the SMTP server, in a process of its own ---------------------------------------------------


def smtp_server(port: int, conn: Any) -> None:
    """Accept everything; note (reference, moment of the 250) per message; answer "count", "take", "stop"."""
    from aiosmtpd.controller import Controller

    records: list[tuple[str, float]] = []
    lock = threading.Lock()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
            content: bytes = envelope.original_content or envelope.content
            start = content.find(REFERENCE_HEADER)
            reference = "" if start < 0 else content[start + len(REFERENCE_HEADER):content.find(
                b"\n", start + 1)].strip().decode()
            with lock:
                records.append((reference, time.time()))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    conn.send("ready")
    while True:
        command = conn.recv()
        if command == "count":
            conn.send(len(records))
        elif command == "take":
            with lock:
                taken = records[:]
                records.clear()
            conn.send(taken)
        else:
            break
    controller.stop()


class Smtp:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.port = free_port()
        self.conn, child = context.Pipe()
        self.process = context.Process(target=smtp_server, args=(self.port, child), daemon=True)
        self.process.start()
        if not self.conn.poll(30) or self.conn.recv() != "ready":
            sys.exit("The SMTP server did not start.")

    def ask(self, command: str) -> Any:
        self.conn.send(command)
        return self.conn.recv()

    def stop(self) -> None:
        self.conn.send("stop")
        self.process.join(timeout=10)


# --- data ----------------------------------------------------------------------------------------


def draft(env: dict[str, str], count: int) -> None:
    """In the template database: a provider, a handler, a case with one URL, ``count`` draft notices."""
    _django(env)
    from django.contrib.auth import get_user_model

    from vangnet.accounts.choices import Role
    from vangnet.accounts.models import Membership, Organisation
    from vangnet.audit.services import Actor
    from vangnet.directory.models import Provider
    from vangnet.directory.services import add_provider_domain, save_provider
    from vangnet.intake.choices import Channel
    from vangnet.intake.forms import ReportForm
    from vangnet.intake.services import submit_report
    from vangnet.notices.services import draft_notices

    helpline = Organisation.objects.get(slug="vangnet-helpline")
    helpline.notice_email = "meldingen@helpline.example.org"
    helpline.save(update_fields=["notice_email"])
    provider = save_provider(provider=Provider(slug="social", name="Social Ltd (example)", language="en",
                                               contact_email="dsa@social.example.org"), actor=Actor.system("bench"))
    add_provider_domain(provider=provider, domain="social.example", actor=Actor.system("bench"))
    user = get_user_model().objects.create_user(username="bench-handler", password=os.urandom(16).hex())
    Membership.objects.create(user=user, organisation=helpline, role=Role.HANDLER)
    form = ReportForm(data={
        "immediate_danger": "no", "reporter_role": "victim", "forms": ["doxing"], "urls": URL,
        "description": "He posted my home address.", "platform": "Social", "age_band": "18_plus",
        "relationship": "ex_partner", "perpetrator_count": "one", "duration": "weeks", "contact_preference": "none",
        "contact_email": "", "contact_phone": "", "consent_processing": True, "share_with": "helpwanted"})
    assert form.is_valid(), form.errors
    case = submit_report(data=form.cleaned_data, organisation=helpline, channel=Channel.WEB, actor=Actor.reporter(),
                         language="en").report.case
    for _ in range(count):
        draft_notices(case=case, urls=[URL], explanation=EXPLANATION, grounds=[], actor=Actor.staff(user))


def queue_all(env: dict[str, str], results: Any) -> None:
    """The load generator: every draft queued with ``send_notice`` in one transaction; reports its commit time."""
    _django(env)
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from vangnet.audit.services import Actor
    from vangnet.notices.models import Notice
    from vangnet.notices.services import send_notice

    actor = Actor.staff(get_user_model().objects.get(username="bench-handler"))
    notices = list(Notice.objects.filter(status="draft").order_by("pk"))
    committed: list[float] = []
    started = time.time()
    with transaction.atomic():
        transaction.on_commit(lambda: committed.append(time.time()))  # first: before the tasks are enqueued
        for notice in notices:
            send_notice(notice=notice, actor=actor)
    results.put({"sent_at": committed[0], "references": [n.reference for n in notices],
                 "transaction_s": committed[0] - started, "enqueue_s": time.time() - committed[0]})


def smtplib_baseline(env: dict[str, str], port: int, results: Any) -> None:
    """The same messages, byte for byte as the outbox's mailer makes them, by a plain smtplib loop."""
    _django(env)
    from django.conf import settings
    from django.core.mail import EmailMessage

    from vangnet.notices.models import Notice

    messages = []
    for notice in Notice.objects.select_related("provider").order_by("pk"):
        delivery = notice.deliveries.order_by("pk").last()
        message = EmailMessage(subject=notice.subject, body=notice.body, to=[notice.provider.contact_email],
                               from_email=settings.DEFAULT_FROM_EMAIL, reply_to=[notice.notifier_email],
                               headers={"Message-ID": delivery.message_id if delivery else "",
                                        "X-Vangnet-Notice": notice.reference})
        messages.append((parseaddr(message.from_email)[1], message.recipients(),
                         message.message(policy=email.policy.SMTP).as_bytes()))  # as Django's SMTP backend does
    start = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for sender, recipients, data in messages:
            smtp.sendmail(sender, recipients, data)
    one_connection = time.perf_counter() - start
    start = time.perf_counter()
    for sender, recipients, data in messages:
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.sendmail(sender, recipients, data)
    per_message = time.perf_counter() - start
    results.put({"count": len(messages), "one_connection_s": one_connection, "per_message_s": per_message})


def _in_process(target: Any, *args: Any, timeout: float = 600) -> Any:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    process = context.Process(target=target, args=(*args, results))
    process.start()
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                return results.get(timeout=1)
            except queue.Empty:
                if not process.is_alive() or time.monotonic() > deadline:
                    sys.exit(f"ERROR: {target.__name__} stopped without a result (exit code {process.exitcode})")
    finally:
        process.join(timeout=30)


# --- one measurement -----------------------------------------------------------------------------


def _database_url(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def _copy_database(url: str, template: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_database_url(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def _connections(url: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid()").fetchone()
    return int(row[0]) if row else 0


def _statuses(url: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return {str(s): int(n) for s, n in conn.execute(
            "SELECT status, count(*) FROM notices_notice GROUP BY status").fetchall()}


def measure(url: str, template: str, env: dict[str, str], smtp: Smtp, workers: int, count: int) -> dict[str, float]:
    _copy_database(url, template)
    smtp.ask("take")
    procs = [subprocess.Popen([sys.executable, "-m", "vangnet.cli", "worker", "--no-startup-delay"], env=env,
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(workers)]
    try:
        deadline = time.monotonic() + 60
        while _connections(url) < workers:  # each worker polls the queue once it is up
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                sys.exit("The task workers did not start.")
            time.sleep(0.2)
        queued = _in_process(queue_all, env)
        deadline = time.monotonic() + 600
        while smtp.ask("count") < count and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    records = smtp.ask("take")
    statuses = _statuses(url)
    accepted = {reference: at for reference, at in records}
    if len(records) != count or set(accepted) != set(queued["references"]) or statuses != {"sent": count}:
        sys.exit(f"ERROR: {len(records)} messages for {count} notices ({len(accepted)} distinct references), "
                 f"notices by status: {statuses}")
    sent_at = queued["sent_at"]
    ms = [(at - sent_at) * 1000 for at in accepted.values()]
    return {"p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95), "first_ms": min(ms), "last_ms": max(ms),
            "notices_s": count / (max(ms) / 1000), "transaction_s": queued["transaction_s"],
            "enqueue_s": queued["enqueue_s"]}


def run(args: argparse.Namespace, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    template_url = _database_url(url, f"{name}_template")
    recreate_database(template_url)
    smtp = Smtp()
    data_dir = tempfile.mkdtemp(prefix="vangnet-bench-notices-")
    try:
        env = _env(template_url, data_dir, smtp.port)
        subprocess.run([sys.executable, "-m", "vangnet.cli", "migrate", "--noinput", "-v", "0"], env=env, check=True,
                       cwd=ROOT)
        started = time.perf_counter()
        context = multiprocessing.get_context("spawn")
        process = context.Process(target=draft, args=(env, args.notices))
        process.start()
        process.join()
        if process.exitcode:
            sys.exit("Drafting the notices failed.")
        print(f"drafted {args.notices} notices in {time.perf_counter() - started:.1f} s", flush=True)
        env = _env(url, data_dir, smtp.port)
        counts = [int(x) for x in args.workers.split(",")]
        table = {}
        for workers in counts:
            table[workers] = result = measure(url, f"{name}_template", env, smtp, workers, args.notices)
            print(f"workers={workers} notices={args.notices} p50_ms={result['p50_ms']:.0f} "
                  f"p95_ms={result['p95_ms']:.0f} first_ms={result['first_ms']:.0f} last_ms={result['last_ms']:.0f} "
                  f"notices_s={result['notices_s']:.1f} (queuing: one transaction {result['transaction_s']:.1f} s, "
                  f"then tasks enqueued in {result['enqueue_s']:.1f} s)", flush=True)
        smtp.ask("take")
        base = _in_process(smtplib_baseline, env, smtp.port)
        received = smtp.ask("take")
        if base["count"] != args.notices or len(received) != 2 * args.notices:
            sys.exit(f"ERROR: the baseline sent {base['count']} messages, the server took {len(received)}")
    finally:
        smtp.stop()
    smtplib_s = base["count"] / base["one_connection_s"]
    per_message_s = base["count"] / base["per_message_s"]
    print(f"smtplib loop, same {base['count']} messages: one connection {smtplib_s:.0f}/s, "
          f"a connection per message {per_message_s:.0f}/s")
    top = table[max(counts)]
    print(f"cores={os.cpu_count()} ratio notices_s/smtplib_s={top['notices_s'] / smtplib_s:.3f} "
          f"(workers={max(counts)})")
    print(f"p95_ms={top['p95_ms']:.0f} notices_s={top['notices_s']:.1f} smtplib_s={smtplib_s:.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--workers", default="1,2", help="task worker processes to measure, e.g. 1,2")
    args = parser.parse_args()
    with_postgres(lambda url: run(args, url), database="vangnet_bench_notices")


if __name__ == "__main__":
    main()
