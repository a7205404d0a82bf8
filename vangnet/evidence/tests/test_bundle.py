"""Export bundles verify with vangnet, with sha256sum and openssl, and with the README's script;
every alteration is named."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from vangnet.evidence.bundle import README_TEXT, BundleFile, build_bundle, verify_bundle

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
FILES = [BundleFile("screenshot.png", b"\x89PNG fake bytes", {"pdq": None, "source": "reporter"}),
         BundleFile("chat/WhatsApp.zip", b"PK\x03\x04 unopened", {"source": "partner"})]
ABOUT = {"case": "C-TEST1234", "exported_by": "sanne", "exported_at": "2026-11-25T17:00:00+00:00",
         "custody": [{"event": "evidence.added", "at": "2026-11-20T10:00:00+00:00", "by": "reporter"}]}


def _bundle() -> bytes:
    return build_bundle(FILES, signing_key=KEY, about=ABOUT)


def _rewrite(data: bytes, *, change: dict[str, bytes] | None = None, drop: str = "", add: dict[str, bytes] | None = None
             ) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename == drop:
                continue
            target.writestr(info.filename, (change or {}).get(info.filename, source.read(info.filename)))
        for name, content in (add or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def test_an_intact_bundle_verifies_and_holds_the_originals() -> None:
    data = _bundle()
    assert verify_bundle(data).ok
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.read("files/chat/WhatsApp.zip") == b"PK\x03\x04 unopened"
    assert archive.read("README.txt").decode() == README_TEXT


def test_each_alteration_is_named() -> None:
    data = _bundle()
    flipped = bytearray(zipfile.ZipFile(io.BytesIO(data)).read("files/screenshot.png"))
    flipped[0] ^= 1
    assert verify_bundle(_rewrite(data, change={"files/screenshot.png": bytes(flipped)})).problems == [
        "files/screenshot.png: altered (size or SHA-256 differs from the manifest)"]
    assert verify_bundle(_rewrite(data, drop="files/chat/WhatsApp.zip")).problems == [
        "files/chat/WhatsApp.zip: missing"]
    assert verify_bundle(_rewrite(data, add={"files/planted.jpg": b"x", "notes.txt": b"y"})).problems == [
        "files/planted.jpg: extra file, not in the manifest", "notes.txt: extra file, not in the manifest"]
    manifest = zipfile.ZipFile(io.BytesIO(data)).read("manifest.json").replace(b"C-TEST1234", b"C-OTHER123")
    assert verify_bundle(_rewrite(data, change={"manifest.json": manifest})).problems == [
        "manifest.json: the signature does not match (the manifest was altered)"]
    other = Ed25519PrivateKey.generate().public_key()
    assert not verify_bundle(data, trusted_key=other).ok, "a bundle signed by someone else's key fails"
    assert verify_bundle(b"not a zip").problems == ["not a zip file"]


def test_names_that_climb_out_of_the_bundle_are_cleaned() -> None:
    data = build_bundle([BundleFile("../../etc/passwd", b"x")], signing_key=KEY, about={})
    assert zipfile.ZipFile(io.BytesIO(data)).namelist()[0] == "files/etc/passwd"
    with pytest.raises(ValueError):
        build_bundle([BundleFile("a", b"1"), BundleFile("./a", b"2")], signing_key=KEY, about={})


def _unpack(data: bytes, folder: Path) -> Path:
    zipfile.ZipFile(io.BytesIO(data)).extractall(folder)
    return folder


@pytest.mark.skipif(shutil.which("sha256sum") is None or shutil.which("openssl") is None,
                    reason="needs coreutils' sha256sum and openssl")
def test_standard_tools_verify_it_too(tmp_path: Path) -> None:
    root = _unpack(_bundle(), tmp_path / "bundle")
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=root, capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout + sums.stderr
    signature = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "signing-key.pem", "-rawin",
                                "-in", "manifest.json", "-sigfile", "manifest.sig"], cwd=root,
                               capture_output=True, text=True)
    assert signature.returncode == 0 and "Signature Verified Successfully" in signature.stdout, signature.stderr
    (root / "files" / "screenshot.png").write_bytes(b"changed")
    assert subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=root, capture_output=True).returncode != 0


def test_the_readme_script_verifies_with_only_the_standard_library_and_cryptography(tmp_path: Path) -> None:
    script = README_TEXT.split("(standard library and the \"cryptography\" package only):", 1)[1]
    script = "\n".join(line[4:] for line in script.split("Or, with vangnet")[0].splitlines() if line.strip())
    (tmp_path / "check.py").write_text(script)
    root = _unpack(_bundle(), tmp_path / "bundle")
    result = subprocess.run([sys.executable, "-I", str(tmp_path / "check.py"), str(root)], capture_output=True,
                            text=True)
    assert result.returncode == 0 and result.stdout.strip() == "OK", result.stderr
    (root / "files" / "extra.bin").write_bytes(b"planted")
    assert subprocess.run([sys.executable, "-I", str(tmp_path / "check.py"), str(root)],
                          capture_output=True).returncode != 0


def test_the_verify_bundle_command_follows_its_contract(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.zip", tmp_path / "bad.zip"
    good.write_bytes(_bundle())
    bad.write_bytes(_rewrite(_bundle(), drop="files/screenshot.png", add={"files/x": b"1"}))
    env = {"DJANGO_SETTINGS_MODULE": "vangnet.config.test", "PATH": "/usr/bin:/bin"}
    ok = subprocess.run([sys.executable, "-m", "vangnet.cli", "verify_bundle", str(good)], capture_output=True,
                        text=True, env=env, timeout=60)
    assert (ok.returncode, ok.stdout.strip()) == (0, "OK")
    failed = subprocess.run([sys.executable, "-m", "vangnet.cli", "verify_bundle", str(bad)], capture_output=True,
                            text=True, env=env, timeout=60)
    assert failed.returncode == 1
    assert "files/screenshot.png: missing" in failed.stderr and "files/x: extra file" in failed.stderr


@pytest.mark.django_db
def test_the_signing_key_command_prints_the_key_that_signs_the_organisations_bundles(helpline) -> None:
    import hashlib

    from django.core.management import CommandError, call_command

    from vangnet.evidence.custody import signing_key_for

    out = io.StringIO()
    call_command("signing_key", helpline.slug, stdout=out)
    pem, fingerprint_line = out.getvalue().strip().rsplit("\n", 1)
    public = serialization.load_pem_public_key(pem.encode())
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert fingerprint_line == f"SHA-256 fingerprint (DER): {hashlib.sha256(der).hexdigest()}"
    assert signing_key_for(helpline).fingerprint == hashlib.sha256(der).hexdigest(), "the same key, not a new one"
    with pytest.raises(CommandError, match="no-such-org"):
        call_command("signing_key", "no-such-org")
