"""Forms of the evidence vault's own staff pages."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from vangnet.common.forms import UnicodeSafeForm


class CaptureForm(UnicodeSafeForm):
    """A handler asks for a capture of one web address; ``services.check_capture_url`` checks it."""

    url = forms.CharField(label=_("Web address to capture"), max_length=settings.VANGNET_MAX_URL_CHARS,
                          widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
                          help_text=_("The page is fetched by our server, without cookies or a log-in: "
                                      "what a stranger would see. The body, a record of the exchange and a "
                                      "screenshot are added to the evidence."))
