"""How a notice reaches a provider: pluggable channels with stable names ("email", "webform", API ones).

A channel's ``send`` either returns (the provider has it), raises ``NotDelivered`` (certainly not
delivered: try again later) or raises ``MaybeDelivered`` (the connection broke while handing it
over: the outbox never retries that by itself). Every channel passes the same contract test
(``tests/test_channels.py``).

Around one worker's run of sends the outbox enters each channel's ``batch()``: a channel may
keep its connection open across the run (e-mail: one SMTP connection for many notices
instead of one each). The outbox still claims and marks every delivery on its own, so what a
crash leaves behind is the same: at most the one notice in flight is uncertain.
"""

from __future__ import annotations

import smtplib
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, mailers

from .models import Delivery, Notice


class NotDelivered(Exception):
    """Nothing reached the provider (no connection, refused before the message was handed over)."""


class MaybeDelivered(Exception):
    """The hand-over broke off: the provider may or may not have the notice."""


@dataclass(frozen=True)
class Sent:
    message_id: str = ""


class Channel(ABC):
    """One way of handing a notice over. ``automatic`` channels are worked by the outbox."""

    name: str
    automatic: bool = True

    @abstractmethod
    def send(self, notice: Notice, delivery: Delivery) -> Sent:
        """Hand ``notice`` over; ``delivery.message_id`` is the identifier to use (unique per delivery)."""

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Around a run of ``send`` calls in this thread: a channel may keep a connection open until it ends."""
        yield


class EmailChannel(Channel):
    """SMTP to the provider's DSA point of contact; the reference is in the subject and the Message-ID.

    Within a ``batch`` one connection carries up to ``MESSAGES_PER_CONNECTION`` notices (mail
    servers limit messages per connection); before each reuse a NOOP checks it still answers, so
    a connection the server dropped while idle is replaced rather than making a notice uncertain.
    Any failure closes it: the next notice starts on a fresh one.
    """

    name = "email"
    MESSAGES_PER_CONNECTION = 100

    def __init__(self) -> None:
        self._batch = threading.local()

    @contextmanager
    def batch(self) -> Iterator[None]:
        self._batch.active, self._batch.connection, self._batch.used = True, None, 0
        try:
            yield
        finally:
            self._batch.active = False
            self._drop()

    def _drop(self) -> None:
        connection, self._batch.connection = getattr(self._batch, "connection", None), None
        if connection is not None:
            self._close(connection)

    @staticmethod
    def _close(connection: Any) -> None:
        try:
            connection.close()
        except (OSError, smtplib.SMTPException):
            pass

    def _connection(self) -> Any:
        """The batch's connection while it answers and has room, else a new one (``NotDelivered`` if none)."""
        held = getattr(self._batch, "connection", None)
        if held is not None:
            try:
                if self._batch.used < self.MESSAGES_PER_CONNECTION and held.connection.noop()[0] == 250:
                    self._batch.used += 1
                    return held
            except (OSError, smtplib.SMTPException):
                pass
            self._drop()
        connection = mailers.default
        try:
            connection.open()
        except (OSError, smtplib.SMTPException) as exc:
            raise NotDelivered(f"the mail server could not be reached ({exc.__class__.__name__})") from exc
        if getattr(self._batch, "active", False):
            self._batch.connection, self._batch.used = connection, 1
        return connection

    def send(self, notice: Notice, delivery: Delivery) -> Sent:
        if not notice.provider.contact_email:  # removed after queuing: Django's mailer would send nothing, silently
            raise NotDelivered("the provider has no e-mail address for notices any more")
        message = EmailMessage(subject=notice.subject, body=notice.body, to=[notice.provider.contact_email],
                               from_email=settings.DEFAULT_FROM_EMAIL, reply_to=[notice.notifier_email],
                               headers={"Message-ID": delivery.message_id, "X-Vangnet-Notice": notice.reference})
        connection = self._connection()
        try:
            if connection.send_messages([message]) != 1:
                raise NotDelivered("the mail server took no message")
        except smtplib.SMTPResponseException as exc:  # the server answered "no": it did not take the message
            self._forget(connection)
            raise NotDelivered(f"the mail server refused the message ({exc.smtp_code})") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            self._forget(connection)
            raise NotDelivered("the mail server refused the address") from exc
        except (OSError, smtplib.SMTPException) as exc:
            self._forget(connection)
            raise MaybeDelivered(f"the connection broke while sending ({exc.__class__.__name__})") from exc
        except BaseException:
            self._forget(connection)
            raise
        if connection is not getattr(self._batch, "connection", None):
            self._close(connection)  # outside a batch: a connection per notice
        return Sent(message_id=delivery.message_id)

    def _forget(self, connection: Any) -> None:
        """After a failure the connection is closed, whether or not the batch held it."""
        if connection is getattr(self._batch, "connection", None):
            self._drop()
        else:
            self._close(connection)


class WebFormChannel(Channel):
    """Providers that take notices only in a form on their site: the handler pastes the text and confirms."""

    name = "webform"
    automatic = False

    def send(self, notice: Notice, delivery: Delivery) -> Sent:
        raise NotDelivered("a web form is filled in by hand")


class JsonApiChannel(Channel):
    """A provider's notice API that takes one JSON document per notice (``provider.api_endpoint``).

    The document carries the Art. 16 elements as fields and the full text; the provider's
    answer must be a 2xx. A provider with another format gets its own channel class under its
    own stable name (``register``). The endpoint is an administrator's setting, not a user's.
    """

    name = "json_api"
    timeout = 30.0

    def payload(self, notice: Notice, delivery: Delivery) -> dict[str, object]:
        return {"reference": notice.reference, "message_id": delivery.message_id, "language": notice.language,
                "urls": [u.url for u in notice.urls.all()], "explanation": notice.explanation,
                "legal_grounds": [g.citation for g in notice.legal_grounds.all()],
                "notifier": {"name": notice.notifier_name, "email": notice.notifier_email},
                "trusted_flagger": notice.trusted_flagger, "good_faith": True, "subject": notice.subject,
                "text": notice.body}

    def send(self, notice: Notice, delivery: Delivery) -> Sent:
        import json

        import urllib3

        endpoint = notice.provider.api_endpoint
        if not endpoint:
            raise NotDelivered("the provider has no API endpoint")
        http = urllib3.PoolManager(retries=False, timeout=urllib3.Timeout(connect=10.0, read=self.timeout))
        try:
            response = http.request("POST", endpoint, body=json.dumps(self.payload(notice, delivery)).encode(),
                                    headers={"Content-Type": "application/json",
                                             "Idempotency-Key": delivery.message_id}, redirect=False)
        except (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError) as exc:
            raise NotDelivered("the provider's API could not be reached") from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise MaybeDelivered(f"the connection broke while sending ({exc.__class__.__name__})") from exc
        if not 200 <= response.status < 300:
            raise NotDelivered(f"the provider's API answered {response.status}")
        return Sent(message_id=delivery.message_id)


CHANNELS: dict[str, Channel] = {channel.name: channel
                                for channel in (EmailChannel(), WebFormChannel(), JsonApiChannel())}


def register(channel: Channel) -> Channel:
    """Add an API channel under its stable name (a provider's ``api_channel`` names it)."""
    if channel.name in CHANNELS:
        raise ValueError(f"A notice channel called {channel.name!r} exists already.")
    CHANNELS[channel.name] = channel
    return channel
