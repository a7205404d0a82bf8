"""Shared test fixtures: organisations, staff in every role, a partner token, a real SMTP server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command

from vangnet.accounts.choices import Role
from vangnet.accounts.models import Membership, Organisation
from vangnet.accounts.services import create_api_token
from vangnet.audit.services import Actor
from vangnet.intake.choices import Channel
from vangnet.intake.forms import ReportForm
from vangnet.intake.services import SubmittedReport, submit_report

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    from django.core.cache import cache

    from vangnet.common import refcache

    cache.clear()
    refcache.clear()
    yield
    cache.clear()
    refcache.clear()


@pytest.fixture(autouse=True)
def evidence_folder(settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Every test stores evidence in a folder of its own, never in the project's var/."""
    folder = tmp_path_factory.mktemp("evidence")
    settings.STORAGES = {**settings.STORAGES, "evidence": {
        "BACKEND": "vangnet.evidence.storage.DurableFileSystemStorage", "OPTIONS": {"location": str(folder)}}}
    return folder


@pytest.fixture
def helpline(db: Any) -> Organisation:
    return Organisation.objects.get(slug="vangnet-helpline")


@pytest.fixture
def other_org(db: Any) -> Organisation:
    return Organisation.objects.create(slug="other-org", name="Other organisation")


@pytest.fixture
def make_staff(db: Any, django_user_model: Any) -> Any:
    def make(username: str, organisation: Organisation, role: str = Role.HANDLER) -> Any:
        user = django_user_model.objects.create_user(username=username, password=PASSWORD)
        Membership.objects.create(user=user, organisation=organisation, role=role)
        return user

    return make


@pytest.fixture
def supervisor(make_staff: Any, helpline: Organisation) -> Any:
    return make_staff("sanne", helpline, Role.SUPERVISOR)


@pytest.fixture
def case_owner(make_staff: Any, helpline: Organisation) -> Any:
    return make_staff("carla", helpline, Role.CASE_OWNER)


@pytest.fixture
def handler(make_staff: Any, helpline: Organisation) -> Any:
    return make_staff("hans", helpline, Role.HANDLER)


@pytest.fixture
def outsider(make_staff: Any, other_org: Organisation) -> Any:
    return make_staff("olga", other_org, Role.ADMIN)


@pytest.fixture
def api_token(db: Any, helpline: Organisation) -> str:
    _token, plain = create_api_token(organisation=helpline, name="test", actor=Actor.system())
    return plain


def report_payload(**overrides: Any) -> dict[str, Any]:
    """A valid report as the web form would post it; override any field."""
    data: dict[str, Any] = {
        "immediate_danger": "no", "reporter_role": "victim", "forms": ["non-consensual-intimate-images"],
        "description": "My ex shared a photo of me.", "urls": "https://example.com/photo/1",
        "platform": "Instagram", "age_band": "18_plus", "relationship": "ex_partner",
        "perpetrator_count": "one", "duration": "weeks", "contact_preference": "none",
        "contact_email": "", "contact_phone": "", "consent_processing": True, "share_with": "helpwanted",
    }
    data.update(overrides)
    return data


@pytest.fixture
def submit(db: Any, helpline: Organisation) -> Any:
    """Validate and submit a report like the web flow does; returns the SubmittedReport."""

    def do(organisation: Organisation | None = None, language: str = "nl", **overrides: Any) -> SubmittedReport:
        form = ReportForm(data=report_payload(**overrides))
        assert form.is_valid(), form.errors
        return submit_report(data=form.cleaned_data, organisation=organisation or helpline, channel=Channel.WEB,
                             actor=Actor.reporter(), language=language)

    return do


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        import email

        message = email.message_from_bytes(envelope.content)
        body = message.get_payload(decode=True).decode() if not message.is_multipart() else ""
        self.messages.append({"to": envelope.rcpt_tos, "subject": str(message["Subject"]), "body": body})
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_inbox(settings: Any) -> Iterator[_Inbox]:
    """A real SMTP server on loopback; Django's SMTP backend sends to it."""
    inbox = _Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10}}}
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def run_worker(db: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Run the real django.tasks database worker until the queue is empty.

    The worker closes "old" connections between tasks; inside a test's transaction that
    would close the test's own connection, so only that housekeeping is switched off.
    """
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)

    def run() -> None:
        call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)

    return run
