"""The reply mailbox: providers' answers to notices, fetched over IMAP by the worker and matched by reference.

Every two minutes (``tasks.poll_reply_mailbox``) the worker logs in to the mailbox that the
``VANGNET_IMAP_*`` settings name, takes in each new message once and hands it to
``replies.receive_reply``, which keeps it as plain text and attaches it only to the notice whose
reference it names. Nothing happens while ``VANGNET_IMAP_HOST`` is empty.

Exactly once, whatever stops the worker:

- The database, not the ``\\Seen`` flag, says what was taken in: a ``MailboxMessage`` row per
  message, unique per mailbox, folder UIDVALIDITY and UID. New messages are those above the
  highest UID recorded, taken in ascending order, and a run stops at the first one it could not
  finish, so no message is ever skipped behind it. Someone reading the mailbox in a mail client
  (marking messages read or unread) changes nothing.
- A message is fetched with ``BODY.PEEK[]`` (which leaves it unread); its reply and its row are
  committed in one transaction; only then is it marked read and moved to
  ``VANGNET_IMAP_PROCESSED_FOLDER``. Stopped before the commit: no reply, no row, the message
  still where it was, and the next run takes it in. Stopped after: the row says "taken in", and
  the next run only moves it (whatever is left in the folder at or below the highest UID).
- Two runs at once (overlapping workers) may both fetch a message, but the unique row lets only
  one of them commit; the other's reply is rolled back with its row.
- A message larger than ``replies.MAX_MESSAGE_BYTES`` by its ``RFC822.SIZE`` is never fetched:
  its row says ``too_large``, a warning is logged, and it is marked and moved like the others.
- A folder that was recreated starts again under a new UIDVALIDITY; a message whose bytes
  (SHA-256) were taken in before is then recorded as a duplicate, not stored a second time.

A mailbox that cannot be reached (refused, timed out, TLS or login failed, dropped mid-run) is
logged as a warning and the run ends; the next run tries again. Logs name UIDs, sizes and
hashes, never a sender, subject or text.
"""

from __future__ import annotations

import hashlib
import imaplib
import ipaddress
import logging
import re
import ssl
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import Max

from vangnet.audit.services import Actor

from . import replies
from .choices import MailboxMessageState
from .models import MailboxMessage

logger = logging.getLogger(__name__)
ACTOR = Actor.system("reply mailbox")
SOURCE = "imap"
FETCH_BATCH = 100
COUNTS = ("stored", "matched", *(state.value for state in MailboxMessageState if state != "stored"),
          "moved_late", "left", "unreachable")


class MailboxError(Exception):
    """The mailbox answered, but not with OK where the poller needed it (or refused to go on)."""


@dataclass(frozen=True)
class MailboxConfig:
    """Where the reply mailbox is and how to reach it (``VANGNET_IMAP_*``)."""

    host: str
    port: int
    user: str
    password: str
    use_ssl: bool
    use_starttls: bool
    ca_file: str
    folder: str
    processed_folder: str
    timeout: int

    @classmethod
    def from_settings(cls) -> MailboxConfig | None:
        """The configured mailbox, or None while ``VANGNET_IMAP_HOST`` is empty (polling is off)."""
        if not settings.VANGNET_IMAP_HOST:
            return None
        return cls(host=settings.VANGNET_IMAP_HOST, port=settings.VANGNET_IMAP_PORT, user=settings.VANGNET_IMAP_USER,
                   password=settings.VANGNET_IMAP_PASSWORD, use_ssl=settings.VANGNET_IMAP_USE_SSL,
                   use_starttls=settings.VANGNET_IMAP_USE_STARTTLS, ca_file=settings.VANGNET_IMAP_CA_FILE,
                   folder=settings.VANGNET_IMAP_FOLDER or "INBOX",
                   processed_folder=settings.VANGNET_IMAP_PROCESSED_FOLDER, timeout=settings.VANGNET_IMAP_TIMEOUT)

    @property
    def name(self) -> str:
        """What the ledger (and the log) calls this mailbox and folder; no password."""
        return f"imap://{self.user}@{self.host}:{self.port}/{self.folder}"[:300]


