"""Hash banks as CSV, to exchange hashes (never images) with partner organisations.

Columns: ``hash_type`` (``sha256`` or ``pdq``), ``hash`` (64 hex digits), ``label``, ``quality``
(PDQ quality 0-100, or empty). One row per hash: an entry with both hashes of a file gives two
rows with the same label. UTF-8 (a byte-order mark is fine), comma-separated, a header row.

An import is all or nothing: it runs in one transaction, and any bad row (each reported with its
line number, up to ``MAX_ERRORS`` of them) rolls everything back. Hashes the bank holds already,
or that appear twice, are counted and skipped. The file is read line by line, never whole: a
line longer than ``MAX_LINE_CHARS`` or more than ``MAX_ROWS`` rows stop the import.

Spreadsheet formula injection: a label that begins with ``=``, ``+``, ``-``, ``@``, a tab, a
carriage return (or an apostrophe) is exported with an apostrophe in front, so a spreadsheet
shows it as text instead of running it (``=HYPERLINK(...)``); the import takes one leading
apostrophe off a label again, so an export imports back unchanged (as ``directory.providers_csv``
does).
"""

from __future__ import annotations

import csv
import hashlib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import transaction
from django.utils.translation import gettext as _

from vangnet.audit.services import Actor, record_event

from .choices import BankEvent, HashType
from .models import Bank, BankEntry
from .services import HEX_64, bump_version

COLUMNS = ["hash_type", "hash", "label", "quality"]
REQUIRED = ["hash_type", "hash"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "'")
MAX_LINE_CHARS = 4096
MAX_ROWS = 20_000_000
MAX_ERRORS = 50
MAX_LABEL = BankEntry._meta.get_field("label").max_length or 200
BATCH = 5_000
# Characters that would let a label hide or reorder what is shown around it.
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


class BankImportError(Exception):
    """An import that changed nothing; ``errors`` are messages for people, each naming its line."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass
class ImportSummary:
    rows: int = 0
    added: int = 0
    already_present: int = 0
    sha256: str = ""  # of the file as read
    by_type: dict[str, int] = field(default_factory=dict)


def neutralise(value: str) -> str:
    """A cell as exported: an apostrophe in front of anything a spreadsheet would read as a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def restore(value: str) -> str:
    """A cell as imported: one leading apostrophe (from ``neutralise`` or a spreadsheet) taken off."""
    return value[1:] if value.startswith("'") else value


# ---------------------------------------------------------------------------------------------
# Export


def export_rows(bank: Bank) -> Iterator[list[str]]:
    """The header and one row per hash of ``bank``, read from the database in batches."""
    yield COLUMNS
    for sha256, pdq, quality, label in bank.entries.order_by("id").values_list(
            "sha256", "pdq", "pdq_quality", "label").iterator(chunk_size=BATCH):
        if sha256:
            yield [HashType.SHA256, sha256, neutralise(label), ""]
        if pdq:
            yield [HashType.PDQ, pdq, neutralise(label), "" if quality is None else str(quality)]


class _Echo:
    def write(self, value: str) -> str:
        return value


def export_lines(bank: Bank) -> Iterator[str]:
    """The CSV text of ``bank``, a line at a time (for a streamed download)."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    for row in export_rows(bank):
        yield writer.writerow(row)


@transaction.atomic
def record_export(*, bank: Bank, actor: Actor, destination: str) -> None:
    """Log that the bank's hashes leave vangnet (to a file or a download); call before writing them."""
    record_event(actor=actor, subject=bank, event_type=BankEvent.EXPORTED,
                 data={"entries": bank.entries.count(), "version": bank.version, "destination": destination})


def export_bank_csv(*, bank: Bank, out: IO[str], actor: Actor, destination: str = "file") -> int:
    """Write ``bank`` as CSV to the text stream ``out`` (open it with ``newline=""``); the number of hash rows."""
    record_export(bank=bank, actor=actor, destination=destination)
    writer = csv.writer(out, lineterminator="\r\n")
    count = -1
    for row in export_rows(bank):
        writer.writerow(row)
        count += 1
    return count


# ---------------------------------------------------------------------------------------------
# Import


