"""Scheduled work of the event log: chaining what writers inserted."""

from __future__ import annotations

from vangnet.common.scheduling import every

from .services import chain_all_pending

CHAIN_EVERY_SECONDS = 2


@every(seconds=CHAIN_EVERY_SECONDS)
def chain_audit_events() -> int:
    """Give new events their place in the hash chain, a couple of seconds after they were written."""
    return chain_all_pending()
