"""Database sessions whose contents are encrypted at rest.

A half-finished report lives in the session until it is sent (at most four hours), so the
session table holds a reporter's story: it is kept encrypted like the report itself.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

from .crypto import decrypt, encrypt


class SessionStore(DatabaseSessionStore):
    def encode(self, session_dict: dict[str, Any]) -> str:
        return encrypt(super().encode(session_dict))

    def decode(self, session_data: bytes | str) -> dict[str, Any]:
        text = session_data.decode() if isinstance(session_data, bytes) else session_data
        try:
            return super().decode(decrypt(text))
        except ValueError:  # a key that is gone: start an empty session rather than fail
            return {}
