"""Staff log-in throttling: django-axes with a second, higher limit per client address.

Axes counts failures for each list in ``AXES_LOCKOUT_PARAMETERS`` but compares them all
with one ``AXES_FAILURE_LIMIT``, and a successful log-in wipes every list's failures. That
leaves password spraying (one address, a few guesses at many usernames) unlimited. This
handler expects ``AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], ["ip_address"]]``
and keeps two limits:

- a username from one address is locked after ``AXES_FAILURE_LIMIT`` failures;
- an address is locked for every username after ``VANGNET_LOGIN_ADDRESS_FAILURE_LIMIT``
  failures across all usernames;

and a successful log-in clears only that username's failures from that address, so one
known account cannot be used to reset the per-address count.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet, Sum
from django.http import HttpRequest

LOCKOUT_PARAMETERS = [["username", "ip_address"], ["ip_address"]]


class LoginThrottleHandler(AxesDatabaseHandler):
    """Axes' database handler with a per-account and a per-address failure limit."""

    def _per_account_and_address(self, attempts: list[QuerySet[Any]]) -> tuple[QuerySet[Any], QuerySet[Any]]:
        if settings.AXES_LOCKOUT_PARAMETERS != LOCKOUT_PARAMETERS or len(attempts) != 2:
            raise ImproperlyConfigured(f"LoginThrottleHandler needs AXES_LOCKOUT_PARAMETERS = {LOCKOUT_PARAMETERS}.")
        return attempts[0], attempts[1]

    def get_failures(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        per_account, per_address = (
            attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
            for attempts in self._per_account_and_address(self.get_user_attempts(request, credentials)))
        if per_address >= settings.VANGNET_LOGIN_ADDRESS_FAILURE_LIMIT:
            # Reported as reaching the one limit axes compares with, so axes locks.
            return max(per_account, get_failure_limit(request, credentials))
        return int(per_account)

    def reset_user_attempts(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> int:
        per_account, _ = self._per_account_and_address(self.filter_user_attempts(request, credentials))
        count, _ = per_account.delete()
        return int(count)
