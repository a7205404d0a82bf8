"""Sending plain-text e-mail in the recipient's language from templates."""

from __future__ import annotations

from typing import Any

from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.utils import translation


def send_templated(*, to: str, template: str, context: dict[str, Any], language: str = "nl") -> None:
    """Render ``<template>_subject.txt`` and ``<template>_body.txt`` and send them over SMTP."""
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        body = render_to_string(f"{template}_body.txt", context)
    EmailMessage(subject=subject, body=body, to=[to]).send()
