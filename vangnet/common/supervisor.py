"""A small process supervisor for ``vangnet serve``: keep every child running.

The web server (a gunicorn master) and the task worker run as child processes. When one
exits on its own, for instance the worker after losing its database connection, it is
started again after a back-off that doubles from ``initial_delay`` up to ``max_delay``
and falls back to ``initial_delay`` once the child has run healthily for ``reset_after``
seconds. The other children keep running: a PostgreSQL restart must never take the site
down for good. Every exit is logged with its exit code or signal. ``stop()`` (wired to
SIGTERM and SIGINT by the command) terminates every child and waits for it.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

logger = logging.getLogger("vangnet.serve")


def describe_exit(returncode: int) -> str:
    """``exit code 3`` or ``signal SIGKILL``: why a child stopped, for the log."""
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit code {returncode}"


@dataclass
class Child:
    """One supervised command and what the supervisor knows about it."""

    name: str
    command: Sequence[str]
    env: dict[str, str] | None = None
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    delay: float = 0.0  # the back-off before the next restart
    restart_at: float | None = None
    restarts: int = 0
    exits: list[int] = field(default_factory=list)


class Supervisor:
    """Start children, restart those that exit (with capped exponential back-off), stop them all on request."""

    def __init__(self, *, initial_delay: float = 1.0, max_delay: float = 30.0, reset_after: float = 60.0,
                 poll_interval: float = 0.2, stop_timeout: float = 15.0,
                 popen: Callable[..., subprocess.Popen[bytes]] = subprocess.Popen,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.initial_delay = initial_delay
        self.max_delay = max_delay
        self.reset_after = reset_after
        self.poll_interval = poll_interval
        self.stop_timeout = stop_timeout
        self.children: list[Child] = []
        self._popen = popen
        self._clock = clock
        self._stopping = threading.Event()

    def add(self, name: str, command: Sequence[str], env: dict[str, str] | None = None) -> Child:
        child = Child(name=name, command=list(command), env=env, delay=self.initial_delay)
        self.children.append(child)
        return child

    def _start(self, child: Child) -> None:
        child.restart_at = None
        try:
            child.process = self._popen(list(child.command), env=child.env)
        except OSError:
            logger.exception("Could not start %s; trying again in %.0f s", child.name, child.delay)
            child.process = None
            self._schedule_restart(child, ran_for=0.0)
            return
        child.started_at = self._clock()
        logger.info("Started %s (pid %d)", child.name, child.process.pid)

    def _schedule_restart(self, child: Child, *, ran_for: float) -> None:
        if ran_for >= self.reset_after:
            child.delay = self.initial_delay  # it was healthy: a new crash starts the back-off afresh
        child.restart_at = self._clock() + child.delay
        child.delay = min(child.delay * 2, self.max_delay)

    def check(self) -> None:
        """One round: notice children that exited, restart those whose back-off has passed."""
        if self._stopping.is_set():
            return
        now = self._clock()
        for child in self.children:
            process = child.process
            if process is not None:
                returncode = process.poll()
                if returncode is None:
                    continue
                child.process = None
                child.exits.append(returncode)
                ran_for = now - child.started_at
                self._schedule_restart(child, ran_for=ran_for)
                logger.error("%s (pid %d) stopped after %.1f s with %s; restarting it in %.0f s",
                             child.name, process.pid, ran_for, describe_exit(returncode),
                             child.restart_at - now if child.restart_at is not None else 0)
            elif child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                logger.warning("Restarting %s (restart %d)", child.name, child.restarts)
                self._start(child)

    def start(self) -> None:
        for child in self.children:
            self._start(child)

    def run(self) -> None:
        """Start every child and supervise until ``stop()``; then stop the children."""
        self.start()
        try:
            while not self._stopping.wait(self.poll_interval):
                self.check()
        finally:
            self.stop()
            self.terminate_children()

    def stop(self, *_args: object) -> None:
        """Ask ``run`` to end (safe to call from a signal handler)."""
        self._stopping.set()

    def terminate_children(self) -> None:
        running = [c.process for c in self.children if c.process is not None and c.process.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + self.stop_timeout
        for process in running:
            try:
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.error("pid %d did not stop in %.0f s; killing it", process.pid, self.stop_timeout)
                process.kill()
                process.wait()
        for child in self.children:
            child.process = None
