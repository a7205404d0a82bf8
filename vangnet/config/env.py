"""Reading configuration from the environment (12-factor).

Every setting comes from a ``VANGNET_*`` (or well-known) environment variable so that
development, CI and production run the same code; a missing required value fails at
start with ``ImproperlyConfigured`` rather than at the first request.
"""

from __future__ import annotations

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    """Return a string setting; without a default the variable is required."""
    value = os.environ.get(name)
    if value is None:
        if default is None:
            raise ImproperlyConfigured(f"Set the environment variable {name}.")
        return default
    return value


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (true/false), not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {value!r}.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_days_by_name(name: str, default: dict[str, int]) -> dict[str, int]:
    """A number of days per name, e.g. ``image=90,capture=730``; names left out keep their default.

    Only the names in ``default`` may be given, each a whole number of days of at least 1, so a
    typing error fails at start instead of keeping something for a period nobody chose.
    """
    result = dict(default)
    for item in env_list(name, []):
        key, sep, days = (part.strip() for part in item.partition("="))
        if not sep or key not in default:
            raise ImproperlyConfigured(
                f"{name} takes name=days pairs with names from {', '.join(sorted(default))}, not {item!r}.")
        try:
            result[key] = int(days)
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}: {key} must be a whole number of days, not {days!r}.") from exc
        if result[key] < 1:
            raise ImproperlyConfigured(f"{name}: {key} must be at least 1 day, not {days!r}.")
    return result


def database_from_url(url: str) -> dict[str, object]:
    """Turn ``sqlite:///path`` or ``postgres://user:pw@host:port/name`` into DATABASES['default']."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        # sqlite:///relative.db and sqlite:////absolute/path.db, as in SQLAlchemy.
        path = unquote(parts.path[1:])
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path or ":memory:",
            # IMMEDIATE transactions make concurrent writers wait instead of failing.
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20,
                        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
        }
    if parts.scheme in {"postgres", "postgresql"}:
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": unquote(parts.path.lstrip("/")),
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
        }
    raise ImproperlyConfigured(f"VANGNET_DATABASE_URL has an unsupported scheme: {parts.scheme!r}.")


def env_trusted_proxies(name: str) -> int | list[str]:
    """How the client address is found behind reverse proxies (see ``vangnet.common.clientip``).

    Empty or ``0``: no proxy, only the connection's address counts. A number N: that many
    proxies stand in front and each appends to ``X-Forwarded-For``. Otherwise a
    comma-separated list of the proxies' addresses or networks (``10.0.0.0/8,192.0.2.1``).
    """
    import ipaddress

    value = os.environ.get(name, "").strip()
    if not value:
        return 0
    if value.isdigit():
        return int(value)
    networks = [item.strip() for item in value.split(",") if item.strip()]
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{name} must be a number of proxies or a list of proxy networks, not {value!r}.") from exc
    return networks
