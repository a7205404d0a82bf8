"""The report's validation: one set of rules for the web flow and the partner API.

``ReportForm`` holds every field and cross-field rule. The web flow's steps are slices of
it (``STEP_FORMS``), and the finished flow is validated once more as a whole by
``ReportForm``, so the two entry points cannot drift apart.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from vangnet.common.forms import UnicodeSafeForm
from vangnet.directory.selectors import shareable_catalogue
from vangnet.evidence.forms import EvidenceFilesField, max_file_mb
from vangnet.taxonomy.selectors import form_catalogue

from .choices import AgeBand, ContactPreference, Duration, PerpetratorCount, Relationship, ReporterRole
from .normalization import CheckedUrl, UrlError, check_url

YES_NO = [("yes", _("Yes")), ("no", _("No"))]

# The contact rules as regular expressions that mean the same in Python and in JSON Schema
# (ECMA-262), so the partner API's OpenAPI document can state them exactly (see intake.api).
# A phone number: 8 to 15 digits (E.164 has at most 15), with +, spaces, brackets, hyphens.
PHONE_PATTERN = r"^ *\+?[ ()-]*(?:[0-9][ ()-]*){8,15}$"
# An e-mail address: a dot-atom local part, a host name of letters, digits and hyphens (any
# script), a top-level domain of two or more letters. No quoted local parts or IP literals:
# nobody gives those as a contact address.
_EMAIL_LETTER = "A-Za-z\u00a1-\ud7ff\ue000-\uffff"  # not the surrogates, which are not text
_EMAIL_LABEL = f"[0-9{_EMAIL_LETTER}](?:[0-9{_EMAIL_LETTER}-]{{0,61}}[0-9{_EMAIL_LETTER}])?"
_EMAIL_ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
EMAIL_PATTERN = f"^{_EMAIL_ATOM}(?:\\.{_EMAIL_ATOM})*@(?:{_EMAIL_LABEL}\\.)+[{_EMAIL_LETTER}]{{2,63}}$"
PHONE_RE = re.compile(PHONE_PATTERN)
EMAIL_RE = re.compile(EMAIL_PATTERN)


def _optional(choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", _("I'd rather not say"))] + list(choices)


class UrlListField(forms.Field):
    """URLs as a list (API) or one per line (web form), checked and normalised."""

    widget = forms.Textarea(attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"})

    def to_python(self, value: Any) -> list[str]:
        if value in (None, ""):
            return []
        if isinstance(value, str):
            return [line.strip() for line in value.splitlines() if line.strip()]
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return [v.strip() for v in value if v.strip()]
        raise ValidationError(_("Give the addresses as a list of texts."), code="invalid")

    def validate(self, value: list[str]) -> None:
        super().validate(value)
        if len(value) > settings.VANGNET_MAX_URLS:
            raise ValidationError(_("Give at most %(max)d addresses.") % {"max": settings.VANGNET_MAX_URLS},
                                  code="too_many")

    def clean(self, value: Any) -> list[CheckedUrl]:  # type: ignore[override]
        raw = super().clean(value)
        checked, errors = [], []
        for number, item in enumerate(raw, start=1):
            try:
                checked.append(check_url(item, max_length=settings.VANGNET_MAX_URL_CHARS))
            except UrlError as exc:
                errors.append(ValidationError(_("Address %(n)d: %(error)s") % {"n": number, "error": exc},
                                              code="invalid_url"))
        if errors:
            raise ValidationError(errors)
        unique = {c.normalized: c for c in checked}
        return list(unique.values())


def _fields() -> dict[str, forms.Field]:
    return {
        "immediate_danger": forms.ChoiceField(
            label=_("Is anyone in immediate danger right now?"), choices=YES_NO, widget=forms.RadioSelect),
        "reporter_role": forms.ChoiceField(
            label=_("Who is reporting?"), choices=ReporterRole.choices, widget=forms.RadioSelect),
        "forms": forms.MultipleChoiceField(
            label=_("What happened? Choose everything that fits."), widget=forms.CheckboxSelectMultiple,
            error_messages={"required": _("Choose at least one; choose 'Something else' if nothing fits.")}),
        "description": forms.CharField(
            label=_("Tell us what happened, in your own words (optional)"), required=False,
            max_length=settings.VANGNET_MAX_DESCRIPTION_CHARS,
            widget=forms.Textarea(attrs={"rows": 6}),
            help_text=_("Write only what you want to share. You can add screenshots and other files after you "
                        "send the report.")),
        "urls": UrlListField(
            label=_("Web addresses (URLs) where it can be seen (optional)"), required=False,
            help_text=_("One address per line, at most %(max)d.") % {"max": settings.VANGNET_MAX_URLS}),
        "platform": forms.CharField(
            label=_("Platform, website or app (optional)"), required=False, max_length=200,
            help_text=_("For example Instagram, Snapchat, WhatsApp or a website.")),
        "age_band": forms.ChoiceField(
            label=_("How old is the person it happened to?"), choices=AgeBand.choices, widget=forms.RadioSelect),
        "relationship": forms.ChoiceField(
            label=_("Who did it? How do they know the person it happened to? (optional)"), required=False,
            choices=_optional(Relationship.choices)),
        "perpetrator_count": forms.ChoiceField(
            label=_("How many people did it? (optional)"), required=False,
            choices=_optional(PerpetratorCount.choices)),
        "duration": forms.ChoiceField(
            label=_("How long has it been going on? (optional)"), required=False,
            choices=_optional(Duration.choices)),
        "contact_preference": forms.ChoiceField(
            label=_("May we contact you?"), choices=ContactPreference.choices, widget=forms.RadioSelect,
            initial=ContactPreference.NONE),
        # Checked in clean(), and only when she chose e-mail: a stale address left in the field
        # must not stop her from choosing phone or no contact (it is dropped then anyway).
        "contact_email": forms.CharField(
            label=_("E-mail address (only if you chose e-mail)"), required=False, max_length=254, strip=False,
            widget=forms.EmailInput(attrs={"autocomplete": "email"})),
        "email_secret": forms.BooleanField(
            label=_("Also put my secret in the e-mail"), required=False,
            help_text=_("Only if nobody else reads your e-mail: whoever reads the e-mail could then open your "
                        "report. Without it, the e-mail holds only your receipt code.")),
        "contact_phone": forms.CharField(
            label=_("Phone number (only if you chose phone)"), required=False, max_length=32, strip=False,
            widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"})),
        "consent_processing": forms.BooleanField(
            label=_("I agree that vangnet stores and uses this report to help me."),
            error_messages={"required": _("We can only take your report if you agree to this.")}),
        "share_with": forms.ChoiceField(
            label=_("May we pass your report on to one of these organisations if that helps you? (optional)"),
            required=False),
    }


class _ReportFields(UnicodeSafeForm):
    """Base with dynamic choices: the forms of violence and organisations are data."""

    field_names: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        all_fields = _fields()
        for name in self.field_names:
            self.fields[name] = all_fields[name]
        if "forms" in self.fields:
            self.fields["forms"].choices = [  # type: ignore[attr-defined]
                (f.slug, f.name) for f in form_catalogue().values()]
        if "share_with" in self.fields:
            self.fields["share_with"].choices = [  # type: ignore[attr-defined]
                ("", _("No, do not share my report"))] + [
                (o.slug, o.name) for o in shareable_catalogue().values()]

    def clean_forms(self) -> list[str]:
        return list(dict.fromkeys(self.cleaned_data["forms"]))  # a slug named twice counts once

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if "contact_preference" in self.fields:
            preference = data.get("contact_preference")
            # At most one error per field: none from here if the field itself already failed.
            if preference == ContactPreference.EMAIL and "contact_email" not in self.errors:
                email = data.get("contact_email") or ""
                if not email.strip():
                    self.add_error("contact_email", _("Fill in your e-mail address, or choose another option."))
                elif not EMAIL_RE.fullmatch(email):
                    self.add_error("contact_email", _("This does not look like an e-mail address."))
            if preference == ContactPreference.PHONE and "contact_phone" not in self.errors:
                phone = data.get("contact_phone") or ""
                if not phone.strip():
                    self.add_error("contact_phone", _("Fill in your phone number, or choose another option."))
                elif not PHONE_RE.fullmatch(phone):
                    self.add_error("contact_phone", _("This does not look like a phone number."))
                else:
                    data["contact_phone"] = phone.strip()
            # Keep only the contact detail she chose to give.
            if preference != ContactPreference.EMAIL:
                data["contact_email"] = ""
                data["email_secret"] = False
            if preference != ContactPreference.PHONE:
                data["contact_phone"] = ""
        return data


def _step(name: str, *names: str) -> type[_ReportFields]:
    return type(name, (_ReportFields,), {"field_names": names})


STEP_FORMS: list[tuple[str, type[_ReportFields]]] = [
    ("danger", _step("DangerStep", "immediate_danger")),
    ("who", _step("WhoStep", "reporter_role")),
    ("what", _step("WhatStep", "forms", "description")),
    ("where", _step("WhereStep", "urls", "platform")),
    ("age", _step("AgeStep", "age_band")),
    ("perpetrator", _step("PerpetratorStep", "relationship", "perpetrator_count", "duration")),
    ("contact", _step("ContactStep", "contact_preference", "contact_email", "email_secret", "contact_phone")),
    ("consent", _step("ConsentStep", "consent_processing", "share_with")),
]

ReportForm = _step("ReportForm", *[name for _n, form in STEP_FORMS for name in form.field_names])


class FollowupLoginForm(UnicodeSafeForm):
    receipt_code = forms.CharField(label=_("Receipt code"), max_length=40,
                                   widget=forms.TextInput(attrs={"autocomplete": "off",
                                                                 "autocapitalize": "characters"}))
    secret = forms.CharField(label=_("Secret"), max_length=60,
                             widget=forms.PasswordInput(attrs={"autocomplete": "off"}))


class AddInformationForm(UnicodeSafeForm):
    text = forms.CharField(label=_("What would you like to add?"), max_length=settings.VANGNET_MAX_DESCRIPTION_CHARS,
                           widget=forms.Textarea(attrs={"rows": 5}))


class EvidenceUploadForm(UnicodeSafeForm):
    """The reporter's files for her report, in the report flow and on the follow-up page."""

    evidence = EvidenceFilesField(label=_("Files"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["evidence"].help_text = _(
            "Up to %(count)d files at a time, each at most %(mb)d MB.") % {
            "count": settings.VANGNET_UPLOAD_MAX_FILES, "mb": max_file_mb()}


class WithdrawForm(UnicodeSafeForm):
    confirm = forms.BooleanField(label=_("Yes, withdraw my report and erase my personal data."))