class _Reader:
    """Lines of a binary stream as text, checked one by one: UTF-8, not too long; tracks the line number."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.line = 0
        self.digest = hashlib.sha256()

    def __iter__(self) -> Iterator[str]:
        while True:
            raw = self.stream.readline(MAX_LINE_CHARS * 4 + 2)
            if not raw:
                return
            self.line += 1
            self.digest.update(raw)
            if self.line == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            if len(raw) > MAX_LINE_CHARS * 4 and not raw.endswith(b"\n"):
                raise BankImportError([_("Line %(line)s is longer than %(max)s characters.")
                                       % {"line": self.line, "max": MAX_LINE_CHARS}])
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise BankImportError([_("Line %(line)s is not UTF-8 text; save the file as \"CSV UTF-8\".")
                                       % {"line": self.line}]) from None
            if len(text) > MAX_LINE_CHARS + 2:
                raise BankImportError([_("Line %(line)s is longer than %(max)s characters.")
                                       % {"line": self.line, "max": MAX_LINE_CHARS}])
            yield text


def _label_problem(label: str) -> str | None:
    if len(label) > MAX_LABEL:
        return _("the label is longer than %(max)s characters") % {"max": MAX_LABEL}
    if any(unicodedata.category(c) in {"Cc", "Cs", "Co"} or c in _BIDI_CONTROLS for c in label):
        return _("the label contains control characters")
    return None


def _parse(cells: dict[str, str]) -> tuple[dict[str, Any] | None, list[str]]:
    problems = []
    hash_type = cells["hash_type"].strip().lower()
    value = cells["hash"].strip().lower()
    label = restore(cells.get("label", "")).strip()
    quality_text = cells.get("quality", "").strip()
    if hash_type not in HashType.values:
        problems.append(_("unknown hash type %(type)r (use sha256 or pdq)") % {"type": hash_type[:20]})
    if not HEX_64.fullmatch(value):
        problems.append(_("the hash must be 64 hexadecimal digits"))
    quality = None
    if quality_text:
        if hash_type != HashType.PDQ:
            problems.append(_("only a PDQ hash has a quality"))
        elif not quality_text.isascii() or not quality_text.isdigit() or not 0 <= int(quality_text) <= 100:
            problems.append(_("the quality must be a whole number from 0 to 100"))
        else:
            quality = int(quality_text)
    label_problem = _label_problem(label)
    if label_problem:
        problems.append(label_problem)
    if problems:
        return None, problems
    if hash_type == HashType.SHA256:
        return {"sha256": value, "label": label}, []
    return {"pdq": value, "pdq_quality": quality, "label": label}, []


def import_bank_csv(*, bank: Bank, stream: IO[bytes], actor: Actor, max_rows: int = MAX_ROWS) -> ImportSummary:
    """Add the hashes of a CSV file (a binary stream) to ``bank``: every row, or none.

    Raises ``BankImportError`` with what is wrong, each message naming its line.
    """
    reader = _Reader(stream)
    summary = ImportSummary()
    errors: list[str] = []
    with transaction.atomic():
        locked = Bank.objects.select_for_update().get(pk=bank.pk)
        before = locked.entries.count()
        bump_version(locked)
        try:
            rows = csv.reader(reader, strict=True)
            header = [h.strip().lower() for h in next(rows, [])]
            if not header or header == [""]:
                raise BankImportError([_("The file is empty.")])
            unknown = [h for h in header if h not in COLUMNS]
            if unknown or len(set(header)) != len(header) or any(c not in header for c in REQUIRED):
                raise BankImportError([_("Line 1: the header must name the columns %(columns)s "
                                         "(hash_type and hash are required), each once.")
                                       % {"columns": ", ".join(COLUMNS)}])
            pending: list[BankEntry] = []
            start = reader.line + 1
            for cells in rows:
                line, start = start, reader.line + 1  # a quoted label may span lines: name the first
                if reader.line > max_rows + 1:
                    raise BankImportError([_("The file has more than %(max)s rows.") % {"max": max_rows}])
                if not any(cell.strip() for cell in cells):
                    continue
                summary.rows += 1
                if len(cells) != len(header):
                    errors.append(_("Line %(line)s: %(found)s cells where the header has %(expected)s.")
                                  % {"line": line, "found": len(cells), "expected": len(header)})
                else:
                    fields, problems = _parse(dict(zip(header, cells, strict=True)))
                    if fields is None:
                        errors.append(_("Line %(line)s: %(problems)s.") % {"line": line,
                                                                         "problems": "; ".join(problems)})
                    elif not errors:
                        kind = HashType.SHA256 if "sha256" in fields else HashType.PDQ
                        summary.by_type[kind] = summary.by_type.get(kind, 0) + 1
                        pending.append(BankEntry(bank=locked, added_by=actor.label[:150], **fields))
                if len(errors) >= MAX_ERRORS:
                    errors.append(_("Stopped after %(count)s errors.") % {"count": MAX_ERRORS})
                    break
                if len(pending) >= BATCH:
                    BankEntry.objects.bulk_create(pending, ignore_conflicts=True)
                    pending = []
            if not errors:
                BankEntry.objects.bulk_create(pending, ignore_conflicts=True)
        except csv.Error as exc:
            errors.append(_("Line %(line)s: %(message)s") % {"line": reader.line, "message": exc})
        except BankImportError as exc:
            errors.extend(exc.errors)
        if errors:
            transaction.set_rollback(True)
            raise BankImportError(errors)
        summary.added = locked.entries.count() - before
        summary.already_present = summary.rows - summary.added
        summary.sha256 = reader.digest.hexdigest()
        record_event(actor=actor, subject=locked, event_type=BankEvent.IMPORTED,
                     data={"rows": summary.rows, "added": summary.added, "already_present": summary.already_present,
                           "by_type": summary.by_type, "file_sha256": summary.sha256})
    bank.version = locked.version
    return summary
