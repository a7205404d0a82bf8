"""``vangnet serve``: the web server (gunicorn) and the task worker, together, until Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve vangnet on 127.0.0.1:$PORT with gunicorn and run the django.tasks database worker beside it."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--workers", type=int,
                            default=int(os.environ.get("VANGNET_WEB_WORKERS", str(2 * (os.cpu_count() or 1)))))
        parser.add_argument("--no-worker", action="store_true", help="do not start the task worker")

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
        web = subprocess.Popen(command, env=env)  # noqa: S603 - fixed argument list
        children = [web]
        if not options["no_worker"]:
            children.append(subprocess.Popen([sys.executable, "-m", "vangnet.cli", "worker"], env=env))  # noqa: S603
        self.stdout.write(f"vangnet is running at http://{options['host']}:{options['port']}/ (Ctrl-C stops it)")

        def stop(*_args: object) -> None:
            for child in children:
                if child.poll() is None:
                    child.terminate()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            stop()
            for child in children:
                child.wait(timeout=15)
