"""The reply mailbox against a real IMAP server on loopback (Debian's Dovecot, started by the test).

One Dovecot per module, in a temporary folder of its own: passwd-file users with plain
passwords (a fresh user, so a fresh maildir, per test), IMAP on one free port and IMAPS with a
self-signed certificate on another, STARTTLS offered on the first. Messages are delivered with
IMAP APPEND. The connect guard fails any test that tries to reach beyond loopback. Skipped,
saying why, where the ``dovecot`` binary is missing (``apt-get install dovecot-imapd``).
"""

from __future__ import annotations

import datetime
import grp
import imaplib
import ipaddress
import logging
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError

from vangnet.audit.models import Event
from vangnet.common.testing import free_port
from vangnet.common.testing_network import ConnectionGuard, forbid_outside_connections
from vangnet.notices import mailbox, replies, tasks
from vangnet.notices.choices import MailboxMessageState, NoticeStatus
from vangnet.notices.models import MailboxMessage, Notice, Reply

from .test_notices import providers  # noqa: F401 - the fixture
from .test_replies_and_pages import _mail, sent  # noqa: F401 - the fixture

DOVECOT = shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None)
pytestmark = pytest.mark.django_db
PASSWORD = "plain-test-password"
PROCESSED = "vangnet-processed"
USERS = [f"replies{n}" for n in range(1, 101)]


class Killed(BaseException):
    """Stands in for a SIGKILL: nothing in the poller catches it (it is no Exception)."""


def _crlf(raw: bytes) -> bytes:
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _self_signed(folder: Path) -> Path:
    """A certificate for 127.0.0.1 and its key (one PEM file each); returns the certificate's path."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "vangnet test IMAP")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                       serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem"


@dataclass
class Dovecot:
    """A Dovecot of the test's own on 127.0.0.1 (plain IMAP with STARTTLS on ``port``, IMAPS on ``tls_port``)."""

    folder: Path
    port: int
    tls_port: int
    cert: Path
    users: list[str] = field(default_factory=list)

    @property
    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def add_user(self) -> str:
        """The next unused user (all written at start: Dovecot notices a changed passwd-file only a second later)."""
        user = f"replies{len(self.users) + 1}"
        assert user in USERS, "add users to USERS"
        self.users.append(user)
        return user

    def client(self, user: str) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(user, PASSWORD)
        return imap


def _dovecot_config(folder: Path, port: int, tls_port: int) -> str:
    """Root: mail stored as Debian's ``dovecot`` user (Dovecot refuses UID 0). Others: everything as oneself."""
    if os.geteuid() == 0:
        try:
            mail_user = pwd.getpwnam("dovecot")
        except KeyError:
            pytest.skip("as root, needs the 'dovecot' user of Debian's dovecot-core (Dovecot keeps no mail as root)")
        login_user, internal_user = "dovenull", "dovecot"
        internal_group, chroot = "dovecot", ""
        for sub in ("mail", "home"):
            os.chown(folder / sub, mail_user.pw_uid, mail_user.pw_gid)
    else:
        mail_user = pwd.getpwuid(os.getuid())
        login_user = internal_user = mail_user.pw_name
        internal_group, chroot = grp.getgrgid(os.getgid()).gr_name, "chroot ="  # only root may chroot
    return f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{folder}/cert.pem
