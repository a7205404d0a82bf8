"""Configuration from the environment, the production checks and the demo command."""

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from vangnet.accounts.models import ApiToken, Membership
from vangnet.accounts.services import hash_token
from vangnet.config.env import database_from_url, env_bool, env_str
from vangnet.intake.models import Report


def test_required_settings_fail_at_start(monkeypatch) -> None:
    monkeypatch.delenv("VANGNET_NOT_SET", raising=False)
    with pytest.raises(ImproperlyConfigured, match="VANGNET_NOT_SET"):
        env_str("VANGNET_NOT_SET")


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("0", False), ("Yes", True), ("off", False)])
def test_booleans(monkeypatch, value, expected) -> None:
    monkeypatch.setenv("VANGNET_FLAG", value)
    assert env_bool("VANGNET_FLAG") is expected


def test_a_bad_boolean_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("VANGNET_FLAG", "perhaps")
    with pytest.raises(ImproperlyConfigured):
        env_bool("VANGNET_FLAG")


def test_database_urls() -> None:
    pg = database_from_url("postgres://user:p%40ss@db.example:5433/vangnet")
    assert (pg["ENGINE"], pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "django.db.backends.postgresql", "user", "p@ss", "db.example", "5433", "vangnet")
    assert database_from_url("sqlite:////var/lib/vangnet/db.sqlite3")["NAME"] == "/var/lib/vangnet/db.sqlite3"
    with pytest.raises(ImproperlyConfigured):
        database_from_url("mysql://x/y")


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VANGNET_", "DJANGO_"))}
    return subprocess.run([sys.executable, "-m", "vangnet.cli", *args], capture_output=True, text=True,
                          env={**clean, **env}, timeout=120)


def test_production_settings_pass_the_deployment_checks(tmp_path) -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_SETTINGS_MODULE="vangnet.config.prod",
                     VANGNET_SECRET_KEY="x" * 20 + "-production-secret-key-that-is-long-enough-0123456789",
                     VANGNET_ALLOWED_HOSTS="vangnet.example", VANGNET_DATA_DIR=str(tmp_path),
                     VANGNET_FIELD_ENCRYPTION_KEYS="ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg=",
                     VANGNET_URL_HASH_KEYS="production-url-hash-key-0123456789abcdef",
                     VANGNET_EVIDENCE_KEYS="AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path) -> None:
    result = _manage("check", DJANGO_SETTINGS_MODULE="vangnet.config.prod", VANGNET_DATA_DIR=str(tmp_path))
    assert result.returncode != 0 and "VANGNET_SECRET_KEY" in result.stderr


def test_production_settings_refuse_to_start_without_encryption_keys(tmp_path) -> None:
    result = _manage("check", DJANGO_SETTINGS_MODULE="vangnet.config.prod", VANGNET_DATA_DIR=str(tmp_path),
                     VANGNET_SECRET_KEY="y" * 60)
    assert result.returncode != 0 and "VANGNET_FIELD_ENCRYPTION_KEYS" in result.stderr


def test_debug_is_off_unless_asked() -> None:
    from django.conf import settings

    assert settings.DEBUG is False


@pytest.mark.django_db
def test_demo_data_is_loaded_once_with_the_given_token(monkeypatch) -> None:
    monkeypatch.setenv("VANGNET_DEMO_API_TOKEN", "demo-token-for-the-test-0123456789")
    out = StringIO()
    call_command("demo", stdout=out)
    call_command("demo", stdout=StringIO())
    assert ApiToken.objects.filter(token_hash=hash_token("demo-token-for-the-test-0123456789")).count() == 1
    assert Report.objects.count() == 4, "sample reports are made once"
    from vangnet.evidence.models import EvidenceItem

    kept = EvidenceItem.objects.exclude(storage_name="")
    assert sorted(kept.values_list("kind", flat=True)) == ["image", "text"]
    assert EvidenceItem.objects.filter(storage_name="", discarded_reason__contains="minor").count() == 1
    assert Membership.objects.filter(user__username="caseowner", role="case_owner").exists()
    assert "vangnet-demo-2026" in out.getvalue() and "demo-token-for-the-test-0123456789" in out.getvalue()
    # The demo platform: its staff, one key (shown on the first run only), a policy, checked posts in review.
    from vangnet.moderation import keys
    from vangnet.moderation.models import Item, PlatformKey, Policy, ReviewTask

    assert Membership.objects.filter(user__username="policymanager", role="policy_manager").exists()
    [key] = PlatformKey.objects.filter(organisation__slug="demo-platform")
    printed = [line.split(": ")[1] for line in out.getvalue().splitlines() if line.startswith("Platform key")]
    assert keys.authenticate(printed[0]) == key
    assert Policy.objects.get(organisation__slug="demo-platform").version == 1
    assert Item.objects.filter(organisation__slug="demo-platform").count() == 7
    assert ReviewTask.objects.filter(organisation__slug="demo-platform").count() >= 2


@pytest.mark.django_db
def test_any_demo_token_the_caller_chooses_works(client, monkeypatch) -> None:
    monkeypatch.setenv("VANGNET_DEMO_API_TOKEN", "short")
    call_command("demo", stdout=StringIO(), stderr=StringIO())
    response = client.post("/api/v1/reports", data="{}", content_type="application/json",
                           HTTP_AUTHORIZATION="Bearer short")
    assert response.status_code == 400, "the token is accepted; the empty body is not"


def test_the_embedded_default_writes_mail_where_a_tester_can_read_it(tmp_path) -> None:
    send = ("from django.core.mail import send_mail; "
            "send_mail('Ontvangst', 'Je code: VN-TEST-CODE', None, ['a@b.example'])")
    result = _manage("shell", "-c", send, DJANGO_SETTINGS_MODULE="vangnet.config.dev", VANGNET_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    files = list((tmp_path / "mail").iterdir())
    assert len(files) == 1 and b"VN-TEST-CODE" in files[0].read_bytes()


def test_an_smtp_host_in_the_environment_sends_over_smtp_again(tmp_path) -> None:
    show = "from django.conf import settings; print(settings.MAILERS['default']['BACKEND'])"
    result = _manage("shell", "-c", show, DJANGO_SETTINGS_MODULE="vangnet.config.dev", VANGNET_DATA_DIR=str(tmp_path),
                     VANGNET_EMAIL_HOST="127.0.0.1")
    assert result.stdout.strip().splitlines()[-1] == "django.core.mail.backends.smtp.EmailBackend"


def test_days_by_name_override_some_defaults_and_refuse_typing_errors(monkeypatch) -> None:
    from vangnet.config.env import env_days_by_name

    defaults = {"image": 180, "text": 365}
    monkeypatch.delenv("VANGNET_DAYS", raising=False)
    assert env_days_by_name("VANGNET_DAYS", defaults) == defaults
    monkeypatch.setenv("VANGNET_DAYS", " image = 90 ,")
    assert env_days_by_name("VANGNET_DAYS", defaults) == {"image": 90, "text": 365}
    assert defaults == {"image": 180, "text": 365}, "the defaults are not changed"
    for bad in ("imag=90", "image", "image=ninety", "image=0", "image=-5"):
        monkeypatch.setenv("VANGNET_DAYS", bad)
        with pytest.raises(ImproperlyConfigured, match="VANGNET_DAYS"):
            env_days_by_name("VANGNET_DAYS", defaults)


@pytest.mark.django_db
def test_every_model_change_has_its_migration() -> None:
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out)
    except SystemExit as exit_:
        pytest.fail(f"a model changed without a migration:\n{out.getvalue()} (exit {exit_.code})")
