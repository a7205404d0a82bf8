"""Form helpers shared by every app: refuse text that is not valid Unicode, before any field reads it.

JSON allows ``"\\ud800"``, a lone UTF-16 surrogate that Python keeps in a ``str`` but that
cannot be encoded as UTF-8: encryption, e-mail validation, IDNA and the database would
all raise on it (a 500). Form posts cannot carry one (Django decodes invalid bytes to
U+FFFD), but the partner API's JSON can, and the API validates through the same forms.
So every form mixes in ``RejectInvalidUnicodeMixin``: one check, in one place, that turns
such input into an ordinary field error.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_SURROGATE = re.compile("[\ud800-\udfff]")
INVALID_UNICODE_MESSAGE = _("This text contains characters that cannot be read. Remove them or type the text again.")


def contains_invalid_unicode(value: object) -> bool:
    """True if ``value`` (a text, or a list or tuple of them, at any depth) holds a lone surrogate."""
    if isinstance(value, str):
        return _SURROGATE.search(value) is not None
    if isinstance(value, (list, tuple)):
        return any(contains_invalid_unicode(item) for item in value)
    if isinstance(value, dict):
        return any(contains_invalid_unicode(k) or contains_invalid_unicode(v) for k, v in value.items())
    return False


def validate_unicode(value: object) -> None:
    """A validator for any field or value: refuses lone surrogates with a translated message."""
    if contains_invalid_unicode(value):
        raise ValidationError(INVALID_UNICODE_MESSAGE, code="invalid_unicode")


def _guarded(clean: Callable[..., Any]) -> Callable[..., Any]:
    def clean_valid_unicode(value: Any, *args: Any) -> Any:  # a FileField's clean also takes ``initial``
        validate_unicode(value)
        return clean(value, *args)

    clean_valid_unicode.unicode_guarded = True  # type: ignore[attr-defined]
    return clean_valid_unicode


class RejectInvalidUnicodeMixin:
    """Check every field's raw input for invalid Unicode before the field cleans it.

    The check runs before the field's own ``clean`` because the field may be the thing that
    crashes (``EmailField`` encodes the domain, URL checks encode to IDNA). It guards the
    fields present when cleaning starts, so fields added in ``__init__`` are covered too.
    """

    fields: dict[str, forms.Field]

    def full_clean(self) -> None:
        for field in self.fields.values():
            if not getattr(field.clean, "unicode_guarded", False):
                # Form fields are per-instance copies, so this never touches the class's fields.
                field.clean = _guarded(field.clean)  # type: ignore[method-assign,assignment]
        super().full_clean()  # type: ignore[misc]


class UnicodeSafeForm(RejectInvalidUnicodeMixin, forms.Form):
    """The base of vangnet's forms: a Django form that refuses invalid Unicode in any field."""
