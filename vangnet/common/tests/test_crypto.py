import pytest
from cryptography.fernet import Fernet
from django.db import connection

from vangnet.common.crypto import PREFIX, decrypt, encrypt

pytestmark = pytest.mark.django_db


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - fixed names
        return cursor.fetchone()[0]


def test_personal_text_is_encrypted_in_the_database(submit) -> None:
    report = submit(description="Mijn ex deelde een foto.", contact_preference="email",
                    contact_email="her@example.org").report
    for column, plain in [("description", "Mijn ex deelde een foto."), ("contact_email", "her@example.org")]:
        raw = _raw("intake_report", column, report.pk)
        assert raw.startswith(PREFIX) and plain not in raw
    report.refresh_from_db()
    assert report.description == "Mijn ex deelde een foto." and report.contact_email == "her@example.org"
    url = report.urls.get()
    assert "example.com" not in _raw("intake_reportedurl", "url", url.pk) and url.url == "https://example.com/photo/1"


def test_empty_text_stays_empty(submit) -> None:
    report = submit(description="", platform="").report
    assert _raw("intake_report", "description", report.pk) == ""


def test_keys_can_be_rotated(settings) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.VANGNET_FIELD_ENCRYPTION_KEYS = [old]
    stored = encrypt("secret story")
    settings.VANGNET_FIELD_ENCRYPTION_KEYS = [new, old]
    assert decrypt(stored) == "secret story"
    assert decrypt(encrypt("next")) == "next"
    settings.VANGNET_FIELD_ENCRYPTION_KEYS = [new]
    with pytest.raises(ValueError, match="cannot be decrypted"):
        decrypt(stored)


def test_a_half_finished_report_is_encrypted_in_the_session_table(client) -> None:
    from django.contrib.sessions.models import Session

    client.post("/nl/report/", {"report_wizard-current_step": "danger", "danger-immediate_danger": "no"})
    client.post("/nl/report/", {"report_wizard-current_step": "who", "who-reporter_role": "victim"})
    client.post("/nl/report/", {"report_wizard-current_step": "what", "what-forms": ["doxing"],
                                "what-description": "He posted my address on a forum."})
    from django.contrib.sessions.backends.db import SessionStore as PlainStore

    from vangnet.common.sessions import SessionStore

    stored = Session.objects.get().session_data
    assert stored.startswith(PREFIX)
    assert PlainStore().decode(stored) == {}, "without the key the session says nothing"
    assert "He posted my address on a forum." in str(SessionStore().decode(stored))
    page = client.get("/nl/report/").content.decode()
    assert 'value="where"' in page, "the encrypted session still carries her answers"
