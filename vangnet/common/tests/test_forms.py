"""Invalid Unicode is an ordinary field error in every form, never a crash."""

import pytest
from django import forms
from django.utils import translation

from vangnet.cases.forms import MessageForm, NoteForm, ReferralForm, StatusForm
from vangnet.common.forms import UnicodeSafeForm, contains_invalid_unicode

LONE_SURROGATE = "\ud800"


class Sample(UnicodeSafeForm):
    text = forms.CharField(required=False)
    email = forms.EmailField(required=False)  # encodes the domain to IDNA: raised on a surrogate
    tags = forms.MultipleChoiceField(choices=[("a", "A")], required=False)


@pytest.mark.parametrize("value", ["\ud800", "ok\udfffok", ["fine", "bad\udc00"], ("x", ["\ud83d"])])
def test_lone_surrogates_are_found_at_any_depth(value: object) -> None:
    assert contains_invalid_unicode(value)


@pytest.mark.parametrize("value", ["", "plain", "emoji \U0001f600 and ë", ["a", "b"], None, 3])
def test_valid_text_is_not_flagged(value: object) -> None:
    assert not contains_invalid_unicode(value)


@pytest.mark.parametrize(("field", "value"), [
    ("text", f"hello {LONE_SURROGATE}"),
    ("email", f"me@exa{LONE_SURROGATE}mple.com"),
    ("tags", ["a", LONE_SURROGATE]),
])
def test_each_field_reports_invalid_unicode_once(field: str, value: object) -> None:
    form = Sample(data={field: value})
    assert not form.is_valid()
    assert [e.code for e in form.errors.as_data()[field]] == ["invalid_unicode"]


def test_the_message_follows_the_active_language() -> None:
    with translation.override("en"):
        english = Sample(data={"text": LONE_SURROGATE}).errors["text"][0]
    with translation.override("nl"):
        dutch = Sample(data={"text": LONE_SURROGATE}).errors["text"][0]
    assert "characters that cannot be read" in english
    assert dutch != english and "tekens" in dutch


def test_valid_input_still_passes() -> None:
    form = Sample(data={"text": "Ze schreef: \U0001f621", "email": "me@example.com", "tags": ["a"]})
    assert form.is_valid(), form.errors


@pytest.mark.parametrize(("form_class", "data", "field"), [
    (NoteForm, {"text": LONE_SURROGATE}, "text"),
    (StatusForm, {"status": "closed", "reason": LONE_SURROGATE}, "reason"),
    (MessageForm, {"report": "1", "text": LONE_SURROGATE}, "text"),
    (ReferralForm, {"report": "1", "summary": LONE_SURROGATE}, "summary"),
])
def test_staff_text_fields_refuse_invalid_unicode(form_class: type[forms.Form], data: dict, field: str) -> None:
    form = form_class(data=data)
    assert not form.is_valid()
    assert "invalid_unicode" in [e.code for e in form.errors.as_data()[field]]