ssl_key = <{folder}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain
auth_failure_delay = 0
first_valid_uid = {mail_user.pw_uid}
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
mail_location = maildir:{folder}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={folder}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
    ssl = yes
  }}
  {chroot}
}}
service anvil {{
  {chroot}
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
"""


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    if DOVECOT is None:
        pytest.skip("needs Debian's Dovecot IMAP server (/usr/sbin/dovecot): apt-get install dovecot-imapd")
    folder = Path(tempfile.mkdtemp(prefix="vangnet-test-dovecot-"))
    folder.chmod(0o755)  # Dovecot's own processes run as its users and must reach the maildirs
    for sub in ("mail", "home", "run", "state"):
        (folder / sub).mkdir()
    server = Dovecot(folder=folder, port=free_port(), tls_port=free_port(), cert=_self_signed(folder))
    (folder / "passwd").write_text("".join(f"{user}:{{PLAIN}}{PASSWORD}\n" for user in USERS))
    (folder / "dovecot.conf").write_text(_dovecot_config(folder, server.port, server.tls_port))
    process = subprocess.Popen([str(DOVECOT), "-F", "-c", str(folder / "dovecot.conf")], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                pytest.fail(f"dovecot stopped at start:\n{output}\n{server.log}")
            try:
                with socket.create_connection(("127.0.0.1", server.port), timeout=1) as probe:
                    if probe.recv(100).startswith(b"* OK"):
                        break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"dovecot did not answer within 20 s:\n{server.log}")
                time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
        if process.stdout:
            process.stdout.close()
        shutil.rmtree(folder, ignore_errors=True)


@dataclass
class Mailbox:
    """The reply mailbox of one test: a fresh Dovecot user, with the settings pointing at it."""

    server: Dovecot
    user: str

    def deliver(self, raw: bytes, folder: str = "INBOX") -> int:
        with self.server.client(self.user) as imap:
            typ, data = imap.append(_quoted(folder), "", None, _crlf(raw))
        assert typ == "OK", data
        found = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
        assert found, data
        return int(found.group(1))

    def create(self, folder: str) -> None:
        with self.server.client(self.user) as imap:
            assert imap.create(_quoted(folder))[0] == "OK"

    def flags(self, folder: str = "INBOX") -> dict[int, set[str]]:
        """UID -> flags of every message in the folder ({} if the folder does not exist)."""
        with self.server.client(self.user) as imap:
            typ, _ = imap.select(_quoted(folder), readonly=True)
            if typ != "OK":
                return {}
            typ, data = imap.uid("SEARCH", "ALL")
            if not data[0]:
                return {}
            typ, data = imap.uid("FETCH", b",".join(data[0].split()).decode(), "(UID FLAGS)")
        result = {}
        for line in data:
            assert isinstance(line, bytes)
            uid = re.search(rb"UID (\d+)", line)
            flags = re.search(rb"FLAGS \(([^)]*)\)", line)
            assert uid and flags, line
            result[int(uid.group(1))] = set(flags.group(1).decode().split()) - {"\\Recent"}  # per session
        return result


@pytest.fixture
def guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[ConnectionGuard]:
    guard = forbid_outside_connections(monkeypatch)
    yield guard
    guard.assert_clean()


@pytest.fixture
def box(dovecot: Dovecot, settings: Any, guard: ConnectionGuard) -> Mailbox:
    user = dovecot.add_user()
    settings.VANGNET_IMAP_HOST = "127.0.0.1"
    settings.VANGNET_IMAP_PORT = dovecot.port
    settings.VANGNET_IMAP_USER = user
    settings.VANGNET_IMAP_PASSWORD = PASSWORD
    settings.VANGNET_IMAP_USE_SSL = False
    settings.VANGNET_IMAP_USE_STARTTLS = False
    settings.VANGNET_IMAP_CA_FILE = ""
    settings.VANGNET_IMAP_FOLDER = "INBOX"
    settings.VANGNET_IMAP_PROCESSED_FOLDER = PROCESSED
    settings.VANGNET_IMAP_TIMEOUT = 10
    return Mailbox(server=dovecot, user=user)


@pytest.fixture
def notice(sent: Notice) -> Notice:  # noqa: F811 - the imported fixture
    """A notice sent to the provider (status ``sent``), waiting for its reply."""
    return sent


@pytest.fixture
def fetched(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """UIDs whose whole message the poller fetched (``BODY.PEEK[]``), in order."""
    seen: list[int] = []
    real_uid = imaplib.IMAP4.uid

    def uid(self: imaplib.IMAP4, command: str, *args: Any) -> Any:
        if command.upper() == "FETCH" and "BODY.PEEK[]" in str(args[-1]):
            seen.extend(int(n) for n in str(args[0]).split(","))
        return real_uid(self, command, *args)

    monkeypatch.setattr(imaplib.IMAP4, "uid", uid)
    return seen


def _without_zeros(counts: dict[str, int]) -> dict[str, int]:
    return {key: value for key, value in counts.items() if value}


def _html(reference: str) -> bytes:
    return _mail(reference, content_type="text/html; charset=utf-8",
                 body=b"<html><head><script>alert(document.cookie)</script></head>"
                      b"<body><p>Removed &amp; done.</p><img src=x onerror=alert(1)></body></html>")


def _attachments(reference: str) -> bytes:
    return (f"From: x@social.example.org\nSubject: Re: [{reference}]\nMIME-Version: 1.0\n"
            "Content-Type: multipart/mixed; boundary=B\n\n--B\nContent-Type: text/plain; charset=no-such-charset\n\n"
            "caf\xe9 removed\n--B\nContent-Type: application/x-msdownload\nContent-Disposition: attachment; "
            "filename=\"invoice.exe\"\nContent-Transfer-Encoding: base64\n\nTVqQAAMAAAAEAAAA\n--B--\n"
            ).encode("latin-1")


def test_replies_are_matched_and_hostile_mail_is_handled_as_uploads_are(box: Mailbox, notice: Notice,
                                                                        fetched: list[int]) -> None:
    plain = box.deliver(_mail(notice.reference))
    html = box.deliver(_html(notice.reference))
    attached = box.deliver(_attachments(notice.reference))
    forged = box.deliver(_mail("N-ZZZZZZZZZZ"))
    huge = box.deliver(_mail(notice.reference, body=b"x" * (replies.MAX_MESSAGE_BYTES + 1)))

    counts = mailbox.poll_mailbox()

    assert _without_zeros(counts) == {"stored": 4, "matched": 3, "too_large": 1}
    assert fetched == [plain, html, attached, forged], "the huge message is never fetched"
    ledger = {row.uid: row for row in MailboxMessage.objects.select_related("reply")}
    assert set(ledger) == {plain, html, attached, forged, huge}
    assert ledger[huge].state == MailboxMessageState.TOO_LARGE and ledger[huge].reply is None
    assert ledger[huge].size > replies.MAX_MESSAGE_BYTES
    assert ledger[plain].reply.text.strip() == "We removed the content."
    assert ledger[html].reply.text == "Removed & done.", "HTML is kept as its text, without script or tags"
    assert ledger[attached].reply.attachments == [
        {"name": "invoice.exe", "type": "application/x-msdownload", "size": 12}]
    assert "removed" in ledger[attached].reply.text
    assert ledger[forged].reply.notice is None, "a forged reference attaches to nothing"
    assert {ledger[uid].reply.notice_id for uid in (plain, html, attached)} == {notice.pk}
    assert all(ledger[uid].reply.source == "imap" for uid in (plain, html, attached, forged))
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.ANSWERED
    assert Event.objects.filter(event_type="notice.reply_received", case_id=notice.case_id).count() == 3
    assert box.flags("INBOX") == {}, "everything taken in, the huge one too, left the inbox"
    moved = box.flags(PROCESSED)
    assert len(moved) == 5 and all("\\Seen" in flags for flags in moved.values())


@pytest.mark.parametrize("processed", [PROCESSED, ""], ids=["moved", "left-in-place"])
def test_nothing_is_fetched_twice_across_polls(box: Mailbox, notice: Notice, fetched: list[int], settings: Any,
                                               processed: str) -> None:
    settings.VANGNET_IMAP_PROCESSED_FOLDER = processed
    first = box.deliver(_mail(notice.reference))
    assert _without_zeros(mailbox.poll_mailbox()) == {"stored": 1, "matched": 1}
    second = box.deliver(_mail(notice.reference, body=b"Second answer: also the copy is gone."))
    assert _without_zeros(mailbox.poll_mailbox()) == {"stored": 1, "matched": 1}
    if not processed:  # someone reads the mailbox and marks the first one unread again: it is not taken in again
        assert box.flags("INBOX") == {first: {"\\Seen"}, second: {"\\Seen"}}
        with box.server.client(box.user) as imap:
            imap.select("INBOX")
            assert imap.uid("STORE", str(first), "-FLAGS", r"(\Seen)")[0] == "OK"
    assert _without_zeros(mailbox.poll_mailbox()) == {}
    assert fetched == [first, second]
    assert Reply.objects.count() == 2 and MailboxMessage.objects.count() == 2
    assert sorted(Reply.objects.values_list("text", flat=True)) == [
        "Second answer: also the copy is gone.", "We removed the content."]


def test_stopped_after_storing_before_marking_neither_loses_nor_doubles(box: Mailbox, notice: Notice,
                                                                          monkeypatch: pytest.MonkeyPatch,
                                                                          fetched: list[int]) -> None:
    uid = box.deliver(_mail(notice.reference))
    real_mark = mailbox._mark_taken_in

    def killed(*args: Any, **kwargs: Any) -> None:
        raise Killed

    monkeypatch.setattr(mailbox, "_mark_taken_in", killed)
    with pytest.raises(Killed):
        mailbox.poll_mailbox()
    assert Reply.objects.count() == 1 and MailboxMessage.objects.get().uid == uid, "committed before marking"
    assert box.flags("INBOX") == {uid: set()}, "still unread where it was"

    monkeypatch.setattr(mailbox, "_mark_taken_in", real_mark)
    assert _without_zeros(mailbox.poll_mailbox()) == {"moved_late": 1}
    assert Reply.objects.count() == 1 and fetched == [uid], "the next run only moves it"
    assert box.flags("INBOX") == {} and list(box.flags(PROCESSED).values()) == [{"\\Seen"}]
    assert Event.objects.filter(event_type="notice.reply_received").count() == 1


def test_stopped_after_the_reply_is_stored_inside_its_transaction_neither_loses_nor_doubles(
        box: Mailbox, notice: Notice, monkeypatch: pytest.MonkeyPatch, fetched: list[int]) -> None:
    uid = box.deliver(_mail(notice.reference))
    real_receive = replies.receive_reply

    def receive_then_die(**kwargs: Any) -> Reply:
        reply = real_receive(**kwargs)
        assert Reply.objects.filter(pk=reply.pk).exists()
        raise Killed

    monkeypatch.setattr(replies, "receive_reply", receive_then_die)
    with pytest.raises(Killed):
        mailbox.poll_mailbox()
    assert not Reply.objects.exists() and not MailboxMessage.objects.exists(), "rolled back together"
    assert not Event.objects.filter(event_type="notice.reply_received").exists()
    notice.refresh_from_db()
    assert notice.status == NoticeStatus.SENT and box.flags("INBOX") == {uid: set()}

    monkeypatch.setattr(replies, "receive_reply", real_receive)
    assert _without_zeros(mailbox.poll_mailbox()) == {"stored": 1, "matched": 1}
    assert Reply.objects.get().notice_id == notice.pk and fetched == [uid, uid]
    assert Event.objects.filter(event_type="notice.reply_received").count() == 1
    assert box.flags("INBOX") == {}


def test_a_database_error_stops_the_run_without_skipping_a_message(box: Mailbox, notice: Notice,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    uids = [box.deliver(_mail(notice.reference, body=f"Answer {n}".encode())) for n in range(3)]
    real_receive = replies.receive_reply
    calls = []

    def flaky(**kwargs: Any) -> Reply:
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("database is locked")
        return real_receive(**kwargs)

    monkeypatch.setattr(replies, "receive_reply", flaky)
    with pytest.raises(OperationalError):
        mailbox.poll_mailbox()
    assert list(MailboxMessage.objects.values_list("uid", flat=True)) == uids[:1]
    monkeypatch.setattr(replies, "receive_reply", real_receive)
    assert _without_zeros(mailbox.poll_mailbox()) == {"stored": 2, "matched": 2}
    assert sorted(Reply.objects.values_list("text", flat=True)) == ["Answer 0", "Answer 1", "Answer 2"]


def test_a_message_the_parser_chokes_on_is_recorded_and_does_not_block_the_others(
        box: Mailbox, notice: Notice, monkeypatch: pytest.MonkeyPatch, fetched: list[int],
        caplog: pytest.LogCaptureFixture) -> None:
    poison = box.deliver(_mail(notice.reference, body=b"poison"))
    good = box.deliver(_mail(notice.reference))
    real_parse = replies.parse_message

    def parse(raw: bytes) -> replies.ParsedReply:
        if b"poison" in raw:
            raise RecursionError("choked on: poison")  # an error's text may quote the message
        return real_parse(raw)

    monkeypatch.setattr(replies, "parse_message", parse)
    with caplog.at_level(logging.WARNING, logger="vangnet.notices.mailbox"):
        assert _without_zeros(mailbox.poll_mailbox()) == {"stored": 1, "matched": 1, "failed": 1}
    assert f"UID {poison}" in caplog.text and "RecursionError" in caplog.text and "poison" not in caplog.text
    failed = MailboxMessage.objects.get(uid=poison)
    assert failed.state == MailboxMessageState.FAILED and failed.note == "RecursionError" and failed.reply is None
    assert Reply.objects.get().mailbox_message.uid == good
    assert _without_zeros(mailbox.poll_mailbox()) == {} and fetched == [poison, good]


def test_limit_leaves_the_rest_for_the_next_run(box: Mailbox, notice: Notice) -> None:
    for n in range(3):
        box.deliver(_mail(notice.reference, body=f"Answer {n}".encode()))
    assert _without_zeros(mailbox.poll_mailbox(limit=2)) == {"stored": 2, "matched": 2, "left": 1}
    assert _without_zeros(mailbox.poll_mailbox(limit=2)) == {"stored": 1, "matched": 1}
    assert Reply.objects.count() == 3


def test_a_recreated_folder_does_not_store_a_message_twice(box: Mailbox, notice: Notice, settings: Any) -> None:
    folder = "Provider replies"  # a name that must be quoted
    settings.VANGNET_IMAP_FOLDER = folder
    box.create(folder)
    message = _mail(notice.reference)
    box.deliver(message, folder)
    assert _without_zeros(mailbox.poll_mailbox()) == {"stored": 1, "matched": 1}
    with box.server.client(box.user) as imap:  # the folder is deleted and made again: new UIDVALIDITY, UIDs from 1
        assert imap.delete(_quoted(folder))[0] == "OK"
    box.create(folder)
    box.deliver(message, folder)
    assert _without_zeros(mailbox.poll_mailbox()) == {"duplicate": 1}
    assert Reply.objects.count() == 1
    assert sorted(MailboxMessage.objects.values_list("state", flat=True)) == ["duplicate", "stored"]
    assert len(set(MailboxMessage.objects.values_list("uidvalidity", flat=True))) == 2


@pytest.mark.parametrize("how", ["STARTTLS", "TLS"])
def test_tls_and_starttls_check_the_certificate(box: Mailbox, notice: Notice, settings: Any, how: str,
                                                caplog: pytest.LogCaptureFixture) -> None:
    box.deliver(_mail(notice.reference))
    if how == "TLS":
        settings.VANGNET_IMAP_PORT, settings.VANGNET_IMAP_USE_SSL = box.server.tls_port, True
    else:
        settings.VANGNET_IMAP_USE_STARTTLS = True
    with caplog.at_level(logging.WARNING, logger="vangnet.notices.mailbox"):
        assert _without_zeros(mailbox.poll_mailbox()) == {"unreachable": 1}, "a certificate nobody vouched for"
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text and not Reply.objects.exists()
    settings.VANGNET_IMAP_CA_FILE = str(box.server.cert)
    assert _without_zeros(mailbox.poll_mailbox()) == {"stored": 1, "matched": 1}
    assert re.search(r"Login: user=<%s>.*TLS" % box.user, box.server.log)


def test_a_password_is_never_sent_in_the_clear_beyond_loopback(box: Mailbox, settings: Any,
                                                                 caplog: pytest.LogCaptureFixture,
                                                                 guard: ConnectionGuard) -> None:
    settings.VANGNET_IMAP_HOST = "mail.example"
    with caplog.at_level(logging.WARNING, logger="vangnet.notices.mailbox"):
        assert _without_zeros(mailbox.poll_mailbox()) == {"unreachable": 1}
    assert "refusing to send the password unencrypted" in caplog.text and not guard.refused


def _silent_server() -> socket.socket:
    """A socket that accepts connections (the kernel's backlog) but never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(5)
    return sock


@pytest.mark.parametrize("trouble", ["refused", "silent", "wrong password"])
def test_a_mailbox_that_is_down_is_logged_and_tried_again(box: Mailbox, notice: Notice, settings: Any, trouble: str,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    box.deliver(_mail(notice.reference))
    silent = _silent_server()
    try:
        if trouble == "refused":
            settings.VANGNET_IMAP_PORT = free_port()
        elif trouble == "silent":
            settings.VANGNET_IMAP_PORT, settings.VANGNET_IMAP_TIMEOUT = silent.getsockname()[1], 1
        else:
            settings.VANGNET_IMAP_PASSWORD = "not-the-password"
        started = time.monotonic()
        with caplog.at_level(logging.WARNING, logger="vangnet.notices.mailbox"):
            counts = tasks.poll_reply_mailbox.call()  # the scheduled task itself: it must not raise
        assert time.monotonic() - started < 10
    finally:
        silent.close()
    assert _without_zeros(counts) == {"unreachable": 1}
    assert "could not be read" in caplog.text and "the next run tries again" in caplog.text
    assert {"refused": "ConnectionRefusedError", "silent": "TimeoutError",
            "wrong password": "AUTHENTICATIONFAILED"}[trouble] in caplog.text
    assert PASSWORD not in caplog.text and "not-the-password" not in caplog.text
    assert not Reply.objects.exists() and not MailboxMessage.objects.exists()
    settings.VANGNET_IMAP_PORT, settings.VANGNET_IMAP_PASSWORD = box.server.port, PASSWORD
    assert _without_zeros(mailbox.poll_mailbox()) == {"stored": 1, "matched": 1}, "the next run takes it in"


def test_polling_is_off_without_a_host(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    settings.VANGNET_IMAP_HOST = ""

    def no_connection(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("no mailbox is configured: nothing may connect")

    monkeypatch.setattr(imaplib.IMAP4, "__init__", no_connection)
    monkeypatch.setattr(imaplib.IMAP4_SSL, "__init__", no_connection)
    assert _without_zeros(tasks.poll_reply_mailbox.call()) == {}
