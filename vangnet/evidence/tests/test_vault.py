"""Envelope encryption of evidence: round trip, tamper evidence, rotation without re-encryption, a pinned format."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given, settings
from hypothesis import strategies as st

from vangnet.evidence.vault import MAGIC, MasterKey, VaultError, open_sealed, parse_master_keys, rewrap, seal

OLD, NEW = MasterKey(bytes(range(32))), MasterKey(bytes(range(32, 64)))


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=4096))
def test_any_bytes_come_back_exactly_and_never_appear_in_the_blob(data: bytes) -> None:
    blob = seal(data, keys=(OLD,))
    assert open_sealed(blob, keys=(OLD,)) == data
    if len(data) >= 16:
        assert data not in blob


def test_every_file_gets_its_own_key_and_nonce() -> None:
    photo = os.urandom(1000)
    first, second = seal(photo, keys=(OLD,)), seal(photo, keys=(OLD,))
    assert first != second and first[:5] == MAGIC


@pytest.mark.parametrize("position", [5, 15, 15 + 40, -1, -20])
def test_a_flipped_byte_anywhere_is_refused(position: int) -> None:
    blob = bytearray(seal(b"screenshot of the threat", keys=(OLD,)))
    blob[position] ^= 0x01
    with pytest.raises(VaultError):
        open_sealed(bytes(blob), keys=(OLD,))


@pytest.mark.parametrize("blob", [b"", b"VNEV1", b"not sealed at all", MAGIC + b"\x00" * 8 + b"\xff\xff"])
def test_what_is_not_a_sealed_file_is_refused_clearly(blob: bytes) -> None:
    with pytest.raises(VaultError):
        open_sealed(blob, keys=(OLD,))


def test_rotation_rewraps_the_key_without_touching_the_ciphertext() -> None:
    blob = seal(b"chat export", keys=(OLD,))
    assert rewrap(blob, keys=(OLD,)) is None, "already under the current key"
    rotated = rewrap(blob, keys=(NEW, OLD))
    assert rotated is not None and rotated[5:13] == NEW.key_id
    assert rotated[-(len(b"chat export") + 16):] == blob[-(len(b"chat export") + 16):], "ciphertext unchanged"
    assert open_sealed(rotated, keys=(NEW,)) == b"chat export", "the old key can go"
    with pytest.raises(VaultError, match="not configured"):
        open_sealed(blob, keys=(NEW,))


def test_the_stored_format_is_a_known_answer() -> None:
    """Files written today must open in every later version: the layout is pinned byte for byte."""
    blob = seal(b"evidence", keys=(OLD,), data_key=bytes(32), nonce=bytes(12))
    assert blob[:5] == b"VNEV1" and blob[5:13] == OLD.key_id and blob[13:15] == b"\x00\x28"
    assert len(blob) == 5 + 8 + 2 + 40 + 12 + len(b"evidence") + 16
    assert hashlib.sha256(blob).hexdigest() == KAT_BLOB_SHA256
    # The documented layout, composed from the library's primitives without vangnet's code:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.keywrap import aes_key_wrap

    documented = (b"VNEV1" + OLD.key_id + b"\x00\x28" + aes_key_wrap(OLD.key, bytes(32)) + bytes(12)
                  + AESGCM(bytes(32)).encrypt(bytes(12), b"evidence", b"VNEV1"))
    assert blob == documented
    assert OLD.key_id.hex() == KAT_KEY_ID


KAT_KEY_ID = "df5a5e2ae7d8689a"
KAT_BLOB_SHA256 = "0dd9bc89bf7a8ad517f6a9dd444b35ee271581e1c0d732d8dcc0522895a7f2db"


def test_master_keys_come_from_the_environment_and_are_checked() -> None:
    key = base64.urlsafe_b64encode(bytes(range(32))).decode()
    assert parse_master_keys(f"{key}, ") == (OLD,)
    with pytest.raises(ImproperlyConfigured, match="32 bytes"):
        parse_master_keys(base64.urlsafe_b64encode(b"short").decode())
    with pytest.raises(ImproperlyConfigured, match="base64"):
        parse_master_keys("not*base64*at*all!")
