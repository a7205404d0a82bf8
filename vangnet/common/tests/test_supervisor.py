"""The supervisor behind ``vangnet serve``: restarts with capped back-off, logs why, stops cleanly."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Sequence

from vangnet.common.supervisor import Supervisor, describe_exit


class FakeProcess:
    """A child whose exit the test decides."""

    next_pid = 100

    def __init__(self, command: Sequence[str]) -> None:
        FakeProcess.next_pid += 1
        self.pid = FakeProcess.next_pid
        self.command = list(command)
        self.returncode: int | None = None
        self.terminated = False

    def poll(self) -> int | None:
        return self.returncode

    def terminate(self) -> None:
        self.terminated = True
        self.returncode = -15

    def wait(self, timeout: float | None = None) -> int:
        assert self.returncode is not None
        return self.returncode


class Harness:
    def __init__(self) -> None:
        self.now = 0.0
        self.started: list[FakeProcess] = []
        self.supervisor = Supervisor(initial_delay=1, max_delay=30, reset_after=60,
                                     popen=self.popen, clock=lambda: self.now)

    def popen(self, command: Sequence[str], env: object = None) -> FakeProcess:
        process = FakeProcess(command)
        self.started.append(process)
        return process

    def advance(self, seconds: float) -> None:
        """Let time pass in small steps, as the supervisor's loop would."""
        end = self.now + seconds
        while self.now < end - 1e-9:
            self.now = min(end, self.now + 0.25)
            self.supervisor.check()


def test_describe_exit() -> None:
    assert describe_exit(3) == "exit code 3"
    assert describe_exit(-9) == "signal SIGKILL"


def test_a_crashed_child_is_restarted_with_doubling_capped_back_off_and_the_other_keeps_running(caplog) -> None:
    h = Harness()
    web = h.supervisor.add("web server", ["web"])
    worker = h.supervisor.add("task worker", ["worker"])
    h.supervisor.start()
    web_process = web.process
    assert web_process is not None
    caplog.set_level(logging.INFO, logger="vangnet.serve")

    restart_gaps = []
    for _ in range(7):  # the worker keeps crashing at once (database down)
        assert worker.process is not None
        worker.process.returncode = 1
        crashed_at = h.now
        h.supervisor.check()
        while worker.process is None:
            h.advance(0.25)
        restart_gaps.append(h.now - crashed_at)
    assert restart_gaps == [1, 2, 4, 8, 16, 30, 30]
    assert worker.restarts == 7
    assert web.process is web_process and not web_process.terminated, "the web server is left alone"
    assert "task worker (pid" in caplog.text and "exit code 1" in caplog.text
    assert "Restarting task worker" in caplog.text


def test_back_off_resets_after_a_healthy_run() -> None:
    h = Harness()
    worker = h.supervisor.add("task worker", ["worker"])
    h.supervisor.start()
    for _ in range(3):
        assert worker.process is not None
        worker.process.returncode = 1
        h.supervisor.check()
        while worker.process is None:
            h.advance(0.25)
    assert worker.delay == 8
    h.advance(61)  # runs healthily for longer than reset_after
    assert worker.process is not None
    worker.process.returncode = -9
    crashed_at = h.now
    h.supervisor.check()
    while worker.process is None:
        h.advance(0.25)
    assert h.now - crashed_at == 1


def test_a_crashed_web_server_is_restarted_too() -> None:
    h = Harness()
    web = h.supervisor.add("web server", ["web"])
    h.supervisor.start()
    first = web.process
    assert first is not None
    first.returncode = 1
    h.advance(1.5)
    assert web.process is not None and web.process is not first
    assert web.process.command == ["web"]


def test_nothing_is_restarted_after_stop() -> None:
    h = Harness()
    worker = h.supervisor.add("task worker", ["worker"])
    h.supervisor.start()
    process = worker.process
    assert process is not None
    h.supervisor.stop()
    process.returncode = 1
    h.advance(5)
    assert len(h.started) == 1
    h.supervisor.terminate_children()
    assert worker.process is None


def test_run_stops_real_children_on_stop(tmp_path) -> None:
    """With real processes: a crashing child is restarted, and stop() ends every child and run()."""
    import threading

    marker = tmp_path / "starts"
    crash = f"open({str(marker)!r}, 'a').write('x'); raise SystemExit(2)"
    supervisor = Supervisor(initial_delay=0.05, max_delay=0.1, poll_interval=0.02)
    sleeper = supervisor.add("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"])
    supervisor.add("crasher", [sys.executable, "-c", crash])
    thread = threading.Thread(target=supervisor.run)
    thread.start()
    deadline = time.monotonic() + 20
    while (not marker.exists() or len(marker.read_text()) < 3) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert marker.exists() and len(marker.read_text()) >= 3, "the crashing child was started again and again"
    process = sleeper.process
    assert process is not None and process.poll() is None
    supervisor.stop()
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert process.returncode == -15, "the sleeper was terminated"
    assert all(child.process is None for child in supervisor.children)
