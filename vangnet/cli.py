"""The ``vangnet`` console script: Django's management commands with vangnet's defaults.

``vangnet migrate`` also creates the cache table the rate limits use; ``vangnet worker``
runs the database-backed ``django.tasks`` worker and ``vangnet scheduler`` the schedule.
"""

from __future__ import annotations

import os
import sys

ALIASES: dict[str, list[str]] = {
    "worker": ["db_worker"],
    # The schedule (vangnet.common.scheduling); no heartbeat task filling the queue every minute.
    "scheduler": ["crontask", "--no-heartbeat"],
}


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vangnet.config.dev")
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1:
        args[1:2] = ALIASES.get(args[1], [args[1]])
    from django.core.management import execute_from_command_line

    execute_from_command_line(args)
    if len(args) > 1 and args[1] == "migrate" and "--help" not in args:
        execute_from_command_line([args[0], "createcachetable"])


if __name__ == "__main__":
    main()
