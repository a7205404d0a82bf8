"""Benchmark: how many events a second the event log takes, one chain locked by every writer
versus events inserted at once and chained afterwards by one chainer.

Starts a throw-away PostgreSQL on loopback (or uses ``VANGNET_DATABASE_URL``, dropping and
re-creating that database), then for 1, 2 and 4 writer processes, each writing one event
per transaction as a moderation check would, measures:

- ``one_chain``: the design before: every writer locks the chain head, appends, updates it
  (a faithful copy of the old ``audit.services._append``);
- ``chain_after``: vangnet's design: writers only insert (``record_event``); one chainer
  process (``chain_pending_events``, as the scheduler runs it) links them meanwhile.

For ``chain_after`` it also reports how far the chainer lagged at the end and checks the
whole chain with ``verify_chain``. The last line reads
``one_chain_events_s=<n> chain_after_events_s=<n> ratio=<n>`` for the largest writer count.

    python bench/audit_chain.py [--seconds 5] [--writers 1,2,4]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report_submission import ROOT, recreate_database, with_postgres  # noqa: E402


def _django(url: str) -> None:
    os.environ.update(VANGNET_DATABASE_URL=url, DJANGO_SETTINGS_MODULE="vangnet.config.dev",
                      VANGNET_LOG_LEVEL="WARNING")
    os.environ.setdefault("VANGNET_DATA_DIR", tempfile.mkdtemp(prefix="vangnet-bench-audit-"))
    import django

    django.setup()


def _append_one_chain(n: int) -> None:
    """The old writer: lock the head, append, move the head, all in the writer's transaction."""
    from django.db import transaction
    from django.utils import timezone

    from vangnet.audit.models import ChainHead, Event
    from vangnet.audit.services import CURRENT_VERSION, digest_of

    with transaction.atomic():
        head, _ = ChainHead.objects.select_for_update().get_or_create(id=1)
        event = Event(version=CURRENT_VERSION, occurred_at=timezone.now(), actor_type="platform",
                      actor_label="bench", event_type="case.note_added", subject_type="bench.item",
                      subject_id=str(n), organisation_id=1, data={"n": n})
        event.seq, event.prev_hash = head.seq + 1, head.hash
        event.hash = digest_of(event, prev_hash=head.hash, seq=event.seq)
        event.save()
        head.seq, head.hash = event.seq, event.hash
        head.save(update_fields=["seq", "hash"])


def _append_chain_after(n: int) -> None:
    from django.db import transaction

    from vangnet.audit.services import Actor, record_event

    with transaction.atomic():
        record_event(actor=Actor.platform("bench"), event_type="case.note_added", subject_type="bench.item",
                     subject_id=n, organisation_id=1, data={"n": n})


def writer(url: str, mode: str, seconds: float, start_at: float, results: Any) -> None:
    _django(url)
    append = _append_one_chain if mode == "one_chain" else _append_chain_after
    append(-1)  # connect before the clock starts
    while time.time() < start_at:
        time.sleep(0.001)
    count, deadline = 0, start_at + seconds
    while time.time() < deadline:
        append(count)
        count += 1
    results.put(count)


def chainer(url: str, stop_at: float, results: Any) -> None:
    _django(url)
    from vangnet.audit.services import chain_pending_events

    chained = 0
    while time.time() < stop_at:
        done = chain_pending_events()
        chained += done
        if not done:
            time.sleep(0.05)
    results.put(chained)


def measure(url: str, mode: str, writers: int, seconds: float) -> dict[str, float]:
    recreate_database(url)
    env = {**os.environ, "VANGNET_DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "vangnet.config.dev",
           "VANGNET_DATA_DIR": tempfile.mkdtemp(prefix="vangnet-bench-audit-")}
    subprocess.run([sys.executable, "-m", "vangnet.cli", "migrate", "--noinput", "-v", "0"], env=env, check=True,
                   cwd=ROOT)
    context = multiprocessing.get_context("spawn")
    results, chained = context.Queue(), context.Queue()
    start_at = time.time() + 3
    procs = [context.Process(target=writer, args=(url, mode, seconds, start_at, results)) for _ in range(writers)]
    if mode == "chain_after":
        procs.append(context.Process(target=chainer, args=(url, start_at + seconds, chained)))
    for proc in procs:
        proc.start()
    written = sum(results.get(timeout=seconds + 120) for _ in range(writers))
    for proc in procs:
        proc.join(timeout=60)
    outcome = {"events_s": written / seconds, "written": written}
    if mode == "chain_after":
        _django(url)
        from django.db import connection

        from vangnet.audit.models import Event
        from vangnet.audit.selectors import verify_chain
        from vangnet.audit.services import chain_all_pending

        connection.close()
        outcome["lag_events"] = Event.objects.filter(seq__isnull=True).count()
        outcome["chainer_events_s"] = chained.get(timeout=10) / seconds
        started = time.perf_counter()
        chain_all_pending()
        outcome["catch_up_s"] = time.perf_counter() - started
        problems = list(verify_chain())
        if problems:
            sys.exit(f"ERROR: the chain does not verify: {problems[:3]}")
        connection.close()
    return outcome


def run(args: argparse.Namespace, url: str) -> None:
    counts = [int(x) for x in args.writers.split(",")]
    table: dict[tuple[str, int], dict[str, float]] = {}
    for writers in counts:
        for mode in ("one_chain", "chain_after"):
            table[(mode, writers)] = result = measure(url, mode, writers, args.seconds)
            extra = (f" chainer={result['chainer_events_s']:.0f}/s waiting_at_end={result['lag_events']:.0f}"
                     f" caught_up_in={result['catch_up_s']:.2f}s" if mode == "chain_after" else "")
            print(f"writers={writers} mode={mode:<11} events_s={result['events_s']:.0f}{extra}", flush=True)
    top = max(counts)
    one, after = table[("one_chain", top)]["events_s"], table[("chain_after", top)]["events_s"]
    print(f"cores={os.cpu_count()} seconds_per_run={args.seconds:g} (each writer: one event per transaction)")
    print(f"one_chain_events_s={one:.0f} chain_after_events_s={after:.0f} ratio={after / one:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--writers", default="1,2,4")
    args = parser.parse_args()
    with_postgres(lambda url: run(args, url), database="vangnet_bench_audit")


if __name__ == "__main__":
    main()
