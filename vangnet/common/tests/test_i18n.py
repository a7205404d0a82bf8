"""The Dutch catalogue must be complete and match the code: CI fails on stale messages."""

import shutil
import subprocess
from pathlib import Path

import polib
import pytest

PACKAGE = Path(__file__).resolve().parents[2]
PO = PACKAGE / "locale" / "nl" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def test_every_message_is_translated() -> None:
    catalogue = polib.pofile(str(PO))
    assert catalogue.untranslated_entries() == []
    assert catalogue.fuzzy_entries() == []


def _entry(e: polib.POEntry | polib.MOEntry) -> tuple[tuple[str, str], tuple[str, tuple[tuple[int, str], ...]]]:
    """An entry by context and text, with its translation and plural forms (the same text can have two contexts)."""
    plural = tuple(sorted((int(form), text) for form, text in e.msgstr_plural.items()))
    return (e.msgctxt or "", e.msgid), (e.msgstr, plural)


def test_the_compiled_catalogue_matches_the_source() -> None:
    source = dict(_entry(e) for e in polib.pofile(str(PO)) if e.translated())
    compiled = dict(_entry(e) for e in polib.mofile(str(MO)) if e.msgid)
    assert compiled == source, "run scripts/i18n/update"


def test_the_catalogue_is_not_stale(tmp_path: Path) -> None:
    if shutil.which("xgettext") is None:
        pytest.fail("gettext is not installed (apt-get install gettext)")
    copy = tmp_path / "vangnet"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "tests", "*.mo"))
    subprocess.run(["django-admin", "makemessages", "-l", "nl", "--no-location", "--no-obsolete", "-i", "tests/*"],
                   cwd=copy, check=True, capture_output=True,
                   env={"DJANGO_SETTINGS_MODULE": "vangnet.config.test",
                        "PATH": str(Path(shutil.which("django-admin")).parent) + ":/usr/bin:/bin"})
    fresh = {e.msgid for e in polib.pofile(str(copy / "locale" / "nl" / "LC_MESSAGES" / "django.po"))}
    committed = {e.msgid for e in polib.pofile(str(PO))}
    assert fresh == committed, f"new: {sorted(fresh - committed)}; gone: {sorted(committed - fresh)}"
