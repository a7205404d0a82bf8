"""RFC 3161 timestamps on bundles, against a real timestamp authority on loopback (``openssl ts -reply``)."""

from __future__ import annotations

import datetime
import io
import shutil
import subprocess
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from vangnet.audit.services import Actor
from vangnet.evidence import custody
from vangnet.evidence.bundle import verify_bundle
from vangnet.evidence.choices import Source
from vangnet.evidence.services import add_evidence
from vangnet.evidence.timestamp import stamped_at, stamps

pytestmark = [pytest.mark.django_db,
              pytest.mark.skipif(shutil.which("openssl") is None, reason="the test's timestamp authority is openssl")]

TSA_CONFIG = """
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
serial = {serial}
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256
accuracy = secs:1
ess_cert_id_alg = sha256
"""


def _certificate(folder: Path, name: str) -> Path:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} test TSA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(key, hashes.SHA256()))
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    (folder / f"{name}.key").write_bytes(pem)
    (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return folder / f"{name}.pem"


@dataclass
class Authority:
    url: str
    certificate: Path
    requests: list[bytes]


@pytest.fixture
def authority(tmp_path: Path) -> Iterator[Authority]:
    """A timestamp authority on 127.0.0.1 that answers with ``openssl ts -reply``."""
    certificate = _certificate(tmp_path, "tsa")
    (tmp_path / "serial").write_text("01\n")
    config = tmp_path / "tsa.cnf"
    config.write_text(TSA_CONFIG.format(serial=tmp_path / "serial"))
    seen: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server API
            query = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(query)
            (tmp_path / "q.tsq").write_bytes(query)
            subprocess.run(["openssl", "ts", "-reply", "-config", str(config), "-queryfile", str(tmp_path / "q.tsq"),
                            "-signer", str(certificate), "-inkey", str(tmp_path / "tsa.key"),
                            "-out", str(tmp_path / "r.tsr")], check=True, capture_output=True)
            answer = (tmp_path / "r.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Authority(url=f"http://127.0.0.1:{server.server_address[1]}/tsa", certificate=certificate, requests=seen)
    server.shutdown()
    server.server_close()


def _case_with_evidence(submit, supervisor):
    case = submit().report.case
    add_evidence(case=case, data=b"[21:14] he: I know where you live", actor=Actor.reporter(), source=Source.REPORTER)
    return case


def test_a_configured_authority_stamps_the_manifest_and_openssl_agrees(settings, authority, submit, supervisor,
                                                                       tmp_path) -> None:
    settings.VANGNET_TIMESTAMP_URL, settings.VANGNET_TIMESTAMP_CERTIFICATE = authority.url, str(authority.certificate)
    export = custody.export_case_bundle(case=_case_with_evidence(submit, supervisor), actor=Actor.staff(supervisor))
    assert export.timestamp == "stamped" and len(authority.requests) == 1
    with zipfile.ZipFile(io.BytesIO(export.data)) as bundle:
        manifest, token = bundle.read("manifest.json"), bundle.read("manifest.tst")
        bundle.extractall(tmp_path / "unpacked")
    assert stamps(token, manifest) and not stamps(token, manifest + b" ")
    assert abs(datetime.datetime.fromisoformat(stamped_at(token)) - datetime.datetime.now(datetime.UTC)).seconds < 120
    assert verify_bundle(export.data).ok
    assert "openssl ts -verify" in (tmp_path / "unpacked" / "README.txt").read_text()
    checked = subprocess.run(["openssl", "ts", "-verify", "-data", "manifest.json", "-in", "manifest.tst", "-token_in",
                              "-CAfile", str(authority.certificate)], cwd=tmp_path / "unpacked",
                             capture_output=True, text=True)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stderr
    (tmp_path / "unpacked" / "manifest.json").write_bytes(manifest.replace(b'"case"', b'"kase"'))
    altered = subprocess.run(["openssl", "ts", "-verify", "-data", "manifest.json", "-in", "manifest.tst", "-token_in",
                              "-CAfile", str(authority.certificate)], cwd=tmp_path / "unpacked", capture_output=True)
    assert altered.returncode != 0


def test_a_timestamp_of_another_manifest_is_named_by_verify_bundle(settings, authority, submit, supervisor) -> None:
    settings.VANGNET_TIMESTAMP_URL = authority.url
    case = _case_with_evidence(submit, supervisor)
    first = custody.export_case_bundle(case=case, actor=Actor.staff(supervisor)).data
    second = custody.export_case_bundle(case=case, actor=Actor.staff(supervisor)).data
    with zipfile.ZipFile(io.BytesIO(first)) as bundle:
        other_token = bundle.read("manifest.tst")
    swapped = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(second)) as source, zipfile.ZipFile(swapped, "w") as target:
        for info in source.infolist():
            target.writestr(info, other_token if info.filename == "manifest.tst" else source.read(info))
    assert verify_bundle(swapped.getvalue()).problems == ["manifest.tst: the timestamp is not for this manifest"]


def test_an_answer_signed_by_another_authority_is_not_used(settings, authority, submit, supervisor,
                                                          tmp_path) -> None:
    settings.VANGNET_TIMESTAMP_URL = authority.url
    settings.VANGNET_TIMESTAMP_CERTIFICATE = str(_certificate(tmp_path, "impostor"))
    export = custody.export_case_bundle(case=_case_with_evidence(submit, supervisor), actor=Actor.staff(supervisor))
    assert export.timestamp == "unavailable" and len(authority.requests) == 1
    with zipfile.ZipFile(io.BytesIO(export.data)) as bundle:
        assert "manifest.tst" not in bundle.namelist()
    assert verify_bundle(export.data).ok, "still a signed, complete bundle"


def test_an_unreachable_authority_still_gives_a_signed_bundle_and_says_so(settings, submit, supervisor,
                                                                         client) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    settings.VANGNET_TIMESTAMP_URL = f"http://127.0.0.1:{port}/tsa"
    case = _case_with_evidence(submit, supervisor)
    client.force_login(supervisor)
    response = client.post(f"/staff/cases/{case.pk}/evidence/export/")
    assert response.status_code == 200 and response["X-Timestamp"] == "unavailable"
    assert verify_bundle(response.content).ok
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert "tijdstempel" in page.lower()


def test_without_an_authority_there_is_no_timestamp(settings, submit, supervisor) -> None:
    settings.VANGNET_TIMESTAMP_URL = ""
    export = custody.export_case_bundle(case=_case_with_evidence(submit, supervisor), actor=Actor.staff(supervisor))
    assert export.timestamp == ""
    with zipfile.ZipFile(io.BytesIO(export.data)) as bundle:
        assert "manifest.tst" not in bundle.namelist()