def _quoted(text: str) -> str:
    """An IMAP quoted string (folder names with spaces, user names with odd characters)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _ok(response: tuple[str, Any], what: str) -> list[Any]:
    typ, data = response
    if typ != "OK":
        detail = data[-1] if data else b""
        detail = detail.decode("ascii", "replace") if isinstance(detail, bytes) else str(detail)
        raise MailboxError(f"{what}: {typ} {detail}"[:300])
    return list(data)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.lower() == "localhost"


def _connect(config: MailboxConfig) -> imaplib.IMAP4:
    """Connect (TLS, STARTTLS, or plain to loopback only), log in; every socket operation has a timeout."""
    context = ssl.create_default_context(cafile=config.ca_file or None)
    if config.use_ssl:
        imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(config.host, config.port, ssl_context=context,
                                                timeout=config.timeout)
    else:
        if not config.use_starttls and not _is_loopback(config.host):
            raise MailboxError("refusing to send the password unencrypted; set VANGNET_IMAP_USE_SSL or "
                               "VANGNET_IMAP_USE_STARTTLS")
        imap = imaplib.IMAP4(config.host, config.port, timeout=config.timeout)
    try:
        if config.use_starttls and not config.use_ssl:
            imap.starttls(ssl_context=context)  # refuses a server that does not offer it
        imap.login(_quoted(config.user), config.password)
    except BaseException:
        _shutdown(imap)
        raise
    return imap


def _shutdown(imap: imaplib.IMAP4) -> None:
    try:
        imap.shutdown()
    except OSError:  # a TLS handshake that failed has closed the socket already
        pass


def _close(imap: imaplib.IMAP4) -> None:
    try:
        imap.logout()
    except (OSError, imaplib.IMAP4.error):
        _shutdown(imap)


def _capabilities(imap: imaplib.IMAP4) -> set[str]:
    """The capabilities after login (a server may offer more, such as MOVE, once logged in)."""
    data = _ok(imap.capability(), "CAPABILITY")
    words = b" ".join(item for item in data if isinstance(item, bytes)).decode("ascii", "replace")
    return set(words.upper().split())


def _select(imap: imaplib.IMAP4, folder: str) -> int:
    """Select the folder (read-write) and return its UIDVALIDITY."""
    _ok(imap.select(_quoted(folder)), "SELECT")
    _, values = imap.response("UIDVALIDITY")
    if not values or values[0] is None:
        raise MailboxError("SELECT: the server named no UIDVALIDITY")
    return int(values[0])


def _ensure_folder(imap: imaplib.IMAP4, folder: str) -> None:
    listed = _ok(imap.list('""', _quoted(folder)), "LIST")
    if not any(listed):
        _ok(imap.create(_quoted(folder)), "CREATE")


def _search(imap: imaplib.IMAP4, *criteria: str) -> list[int]:
    data = _ok(imap.uid("SEARCH", *criteria), "SEARCH")
    words = b" ".join(item for item in data if isinstance(item, bytes)).split()
    return sorted({int(word) for word in words if word.isdigit()})


_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")


def _sizes(imap: imaplib.IMAP4, uids: list[int]) -> dict[int, int]:
    """Each message's size as the server states it, fetched before any message is."""
    sizes: dict[int, int] = {}
    for start in range(0, len(uids), FETCH_BATCH):
        batch = ",".join(str(uid) for uid in uids[start:start + FETCH_BATCH])
        for item in _ok(imap.uid("FETCH", batch, "(UID RFC822.SIZE)"), "FETCH RFC822.SIZE"):
            line = item[0] if isinstance(item, tuple) else item
            if not isinstance(line, bytes):
                continue
            uid, size = _UID.search(line), _SIZE.search(line)
            if uid and size:
                sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _fetch(imap: imaplib.IMAP4, uid: int) -> bytes | None:
    """The whole message, left unread (``BODY.PEEK[]``); None if it is gone meanwhile."""
    for item in _ok(imap.uid("FETCH", str(uid), "(BODY.PEEK[])"), "FETCH BODY"):
        if isinstance(item, tuple) and b"BODY[]" in item[0] and isinstance(item[1], bytes):
            return item[1]
    return None


def _move(imap: imaplib.IMAP4, uids: str, folder: str, capabilities: set[str]) -> None:
    if "MOVE" in capabilities:
        _ok(imap.uid("MOVE", uids, _quoted(folder)), "MOVE")
        return
    _ok(imap.uid("COPY", uids, _quoted(folder)), "COPY")
    _ok(imap.uid("STORE", uids, "+FLAGS.SILENT", r"(\Deleted)"), "STORE \\Deleted")
    if "UIDPLUS" in capabilities:  # without it, EXPUNGE could remove others' deleted messages: leave them flagged
        _ok(imap.uid("EXPUNGE", uids), "UID EXPUNGE")


def _mark_taken_in(imap: imaplib.IMAP4, config: MailboxConfig, uid: int, capabilities: set[str]) -> None:
    """After the commit: mark the message read and move it out of the way (to the processed folder)."""
    _ok(imap.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Seen)"), "STORE \\Seen")
    if config.processed_folder:
        _move(imap, str(uid), config.processed_folder, capabilities)


def _record(key: dict[str, Any], *, state: str, size: int, sha256: str = "", reply: Any = None,
            note: str = "") -> MailboxMessage:
    return MailboxMessage.objects.create(**key, state=state, size=size, raw_sha256=sha256, reply=reply,
                                         note=note[:200])


