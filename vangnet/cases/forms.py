"""Staff forms on the case page; they only parse input, the services hold the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from vangnet.common.forms import UnicodeSafeForm
from vangnet.evidence.forms import EvidenceFilesField

from .choices import CaseStatus, Priority


class QueueFilterForm(UnicodeSafeForm):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("open", _("All open")), ("", _("All"))] + list(CaseStatus.choices))
    priority = forms.TypedChoiceField(label=_("Priority"), required=False, coerce=int, empty_value=None,
                                      choices=[("", _("Any"))] + list(Priority.choices))
    owner = forms.ChoiceField(label=_("Case owner"), required=False,
                              choices=[("", _("Anyone")), ("me", _("Me")), ("none", _("Nobody yet"))])
    form = forms.ChoiceField(label=_("Form of violence"), required=False)
    query = forms.CharField(label=_("Reference or receipt code"), required=False, max_length=40)


class AssignOwnerForm(UnicodeSafeForm):
    owner = forms.ChoiceField(label=_("Case owner"))


class StatusForm(UnicodeSafeForm):
    status = forms.ChoiceField(label=_("New status"), choices=CaseStatus.choices)
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(UnicodeSafeForm):
    text = forms.CharField(label=_("Internal note"), max_length=10000, widget=forms.Textarea(attrs={"rows": 3}))


class MessageForm(UnicodeSafeForm):
    report = forms.ChoiceField(label=_("To the reporter of"))
    text = forms.CharField(label=_("Message"), max_length=10000, widget=forms.Textarea(attrs={"rows": 3}))


class ReferralForm(UnicodeSafeForm):
    report = forms.ChoiceField(label=_("Report (the reporter consented to sharing)"))
    summary = forms.CharField(label=_("Hand-over summary"), max_length=10000, widget=forms.Textarea(attrs={"rows": 5}))


class MergeForm(UnicodeSafeForm):
    target = forms.CharField(label=_("Merge this case into (reference)"), max_length=20)


class SplitForm(UnicodeSafeForm):
    report = forms.ChoiceField(label=_("Move this report to a new case"))


class EvidenceUploadForm(UnicodeSafeForm):
    attachments = EvidenceFilesField(label=_("Files"), help_text=_(
        "Images, screenshots, short videos, PDFs, text or chat exports (.txt, WhatsApp .zip). The originals are "
        "kept exactly as they are, encrypted."))


class LegalHoldForm(UnicodeSafeForm):
    reason = forms.CharField(label=_("Why (for example: police request, reference)"), max_length=500,
                             widget=forms.Textarea(attrs={"rows": 2}))


class LiftLegalHoldForm(UnicodeSafeForm):
    confirm = forms.BooleanField(label=_("Yes: from tomorrow's housekeeping on, the retention periods apply again"))


class NciiConsentForm(UnicodeSafeForm):
    """Her answer to the NCII bank, as the handler records it; the service checks who may and for which case."""

    consent = forms.TypedChoiceField(
        label=_("Her answer"), widget=forms.RadioSelect, coerce=lambda value: value == "yes",
        choices=[("yes", _("She agrees: hashes of images a provider removed may join the NCII bank")),
                 ("no", _("She does not agree, or she withdraws her consent"))])
