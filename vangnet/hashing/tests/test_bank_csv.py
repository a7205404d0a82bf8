"""Banks as CSV: an export imports back unchanged, a bad row names its line and imports nothing, hostile files
(huge lines, too many rows, wrong encoding, formulas, control characters) are refused or neutralised."""

from __future__ import annotations

import csv
import io
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.hashing import services
from vangnet.hashing.bank_csv import BankImportError, export_bank_csv, import_bank_csv
from vangnet.hashing.choices import BankEvent
from vangnet.hashing.models import Bank, BankEntry

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")
SHA = "a" * 64
PDQ = "0f" * 32


def csv_bytes(*rows: list[str], header: list[str] | None = None, bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header or ["hash_type", "hash", "label", "quality"])
    writer.writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode()


def do_import(bank: Bank, data: bytes, **kwargs: object):  # type: ignore[no-untyped-def]
    return import_bank_csv(bank=bank, stream=io.BytesIO(data), actor=SYSTEM, **kwargs)  # type: ignore[arg-type]


def exported(bank: Bank) -> str:
    out = io.StringIO(newline="")
    export_bank_csv(bank=bank, out=out, actor=SYSTEM)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _english():  # type: ignore[no-untyped-def]
    with translation.override("en"):
        yield


@pytest.fixture
def bank(helpline) -> Bank:
    return services.create_bank(slug="partner", name="From a partner", organisation=helpline, actor=SYSTEM)


@pytest.fixture
def other_bank(helpline) -> Bank:
    return services.create_bank(slug="copy", name="Copy", organisation=helpline, actor=SYSTEM)


def test_an_export_imports_back_unchanged_with_formulas_neutralised(bank, other_bank) -> None:
    services.add_entry(bank=bank, sha256=SHA, pdq=PDQ, pdq_quality=87, label="=HYPERLINK(\"http://evil.test\")",
                       actor=SYSTEM)
    services.add_entry(bank=bank, pdq="1" * 64, label="+31 6 1234", actor=SYSTEM)
    services.add_entry(bank=bank, sha256="b" * 64, label="'quoted already", actor=SYSTEM)
    services.add_entry(bank=bank, sha256="c" * 64, label="plain, with \"quotes\" and a comma", actor=SYSTEM)
    text = exported(bank)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["hash_type", "hash", "label", "quality"]
    assert rows[1:] == [
        ["sha256", SHA, "'=HYPERLINK(\"http://evil.test\")", ""],
        ["pdq", PDQ, "'=HYPERLINK(\"http://evil.test\")", "87"],
        ["pdq", "1" * 64, "'+31 6 1234", ""],
        ["sha256", "b" * 64, "''quoted already", ""],
        ["sha256", "c" * 64, "plain, with \"quotes\" and a comma", ""],
    ]
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    summary = do_import(other_bank, text.encode())
    assert (summary.rows, summary.added, summary.already_present) == (5, 5, 0)
    assert exported(other_bank) == text
    assert set(other_bank.entries.values_list("label", flat=True)) == {
        "=HYPERLINK(\"http://evil.test\")", "+31 6 1234", "'quoted already", "plain, with \"quotes\" and a comma"}
    assert other_bank.entries.get(pdq=PDQ).pdq_quality == 87
    event = Event.objects.get(event_type=BankEvent.IMPORTED)
    assert event.subject_id == str(other_bank.pk) and event.data["added"] == 5 and len(event.data["file_sha256"]) == 64
    assert Event.objects.filter(event_type=BankEvent.EXPORTED, subject_id=str(bank.pk)).count() == 1


def test_known_and_repeated_hashes_are_skipped_and_counted(bank) -> None:
    services.add_entry(bank=bank, sha256=SHA, actor=SYSTEM)
    version = Bank.objects.get(pk=bank.pk).version
    summary = do_import(bank, csv_bytes(["sha256", SHA.upper(), "again", ""], ["PDQ", PDQ, "", "50"],
                                        ["pdq", PDQ, "twice", ""], [" ", "", "", ""], bom=True))
    assert (summary.rows, summary.added, summary.already_present) == (3, 1, 2)
    assert bank.entries.count() == 2 and Bank.objects.get(pk=bank.pk).version > version


@pytest.mark.parametrize(("rows", "message"), [
    ([["md5", SHA, "", ""]], "Line 3: unknown hash type 'md5'"),
    ([["sha256", "a" * 63, "", ""]], "Line 3: the hash must be 64 hexadecimal digits."),
    ([["sha256", "g" * 64, "", ""]], "Line 3: the hash must be 64 hexadecimal digits."),
    ([["sha256", SHA, "", "80"]], "Line 3: only a PDQ hash has a quality."),
    ([["pdq", PDQ, "", "101"]], "Line 3: the quality must be a whole number from 0 to 100."),
    ([["pdq", PDQ, "", "５０"]], "Line 3: the quality must be a whole number from 0 to 100."),
    ([["pdq", PDQ, "x" * 201, ""]], "Line 3: the label is longer than 200 characters."),
    ([["pdq", PDQ, "bell\x07", ""]], "Line 3: the label contains control characters."),
    ([["pdq", PDQ, "evil\u202egnp.exe", ""]], "Line 3: the label contains control characters."),
    ([["pdq", PDQ, ""]], "Line 3: 3 cells where the header has 4."),
])
def test_a_bad_row_names_its_line_and_nothing_is_imported(bank, rows, message) -> None:
    data = csv_bytes(["sha256", "d" * 64, "fine", ""], *rows)
    with pytest.raises(BankImportError) as raised:
        do_import(bank, data)
    assert any(error.startswith(message) for error in raised.value.errors), raised.value.errors
    assert not bank.entries.exists() and not Event.objects.filter(event_type=BankEvent.IMPORTED).exists()


