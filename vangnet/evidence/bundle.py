"""Evidence bundles for police and prosecution, and their verification without vangnet's goodwill.

A bundle is a zip with:

- ``files/<name>``: the originals, byte for byte;
- ``manifest.json``: per file its name, size, SHA-256, PDQ, capture time and source, plus the
  custody events, and who exported it when;
- ``SHA256SUMS``: ``sha256sum -c SHA256SUMS`` checks every file (run inside the unpacked bundle);
- ``manifest.sig``: an Ed25519 signature over the exact bytes of ``manifest.json``;
- ``signing-key.pem``: the organisation's public key (compare its fingerprint with the one the
  organisation publishes);
- ``README.txt``: how to verify with standard tools (``sha256sum``, ``openssl``) or the short
  Python script in it that needs only the standard library and ``cryptography``;
- ``manifest.tst`` (only where a timestamp authority is configured): an RFC 3161 timestamp
  token over the exact bytes of ``manifest.json``.

``verify_bundle`` checks the signature, that every file in the manifest is there with its size
and hash, and that nothing else is; it names each altered, missing or extra file.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

MANIFEST, SUMS, SIGNATURE, PUBLIC_KEY, README, TIMESTAMP = (
    "manifest.json", "SHA256SUMS", "manifest.sig", "signing-key.pem", "README.txt", "manifest.tst")
FIXED = {MANIFEST, SUMS, SIGNATURE, PUBLIC_KEY, README, TIMESTAMP}
FORMAT = "vangnet-evidence-bundle/1"

README_TEXT = """vangnet evidence bundle
=======================

This bundle holds evidence files exactly as they were received, and a manifest that a
helpline signed. To check that nothing was changed:

1. Every file is intact (in the unpacked bundle):
       sha256sum -c SHA256SUMS
2. The manifest is the one the organisation signed (OpenSSL 3):
       openssl pkeyutl -verify -pubin -inkey signing-key.pem -rawin -in manifest.json -sigfile manifest.sig
   Compare the key's fingerprint with the one the organisation publishes:
       openssl pkey -pubin -in signing-key.pem -outform DER | sha256sum
3. SHA256SUMS matches the manifest: every "sha256" in manifest.json appears in SHA256SUMS
   for the same file name, and no other file is in files/.
4. Only if manifest.tst is present: an independent timestamp authority confirmed when the
   manifest existed (RFC 3161). With the authority's CA certificate:
       openssl ts -verify -data manifest.json -in manifest.tst -token_in -CAfile TSA-CA.pem
       openssl ts -reply -in manifest.tst -token_in -token_out -text    (shows the time)

The same checks in Python (standard library and the "cryptography" package only):

    import hashlib, json, pathlib, sys
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    root = pathlib.Path(sys.argv[1])
    manifest = (root / "manifest.json").read_bytes()
    load_pem_public_key((root / "signing-key.pem").read_bytes()).verify((root / "manifest.sig").read_bytes(), manifest)
    listed = {f["name"]: f for f in json.loads(manifest)["files"]}
    present = {p.relative_to(root / "files").as_posix() for p in (root / "files").rglob("*") if p.is_file()}
    assert present == set(listed), ("missing", set(listed) - present, "extra", present - set(listed))
    for name, f in listed.items():
        data = (root / "files" / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["size"], name
    print("OK")

Or, with vangnet installed: vangnet verify_bundle BUNDLE.zip
"""


@dataclass(frozen=True)
class BundleFile:
    name: str
    data: bytes
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class BundleCheck:
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _safe_name(name: str) -> str:
    parts = [p for p in name.replace("\\", "/").split("/") if p not in {"", ".", ".."}]
    if not parts:
        raise ValueError(f"Unusable file name in a bundle: {name!r}")
    return "/".join(parts)


def build_bundle(files: Iterable[BundleFile], *, signing_key: Ed25519PrivateKey,
                 about: dict[str, Any], timestamper: Callable[[bytes], bytes | None] | None = None) -> bytes:
    """The zip's bytes. ``about`` (case reference, exported by, when, custody events) goes into the manifest.

    ``timestamper`` gets the manifest's exact bytes and returns an RFC 3161 token (or None).
    """
    entries = []
    seen: set[str] = set()
    for item in files:
        name = _safe_name(item.name)
        if name in seen:
            raise ValueError(f"Two files are called {name!r} in one bundle.")
        seen.add(name)
        entries.append((name, item.data, {**item.metadata, "name": name, "size": len(item.data),
                                          "sha256": hashlib.sha256(item.data).hexdigest()}))
    manifest = json.dumps({"format": FORMAT, **about, "files": [meta for _n, _d, meta in entries]},
                          indent=2, sort_keys=True, ensure_ascii=False).encode()
    sums = "".join(f"{meta['sha256']}  files/{name}\n" for name, _data, meta in entries).encode()
    public = signing_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data, _meta in entries:
            archive.writestr(f"files/{name}", data)
        archive.writestr(MANIFEST, manifest)
        archive.writestr(SUMS, sums)
        archive.writestr(SIGNATURE, signing_key.sign(manifest))
        archive.writestr(PUBLIC_KEY, public)
        archive.writestr(README, README_TEXT)
        token = timestamper(manifest) if timestamper else None
        if token:
            archive.writestr(TIMESTAMP, token)
    return buffer.getvalue()


def verify_bundle(data: bytes, *, trusted_key: Ed25519PublicKey | None = None) -> BundleCheck:
    """Check a bundle; with ``trusted_key`` the signature must also be that key's (else the bundle's own)."""
    check = BundleCheck()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        check.problems.append("not a zip file")
        return check
    with archive:
        names = {info.filename for info in archive.infolist() if not info.is_dir()}
        for required in (MANIFEST, SIGNATURE, PUBLIC_KEY):
            if required not in names:
                check.problems.append(f"{required} is missing")
        if check.problems:
            return check
        manifest_bytes = archive.read(MANIFEST)
        try:
            key = trusted_key or serialization.load_pem_public_key(archive.read(PUBLIC_KEY))
            assert isinstance(key, Ed25519PublicKey)
            key.verify(archive.read(SIGNATURE), manifest_bytes)
        except (InvalidSignature, ValueError, AssertionError):
            check.problems.append("manifest.json: the signature does not match (the manifest was altered)")
            return check
        if TIMESTAMP in names and not _stamps(archive.read(TIMESTAMP), manifest_bytes):
            check.problems.append(f"{TIMESTAMP}: the timestamp is not for this manifest")
        listed = {f["name"]: f for f in json.loads(manifest_bytes)["files"]}
        present = {name[len("files/"):] for name in names if name.startswith("files/")}
        for name in sorted(set(listed) - present):
            check.problems.append(f"files/{name}: missing")
        for name in sorted(present - set(listed)):
            check.problems.append(f"files/{name}: extra file, not in the manifest")
        for name in sorted(set(listed) & present):
            content = archive.read(f"files/{name}")
            if len(content) != listed[name]["size"] or hashlib.sha256(content).hexdigest() != listed[name]["sha256"]:
                check.problems.append(f"files/{name}: altered (size or SHA-256 differs from the manifest)")
        for name in sorted(names - FIXED - {f"files/{n}" for n in present}):
            check.problems.append(f"{name}: extra file, not in the manifest")
    return check


def _stamps(token: bytes, manifest: bytes) -> bool:
    from .timestamp import stamps  # rfc3161ng is only loaded where a bundle carries a timestamp

    return stamps(token, manifest)
