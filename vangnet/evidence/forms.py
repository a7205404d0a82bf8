"""Form fields for adding evidence (reporters, staff) and the forms of the vault's own staff pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _

from vangnet.common.forms import UnicodeSafeForm

from .services import MAX_FILE_BYTES


# What the file picker offers; the vault still reads each file's type from its bytes (evidence.media).
EVIDENCE_ACCEPT = "image/*,video/*,application/pdf,.pdf,text/plain,.txt,application/zip,.zip"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True
    template_name = "django/forms/widgets/file.html"  # a plain file input: there is never a file to clear


class EvidenceFilesField(forms.FileField):
    """One or more files from ``<input type=file multiple>``, as a list.

    Only the number is checked here. Each file is judged on its own by the vault
    (``evidence.services.add_evidence``: empty, too large, a type it does not take), so a
    refusal can name the file and the others are still added.
    """

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": EVIDENCE_ACCEPT}))
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if isinstance(f, UploadedFile)]
        if not files:
            raise ValidationError(_("Choose one or more files first."), code="required")
        limit = settings.VANGNET_UPLOAD_MAX_FILES
        if len(files) > limit:
            raise ValidationError(_("Choose at most %(limit)d files at a time.") % {"limit": limit}, code="too_many")
        return files



def max_file_mb() -> int:
    return int(MAX_FILE_BYTES // 2**20)


class CaptureForm(UnicodeSafeForm):
    """A handler asks for a capture of one web address; ``services.check_capture_url`` checks it."""

    url = forms.CharField(label=_("Web address to capture"), max_length=settings.VANGNET_MAX_URL_CHARS,
                          widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
                          help_text=_("The page is fetched by our server, without cookies or a log-in: "
                                      "what a stranger would see. The body, a record of the exchange and a "
                                      "screenshot are added to the evidence."))