def test_every_bad_line_is_named_even_after_a_label_over_two_lines(bank) -> None:
    data = (b"hash_type,hash,label,quality\r\n" + b"sha256," + b"d" * 64 + b",\"two\nlines\",\r\n"
            + b"sha256,xyz,,\r\n" + b"pdq," + PDQ.encode() + b",,abc\r\n")
    with pytest.raises(BankImportError) as raised:
        do_import(bank, data)
    assert raised.value.errors == ["Line 2: the label contains control characters.",
                                   "Line 4: the hash must be 64 hexadecimal digits.",
                                   "Line 5: the quality must be a whole number from 0 to 100."]


@pytest.mark.parametrize(("data", "message"), [
    (b"", "The file is empty."),
    (b"hash,label\r\n", "Line 1: the header must name the columns"),
    (b"hash_type,hash,hash\r\n", "Line 1: the header must name the columns"),
    (b"hash_type,hash,label,quality\r\nsha256," + SHA.encode() + b",caf\xe9,\r\n", "Line 2 is not UTF-8 text"),
    ("hash_type,hash,label,quality\r\nsha256,{},Zoë,\r\n".format(SHA).encode("utf-16"), "Line 1 is not UTF-8 text"),
    (b"hash_type,hash,label,quality\r\nsha256," + SHA.encode() + b"," + b"A" * 100_000 + b",\r\n",
     "Line 2 is longer than 4096 characters."),
    (b"hash_type,hash,label,quality\r\nsha256," + SHA.encode() + b",\"unclosed\r\n", "Line 2: unexpected end of data"),
])
def test_hostile_files_are_refused_with_a_clear_error(bank, data, message) -> None:
    with pytest.raises(BankImportError) as raised:
        do_import(bank, data)
    assert raised.value.errors[0].startswith(message), raised.value.errors
    assert not bank.entries.exists()


def test_too_many_rows_or_errors_stop_the_import(bank) -> None:
    rows = [["sha256", f"{n:064x}", "", ""] for n in range(30)]
    with pytest.raises(BankImportError) as raised:
        do_import(bank, csv_bytes(*rows), max_rows=20)
    assert raised.value.errors == ["The file has more than 20 rows."]
    bad = [["sha256", "x", "", ""]] * 200
    with pytest.raises(BankImportError) as raised:
        do_import(bank, csv_bytes(*bad))
    assert len(raised.value.errors) == 51 and raised.value.errors[-1] == "Stopped after 50 errors."
    assert not bank.entries.exists()


def test_a_large_import_goes_in_batches(bank) -> None:
    rows = [["pdq" if n % 2 else "sha256", f"{n:064x}", f"item {n}", "60" if n % 2 else ""] for n in range(12_001)]
    summary = do_import(bank, csv_bytes(*rows))
    assert summary.added == 12_001 and summary.by_type == {"sha256": 6001, "pdq": 6000}
    assert bank.entries.count() == 12_001


def test_the_commands_export_and_import_a_bank(bank, other_bank, tmp_path) -> None:
    services.add_entry(bank=bank, sha256=SHA, pdq=PDQ, pdq_quality=70, label="@SUM(A1)", actor=SYSTEM)
    path = tmp_path / "bank.csv"
    call_command("bank_export", "partner", str(path))
    assert path.read_text().splitlines()[1] == f"sha256,{SHA},'@SUM(A1),"
    out = io.StringIO()
    call_command("bank_import", "copy", str(path), stdout=out)
    assert "2 rows, 2 added" in out.getvalue()
    assert set(BankEntry.objects.filter(bank=other_bank).values_list("pdq_quality", flat=True)) == {None, 70}
    path.write_bytes(csv_bytes(["sha256", "nope", "", ""]))
    with pytest.raises(CommandError, match="Nothing was imported:\nLine 2: the hash must be"):
        call_command("bank_import", "copy", str(path))
    with pytest.raises(CommandError, match="No hash bank"):
        call_command("bank_export", "missing", str(path))


def test_the_commands_read_stdin_and_write_stdout(bank, monkeypatch, capsys) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(csv_bytes(["sha256", SHA, "from stdin", ""]))))
    call_command("bank_import", "partner", "-")
    assert bank.entries.get().label == "from stdin"
    capsys.readouterr()
    call_command("bank_export", "partner", "-")
    assert capsys.readouterr().out.splitlines() == ["hash_type,hash,label,quality", f"sha256,{SHA},from stdin,"]
