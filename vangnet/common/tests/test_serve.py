"""``vangnet serve`` survives its database going away: a real PostgreSQL restart under it.

Starts a throw-away PostgreSQL cluster on a free loopback port, migrates it, runs
``vangnet serve`` as a subprocess and then kills things under it: the task worker with
SIGKILL, PostgreSQL with an immediate stop. The site must keep its web server, answer
again once the database is back, and have a working task worker again.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from vangnet.common.testing import PostgresCluster, free_port, needs_postgres_binaries, throwaway_postgres

pytestmark = [pytest.mark.slow, needs_postgres_binaries]


@pytest.fixture
def cluster() -> Iterator[PostgresCluster]:
    with throwaway_postgres("vangnet_serve") as pg:
        yield pg


def _get(port: int, path: str = "/en/") -> int | None:
    """The HTTP status of one request, or None when nothing answers."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", path)
        status = conn.getresponse().status
        conn.close()
        return status
    except (OSError, http.client.HTTPException):
        return None


def _wait(condition: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _worker_pids(log: Path) -> list[int]:
    return [int(pid) for pid in re.findall(r"Started task worker \(pid (\d+)\)", log.read_text())]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serve_keeps_the_site_up_through_a_postgres_restart_and_a_killed_worker(cluster: PostgresCluster,
                                                                               tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VANGNET_", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="vangnet.config.test", VANGNET_DATABASE_URL=cluster.url,
               VANGNET_DATA_DIR=str(tmp_path), PYTHONUNBUFFERED="1")
    vangnet = [sys.executable, "-m", "vangnet.cli"]
    migrate = subprocess.run([*vangnet, "migrate", "-v", "0"], env=env, capture_output=True, text=True, timeout=180)
    assert migrate.returncode == 0, migrate.stderr

    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        serve = subprocess.Popen([*vangnet, "serve", "--port", str(port), "--workers", "1", "--max-restart-delay", "2"],
                                 env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait(lambda: _get(port) == 200, 60, "the site to answer")
        _wait(lambda: _worker_pids(log), 10, "the task worker to start")

        # A worker killed outright is started again; the web server never notices.
        first = _worker_pids(log)[-1]
        os.kill(first, signal.SIGKILL)
        _wait(lambda: _worker_pids(log)[-1] != first, 15, "a new task worker after SIGKILL")
        assert "task worker (pid %d) stopped" % first in log.read_text()
        assert "signal SIGKILL" in log.read_text()

        # PostgreSQL goes away: the worker dies of it, the web server stays.
        second = _worker_pids(log)[-1]
        cluster.stop("immediate")
        _wait(lambda: not _alive(second) or "task worker (pid %d) stopped" % second in log.read_text(), 20,
              "the task worker to notice the database is gone")
        time.sleep(1)
        assert serve.poll() is None, "vangnet serve is still running"
        assert _get(port) is not None, "the web server still answers (with an error page) while the database is down"

        # PostgreSQL comes back: the site answers again and a restarted worker runs new tasks.
        cluster.start()
        _wait(lambda: _get(port) == 200, 30, "the site to answer again")
        enqueue = subprocess.run(
            [*vangnet, "shell", "-c",
             "from vangnet.cases.tasks import notify_reporter_of_message as t; print(t.enqueue(report_id=0).id)"],
            env=env, capture_output=True, text=True, timeout=60)
        assert enqueue.returncode == 0, enqueue.stderr
        task_id = enqueue.stdout.strip().splitlines()[-1]

        import psycopg

        def task_status() -> str:
            with psycopg.connect(cluster.url) as conn:
                row = conn.execute("SELECT status FROM django_tasks_database_dbtaskresult WHERE id = %s",
                                   [task_id]).fetchone()
            return str(row[0]) if row else ""

        _wait(lambda: task_status() == "SUCCESSFUL", 30, "the restarted worker to run a new task")
        assert _worker_pids(log)[-1] != second and _alive(_worker_pids(log)[-1])
        assert "Restarting task worker" in log.read_text()
    finally:
        if serve.poll() is None:
            serve.send_signal(signal.SIGTERM)
        try:
            returncode = serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            serve.kill()
            raise
    assert returncode == 0, log.read_text()
    assert _get(port) is None, "SIGTERM stopped the web server too"
    assert not any(_alive(pid) for pid in _worker_pids(log)), "and every task worker"
