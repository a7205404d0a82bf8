"""``vangnet serve``: the web server (gunicorn), the task worker and the scheduler, until Ctrl-C.

All run as supervised child processes (``vangnet.common.supervisor``): when one exits on
its own, say the worker after PostgreSQL restarted under it, it is started again with a
back-off and the others keep serving. SIGTERM or SIGINT stops them all.
"""

from __future__ import annotations

import os
import signal
import sys

from django.core.management.base import BaseCommand

from vangnet.common.supervisor import Supervisor


class Command(BaseCommand):
    help = "Serve vangnet on 127.0.0.1:$PORT with gunicorn and run the django.tasks database worker beside it."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--workers", type=int,
                            default=int(os.environ.get("VANGNET_WEB_WORKERS", str(2 * (os.cpu_count() or 1)))))
        parser.add_argument("--no-worker", action="store_true",
                            help="start neither the task worker nor the scheduler (another machine runs them)")
        parser.add_argument("--max-restart-delay", type=float, default=30.0,
                            help="longest wait in seconds before a crashed child is started again (default 30)")

    def handle(self, *args: object, **options: object) -> None:
        env = dict(os.environ)
        command = [
            sys.executable, "-m", "gunicorn", "vangnet.config.wsgi:application",
            "--bind", f"{options['host']}:{options['port']}", "--workers", str(options["workers"]),
            "--threads", "4", "--graceful-timeout", "10",
        ]
        # No access log by default: it would record reporters' addresses (privacy by default).
        if os.environ.get("VANGNET_ACCESS_LOG"):
            command += ["--access-logfile", os.environ["VANGNET_ACCESS_LOG"]]
        max_delay = float(options["max_restart_delay"])  # type: ignore[arg-type]
        supervisor = Supervisor(initial_delay=min(1.0, max_delay), max_delay=max_delay)
        supervisor.add("web server", command, env)
        if not options["no_worker"]:
            supervisor.add("task worker", [sys.executable, "-m", "vangnet.cli", "worker"], env)
            supervisor.add("scheduler", [sys.executable, "-m", "vangnet.cli", "scheduler"], env)
        signal.signal(signal.SIGTERM, supervisor.stop)
        signal.signal(signal.SIGINT, supervisor.stop)
        self.stdout.write(f"vangnet is running at http://{options['host']}:{options['port']}/ (Ctrl-C stops it)")
        self.stdout.flush()
        supervisor.run()