def _store(key: dict[str, Any], raw: bytes) -> tuple[str, bool]:
    """Take one fetched message in: the reply and its ledger row in one transaction. Returns (state, matched)."""
    sha256 = hashlib.sha256(raw).hexdigest()
    with transaction.atomic():
        if MailboxMessage.objects.filter(raw_sha256=sha256).exists():
            _record(key, state=MailboxMessageState.DUPLICATE, size=len(raw), sha256=sha256)
            return MailboxMessageState.DUPLICATE, False
        reply, note, state = None, "", MailboxMessageState.STORED
        try:
            reply = replies.receive_reply(raw=raw, source=SOURCE, actor=ACTOR)
        except ValidationError as exc:  # empty, too large: replies.parse_message refuses it
            state, note = MailboxMessageState.REFUSED, "; ".join(exc.messages)
        except DatabaseError:
            raise
        except Exception as exc:  # noqa: BLE001 - one message the parser chokes on must not block the mailbox
            state, note = MailboxMessageState.FAILED, type(exc).__name__  # its text might quote the message
            logger.warning("Reply mailbox: message UID %s (sha256 %s) could not be read (%s); recorded as failed.",
                           key["uid"], sha256, type(exc).__name__)
        _record(key, state=state, size=len(raw), sha256=sha256, reply=reply, note=note)
    return state, bool(reply is not None and reply.notice_id)


def _take_in(imap: imaplib.IMAP4, key: dict[str, Any], size: int) -> tuple[str, bool] | None:
    """One new message: skipped if too large, else fetched and stored. None if it vanished meanwhile."""
    limit = replies.MAX_MESSAGE_BYTES
    raw = None if size > limit else _fetch(imap, key["uid"])
    if raw is None and size <= limit:
        return None
    if raw is None or len(raw) > limit:
        size = size if raw is None else len(raw)
        logger.warning("Reply mailbox %s: message UID %s is %s bytes, over the limit of %s; not taken in.",
                       key["mailbox"], key["uid"], size, limit)
        with transaction.atomic():
            _record(key, state=MailboxMessageState.TOO_LARGE, size=size)
        return MailboxMessageState.TOO_LARGE, False
    return _store(key, raw)


def _poll(imap: imaplib.IMAP4, config: MailboxConfig, *, limit: int, counts: dict[str, int]) -> None:
    capabilities = _capabilities(imap)
    uidvalidity = _select(imap, config.folder)
    if config.processed_folder:
        _ensure_folder(imap, config.processed_folder)
    ledger = MailboxMessage.objects.filter(mailbox=config.name, uidvalidity=uidvalidity)
    last = ledger.aggregate(last=Max("uid"))["last"] or 0
    if config.processed_folder and last:
        # Taken in by a run that stopped before it could move them: every UID up to ``last`` has its row.
        late = _search(imap, "UID", f"1:{last}", "UNDELETED")
        if late:
            _ok(imap.uid("STORE", ",".join(map(str, late)), "+FLAGS.SILENT", r"(\Seen)"), "STORE \\Seen")
            _move(imap, ",".join(map(str, late)), config.processed_folder, capabilities)
            counts["moved_late"] = len(late)
    new = [uid for uid in _search(imap, "UID", f"{last + 1}:*") if uid > last]  # "n:*" also names the last one
    counts["left"] = max(0, len(new) - limit)
    new = new[:limit]
    sizes = _sizes(imap, new)
    for uid in new:
        if uid not in sizes:
            continue  # expunged since the search
        key = {"mailbox": config.name, "uidvalidity": uidvalidity, "uid": uid}
        try:
            taken = _take_in(imap, key, sizes[uid])
        except IntegrityError:
            if not MailboxMessage.objects.filter(**key).exists():
                raise
            taken = (MailboxMessageState.DUPLICATE, False)  # another run took it in at the same moment
        if taken is None:
            continue
        state, matched = taken
        counts[state] += 1
        counts["matched"] += int(matched)
        try:
            _mark_taken_in(imap, config, uid, capabilities)
        except MailboxError as exc:  # recorded, so never taken in again; the next run moves it
            logger.warning("Reply mailbox %s: message UID %s was taken in but not moved (%s).", config.name, uid, exc)


def poll_mailbox(*, limit: int = 200) -> dict[str, int]:
    """Take in up to ``limit`` new messages from the reply mailbox; counts of what became of them.

    Never raises for the mailbox's sake: a mailbox that is down, slow, refuses the login or
    drops the connection gives a warning in the log and ``unreachable: 1``, and the next run
    tries again. Database errors do propagate (the task fails visibly and nothing is lost:
    whatever was not committed is taken in again).
    """
    counts = dict.fromkeys(COUNTS, 0)
    config = MailboxConfig.from_settings()
    if config is None:
        return counts
    imap = None
    try:
        imap = _connect(config)
        _poll(imap, config, limit=limit, counts=counts)
    except (OSError, imaplib.IMAP4.error, MailboxError) as exc:
        counts["unreachable"] = 1
        logger.warning("Reply mailbox %s could not be read (%s: %s); the next run tries again.", config.name,
                       type(exc).__name__, exc)
    finally:
        if imap is not None:
            _close(imap)
    if any(counts.values()):
        logger.info("Reply mailbox %s: %s", config.name, ", ".join(f"{k}={v}" for k, v in counts.items() if v))
    return counts
