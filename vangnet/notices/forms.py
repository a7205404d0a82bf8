"""Forms of the notices section on the case page; the services hold the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vangnet.common.forms import UnicodeSafeForm

from .choices import EscalationStep, Outcome
from .compose import MAX_EXPLANATION


class ComposeForm(UnicodeSafeForm):
    urls = forms.MultipleChoiceField(label=_("Addresses of the case"), required=False,
                                     widget=forms.CheckboxSelectMultiple)
    more_urls = forms.CharField(label=_("Other addresses (one per line)"), required=False, max_length=10_000,
                                widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}))
    grounds = forms.MultipleChoiceField(label=_("Legal grounds"), required=False, widget=forms.CheckboxSelectMultiple)
    explanation = forms.CharField(
        label=_("Why is this content illegal?"), max_length=MAX_EXPLANATION, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What it shows and why that is against the law. This goes to the provider: never write the "
                    "reporter's name or contact details here."))

    def chosen_urls(self) -> list[str]:
        extra = [line.strip() for line in self.cleaned_data.get("more_urls", "").splitlines() if line.strip()]
        return list(self.cleaned_data.get("urls", [])) + extra


class EditForm(UnicodeSafeForm):
    body = forms.CharField(label=_("Text of the notice"), max_length=20_000,
                           widget=forms.Textarea(attrs={"rows": 16, "spellcheck": "true"}))


class OutcomeForm(UnicodeSafeForm):
    outcome = forms.ChoiceField(label=_("What did the provider do?"), choices=Outcome.choices)
    note = forms.CharField(label=_("The provider's reason, or a note"), required=False, max_length=5000,
                           widget=forms.Textarea(attrs={"rows": 2}))


class ResolveForm(UnicodeSafeForm):
    arrived = forms.TypedChoiceField(
        label=_("Did the provider receive it?"), coerce=lambda value: value == "yes", widget=forms.RadioSelect,
        choices=[("yes", _("Yes, it arrived (I checked)")), ("no", _("No: send it again"))])


class ReplyUploadForm(UnicodeSafeForm):
    message = forms.FileField(label=_("The provider's reply (.eml file)"))

    def read(self) -> bytes:
        upload: Any = self.cleaned_data["message"]
        return bytes(upload.read())


class EscalateForm(UnicodeSafeForm):
    step = forms.ChoiceField(label=_("Next step"), choices=EscalationStep.choices, widget=forms.RadioSelect)
