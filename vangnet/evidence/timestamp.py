"""RFC 3161 timestamps for evidence bundles: a third party confirms the manifest existed at that moment.

Optional: only where ``VANGNET_TIMESTAMP_URL`` names a timestamp authority the organisation
trusts (and ``VANGNET_TIMESTAMP_CERTIFICATE`` its certificate, to check every answer). The
token is stored as ``manifest.tst`` in the bundle; anyone checks it with
``openssl ts -verify -data manifest.json -in manifest.tst -token_in -CAfile <TSA CA>``.
The request and its checks are ``rfc3161ng``'s, not ours.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from pathlib import Path

import rfc3161ng
from cryptography.exceptions import InvalidSignature
from django.conf import settings
from pyasn1.codec.der import decoder
from pyasn1.error import PyAsn1Error

logger = logging.getLogger(__name__)
HASH = "sha256"


class TimestampUnavailable(Exception):
    """The timestamp authority did not answer, or its answer did not check out."""


def is_configured() -> bool:
    return bool(settings.VANGNET_TIMESTAMP_URL)


def _certificate() -> bytes | None:
    path = settings.VANGNET_TIMESTAMP_CERTIFICATE
    return Path(path).read_bytes() if path else None


def timestamp(data: bytes) -> bytes:
    """A DER TimeStampToken over SHA-256 of ``data``, with a fresh nonce, checked against the TSA's certificate."""
    stamper = rfc3161ng.RemoteTimestamper(settings.VANGNET_TIMESTAMP_URL, certificate=_certificate(), hashname=HASH,
                                          include_tsa_certificate=True, timeout=15)
    try:
        token = stamper(data=data, nonce=secrets.randbits(62))
    except (rfc3161ng.TimestampingError, ValueError, PyAsn1Error, OSError, InvalidSignature) as exc:
        logger.warning("The timestamp authority gave no usable timestamp: %s", exc.__class__.__name__)
        raise TimestampUnavailable(str(exc)) from exc
    if not isinstance(token, bytes) or not stamps(token, data):
        raise TimestampUnavailable("the token is not for this data")
    return token


def stamps(token: bytes, data: bytes) -> bool:
    """Whether ``token`` is a timestamp over exactly ``data`` (its message imprint; the signature is openssl's job)."""
    try:
        tst, rest = decoder.decode(token, asn1Spec=rfc3161ng.TimeStampToken())
        if rest:
            return False
        imprint = tst.tst_info.message_imprint
        return bool(imprint.hash_algorithm[0] == rfc3161ng.get_hash_oid(HASH)
                    and bytes(imprint.hashed_message) == hashlib.sha256(data).digest())
    except (PyAsn1Error, ValueError, KeyError, AttributeError, TypeError):
        return False


def stamped_at(token: bytes) -> str:
    """The time the authority put in the token, in ISO 8601 (UTC)."""
    return rfc3161ng.get_timestamp(token, naive=False).isoformat()
