"""The normalised-URL hash is keyed (HMAC-SHA256), rotatable, and re-keyed by a command and a migration."""

from __future__ import annotations

import hashlib
import importlib
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from vangnet.cases.models import Case
from vangnet.common.crypto import keyed_hash, url_hash_keys
from vangnet.intake.models import ReportedUrl
from vangnet.intake.normalization import check_url
from vangnet.intake.services import rehash_urls

KEY_A = "known-answer-test-key-0123456789abcdef"
KEY_B = "the-next-url-hash-key-after-rotation-0123"
URL = "https://example.com/photo/1"


def _plain(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_known_answer(settings) -> None:
    """Pins the stored format: HMAC-SHA256 of the normal form, as 64 lower-case hex digits."""
    settings.VANGNET_URL_HASH_KEYS = [KEY_A]
    checked = check_url("http://www.Example.com/a/b/")
    assert checked.normalized == "https://example.com/a/b"
    assert checked.digest == "9b96016f28d573e7046b5a84ec793b80e92b4490deecdb83d3cd4f39749abdd4"
    assert checked.digest != _plain(checked.normalized)


def test_without_keys_one_is_derived_from_the_secret_key(settings) -> None:
    settings.VANGNET_URL_HASH_KEYS = []
    first = check_url(URL).digest
    assert first != _plain("https://example.com/photo/1") and len(first) == 64
    settings.SECRET_KEY = "another-secret-key-for-this-test-0123456789"
    assert check_url(URL).digest != first


def test_lookups_try_every_key_the_current_one_first(settings) -> None:
    settings.VANGNET_URL_HASH_KEYS = [KEY_B, KEY_A]
    checked = check_url(URL)
    assert checked.digests == [keyed_hash(checked.normalized, KEY_B.encode()),
                               keyed_hash(checked.normalized, KEY_A.encode())]
    assert checked.digest == checked.digests[0]


def test_short_keys_are_refused(settings) -> None:
    settings.VANGNET_URL_HASH_KEYS = ["short"]
    with pytest.raises(ImproperlyConfigured, match="VANGNET_URL_HASH_KEYS"):
        url_hash_keys()


@pytest.mark.django_db
def test_after_a_key_rotation_reports_still_meet_and_the_command_re_keys(submit, settings) -> None:
    settings.VANGNET_URL_HASH_KEYS = [KEY_A]
    first = submit(urls=URL).report
    settings.VANGNET_URL_HASH_KEYS = [KEY_B, KEY_A]
    second = submit(urls="http://www.example.com/photo/1/").report
    assert second.case_id == first.case_id, "found through the old key's digest"
    normalized = check_url(URL).normalized
    assert first.urls.get().normalized_hash == keyed_hash(normalized, KEY_A.encode())
    assert second.urls.get().normalized_hash == keyed_hash(normalized, KEY_B.encode()), "new rows use the new key"

    out = StringIO()
    call_command("rehash_urls", stdout=out)
    assert "Re-keyed 1 URL hash(es)." in out.getvalue()
    assert set(ReportedUrl.objects.values_list("normalized_hash", flat=True)) == {
        keyed_hash(normalized, KEY_B.encode())}
    assert rehash_urls() == 0, "nothing left to re-key"

    settings.VANGNET_URL_HASH_KEYS = [KEY_B]  # the old key is gone
    third = submit(urls=URL).report
    assert third.case_id == first.case_id and Case.objects.count() == 1


@pytest.mark.django_db
def test_the_data_migration_re_keys_plain_hashes_and_back(submit, settings) -> None:
    settings.VANGNET_URL_HASH_KEYS = [KEY_A]
    url = submit(urls=URL).report.urls.get()
    normalized = url.normalized
    ReportedUrl.objects.update(normalized_hash=_plain(normalized))  # as stored before the migration
    migration = importlib.import_module("vangnet.intake.migrations.0008_keyed_url_hashes")
    migration.keyed(apps, None)
    url.refresh_from_db()
    assert url.normalized_hash == keyed_hash(normalized, KEY_A.encode())
    migration.plain(apps, None)
    url.refresh_from_db()
    assert url.normalized_hash == _plain(normalized)


def test_production_settings_refuse_to_start_without_url_hash_keys(tmp_path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VANGNET_", "DJANGO_"))}
    result = subprocess.run(
        [sys.executable, "-m", "vangnet.cli", "check"], capture_output=True, text=True, timeout=120,
        env={**clean, "DJANGO_SETTINGS_MODULE": "vangnet.config.prod", "VANGNET_DATA_DIR": str(tmp_path),
             "VANGNET_SECRET_KEY": "y" * 60,
             "VANGNET_FIELD_ENCRYPTION_KEYS": "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg="})
    assert result.returncode != 0 and "VANGNET_URL_HASH_KEYS" in result.stderr
