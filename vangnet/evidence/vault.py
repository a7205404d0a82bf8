"""Envelope encryption of evidence files, and their durable storage.

Every file gets a fresh 256-bit data key and is encrypted with AES-256-GCM; the data key is
wrapped (AES key wrap, RFC 3394) by a master key from the environment. Rotating the master
key rewraps the small wrapped keys only, never the files. The stored blob is
self-describing, so a file can be opened with nothing but the master key:

    b"VNEV1" | master key id (8 bytes) | wrapped key length (2 bytes, big-endian) | wrapped key
           | nonce (12 bytes) | AES-256-GCM ciphertext with its 16-byte tag

The format name is authenticated as associated data; a swapped key id or wrapped key fails
to unwrap (AES key wrap checks its integrity) or opens the wrong key, whose tag then fails.
Keeping the rest of the header outside the tag is what lets a rotation replace it without
decrypting or re-encrypting the file. ``tests/test_vault.py`` pins the format with a known
answer.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MAGIC = b"VNEV1"
NONCE_BYTES = 12


class VaultError(ValueError):
    """A blob that cannot be opened: altered, truncated, or sealed with a key that is gone."""


@dataclass(frozen=True)
class MasterKey:
    key: bytes

    @property
    def key_id(self) -> bytes:
        """Eight bytes that name the key without revealing it."""
        return hashlib.sha256(b"vangnet evidence key id" + self.key).digest()[:8]


def parse_master_keys(text: str) -> tuple[MasterKey, ...]:
    """Comma-separated base64 (url-safe) 32-byte keys; the first wraps new files."""
    keys = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            raw = base64.urlsafe_b64decode(item + "=" * (-len(item) % 4))
        except ValueError as exc:
            raise ImproperlyConfigured("VANGNET_EVIDENCE_KEYS holds a key that is not base64.") from exc
        if len(raw) != 32:
            raise ImproperlyConfigured("Each VANGNET_EVIDENCE_KEYS key must be 32 bytes (base64 of 32 random bytes).")
        keys.append(MasterKey(raw))
    return tuple(keys)


@lru_cache(maxsize=4)
def _keys(configured: str, secret_key: str) -> tuple[MasterKey, ...]:
    if configured.strip():
        return parse_master_keys(configured)
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"vangnet evidence master key").derive(
        secret_key.encode())
    return (MasterKey(derived),)


def master_keys() -> tuple[MasterKey, ...]:
    """From ``VANGNET_EVIDENCE_KEYS`` (production requires it); derived from the secret key in development."""
    return _keys(getattr(settings, "VANGNET_EVIDENCE_KEYS", ""), settings.SECRET_KEY)


def seal(data: bytes, *, keys: tuple[MasterKey, ...] | None = None, data_key: bytes | None = None,
         nonce: bytes | None = None) -> bytes:
    """Encrypt ``data`` under a fresh data key wrapped by the current master key.

    ``data_key`` and ``nonce`` are for known-answer tests only; never pass them otherwise.
    """
    current = (keys or master_keys())[0]
    data_key = data_key or AESGCM.generate_key(bit_length=256)
    nonce = nonce or os.urandom(NONCE_BYTES)
    wrapped = aes_key_wrap(current.key, data_key)
    header = MAGIC + current.key_id + struct.pack(">H", len(wrapped)) + wrapped + nonce
    return header + AESGCM(data_key).encrypt(nonce, data, MAGIC)


def _parse(blob: bytes) -> tuple[bytes, bytes, bytes, bytes]:
    """(key id, wrapped key, nonce, header) of a blob; raises VaultError when it is not one."""
    if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + 10:
        raise VaultError("This is not a sealed evidence file.")
    key_id = blob[5:13]
    (length,) = struct.unpack(">H", blob[13:15])
    wrapped = blob[15:15 + length]
    nonce = blob[15 + length:15 + length + NONCE_BYTES]
    if len(wrapped) != length or len(nonce) != NONCE_BYTES:
        raise VaultError("The sealed evidence file is truncated.")
    return key_id, wrapped, nonce, blob[:15 + length + NONCE_BYTES]


def _data_key(key_id: bytes, wrapped: bytes, keys: tuple[MasterKey, ...]) -> bytes:
    for key in keys:
        if key.key_id == key_id:
            try:
                return aes_key_unwrap(key.key, wrapped)
            except InvalidUnwrap as exc:
                raise VaultError("The file's key does not unwrap: the file was altered.") from exc
    raise VaultError("The master key this file was sealed with is not configured (VANGNET_EVIDENCE_KEYS).")


def open_sealed(blob: bytes, *, keys: tuple[MasterKey, ...] | None = None) -> bytes:
    """The original bytes, exactly; raises VaultError for anything altered."""
    from cryptography.exceptions import InvalidTag

    key_id, wrapped, nonce, header = _parse(blob)
    data_key = _data_key(key_id, wrapped, keys or master_keys())
    try:
        return AESGCM(data_key).decrypt(nonce, blob[len(header):], MAGIC)
    except InvalidTag as exc:
        raise VaultError("The sealed evidence file was altered.") from exc


def rewrap(blob: bytes, *, keys: tuple[MasterKey, ...] | None = None) -> bytes | None:
    """The same blob with its data key wrapped by the current master key, or None if it already is.

    Rotation: put the new key first in ``VANGNET_EVIDENCE_KEYS``, run ``vangnet
    rotate_evidence_key``, then drop the old key. Only the header changes; the ciphertext is
    copied as it is, never decrypted.
    """
    keys = keys or master_keys()
    key_id, wrapped, nonce, header = _parse(blob)
    if key_id == keys[0].key_id:
        return None
    new_wrapped = aes_key_wrap(keys[0].key, _data_key(key_id, wrapped, keys))
    return MAGIC + keys[0].key_id + struct.pack(">H", len(new_wrapped)) + new_wrapped + nonce + blob[len(header):]
