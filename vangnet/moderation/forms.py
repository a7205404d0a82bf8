"""Parsing and validating moderators' input: one ``DecisionForm`` for the dashboard and any other caller.

The form holds the rules of a statement of reasons that a moderator can get wrong (a
restriction, a ground with its provision or clause, facts, a category); ``moderation.sor``
checks the finished statement once more against the Transparency Database's code lists.
Statements are published without personal data (DSA Art. 24(5)), so the moderator's free texts
that go into one are run through the doxing detector and refused when it finds any.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vangnet.common.forms import UnicodeSafeForm

from . import dsa
from .choices import RESTRICTING_ACTIONS, Action, KeyScope, Label, WebhookEvent
from .doxing import Kind, find_personal_data
from .sor import EEA_COUNTRIES

RESTRICTIONS = ("visibility", "monetary", "provision", "account")
# The moderator's free texts that the statement of reasons publishes: no personal data in them.
PUBLISHED_TEXTS = ("facts", "illegal_explanation", "incompatible_explanation", "visibility_other", "monetary_other",
                   "keyword_other")
# Restrictions that are time-limited by their nature: they need their end.
SUSPENSIONS = {
    "account": (dsa.DecisionAccount.SUSPENDED,),
    "provision": (dsa.DecisionProvision.PARTIAL_SUSPENSION, dsa.DecisionProvision.TOTAL_SUSPENSION),
}
PERSONAL_DATA_KINDS = {
    Kind.PHONE: _("a phone number"),
    Kind.EMAIL: _("an e-mail address"),
    Kind.POSTCODE_HOUSE_NUMBER: _("a postcode with house number"),
    Kind.STREET_ADDRESS: _("a street address"),
    Kind.IBAN: _("a bank account number (IBAN)"),
    Kind.BSN: _("a citizen service number (BSN)"),
    Kind.LICENCE_PLATE: _("a licence plate"),
    Kind.DATE_OF_BIRTH: _("a date of birth"),
}


def _optional(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", "---------"), *choices]


class DecisionForm(UnicodeSafeForm):
    """A moderator's decision on an item: the restrictions, the ground, the facts and the DSA category."""

    no_action = forms.BooleanField(label=_("No restriction"), required=False)
    labels = forms.MultipleChoiceField(label=_("Labels confirmed"), choices=Label.choices, required=False)
    visibility = forms.MultipleChoiceField(label=_("Restrictions of visibility"),
                                           choices=dsa.DecisionVisibility.choices, required=False)
    visibility_other = forms.CharField(label=_("Other restriction of visibility"), max_length=500, required=False)
    monetary = forms.ChoiceField(label=_("Monetary restriction"), choices=_optional(dsa.DecisionMonetary.choices),
                                 required=False)
    monetary_other = forms.CharField(label=_("Other monetary restriction"), max_length=500, required=False)
    provision = forms.ChoiceField(label=_("Suspension or termination of the service"),
                                  choices=_optional(dsa.DecisionProvision.choices), required=False)
    account = forms.ChoiceField(label=_("Suspension or termination of the account"),
                                choices=_optional(dsa.DecisionAccount.choices), required=False)
    restriction_end = forms.DateField(label=_("Restriction ends"), required=False)
    ground = forms.ChoiceField(label=_("Ground"), choices=_optional(dsa.DecisionGround.choices), required=False)
    legal_ground = forms.CharField(label=_("Legal provision"), max_length=500, required=False)
    illegal_explanation = forms.CharField(label=_("Why it is illegal"), max_length=2000, required=False)
    incompatible_ground = forms.CharField(label=_("Clause of the terms"), max_length=500, required=False)
    incompatible_explanation = forms.CharField(label=_("Why it breaks the terms"), max_length=2000, required=False)
    incompatible_illegal = forms.BooleanField(label=_("Also considered illegal"), required=False)
    ground_reference_url = forms.URLField(label=_("Reference to the ground"), max_length=500, required=False)
    facts = forms.CharField(label=_("Facts and circumstances"), max_length=5000, required=False)
    category = forms.ChoiceField(label=_("Category"), choices=_optional(dsa.StatementCategory.choices),
                                 required=False)
    category_addition = forms.MultipleChoiceField(label=_("Further categories"),
                                                  choices=dsa.StatementCategory.choices, required=False)
    keywords = forms.MultipleChoiceField(label=_("Keywords"), choices=dsa.Keyword.choices, required=False)
    keyword_other = forms.CharField(label=_("Other keyword"), max_length=500, required=False)
    territorial_scope = forms.MultipleChoiceField(label=_("Territorial scope"),
                                                  choices=[(code, code) for code in EEA_COUNTRIES], required=False)
    account_type = forms.ChoiceField(label=_("Account type"), choices=_optional(dsa.AccountType.choices),
                                     required=False)

    def __init__(self, *args: Any, author_warned: bool | None = None, **kwargs: Any) -> None:
        """``author_warned``: whether the item's author had a warning in the policy's strike window.

        ``None`` (a form only shown, not deciding) skips that check; ``decisions.decide`` always
        says.
        """
        super().__init__(*args, **kwargs)
        self.author_warned = author_warned

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        restricting = any(data.get(field) for field in RESTRICTIONS)
        if data.get("no_action"):
            if restricting:
                self.add_error("no_action", _("A decision without restriction cannot restrict: choose one."))
            if data.get("restriction_end"):
                self.add_error("restriction_end", _("Only a restriction has an end."))
            return data
        if not restricting:
            self.add_error(None, _("Choose at least one restriction, or decide on no restriction."))
        if dsa.DecisionVisibility.OTHER in (data.get("visibility") or []) and not data.get("visibility_other"):
            self.add_error("visibility_other", _("Describe the other restriction."))
        if data.get("monetary") == dsa.DecisionMonetary.OTHER and not data.get("monetary_other"):
            self.add_error("monetary_other", _("Describe the other restriction."))
        end = data.get("restriction_end")
        if end is not None and end <= timezone.localdate():
            self.add_error("restriction_end", _("The end of a restriction lies in the future."))
        if end is None and any(data.get(field) in values for field, values in SUSPENSIONS.items()):
            self.add_error("restriction_end", _("A suspension is time-limited: give the date it ends."))
        if data.get("account") == dsa.DecisionAccount.SUSPENDED and self.author_warned is False:
            self.add_error("account", _("The author had no warning in the strike window: warn the author first "
                                        "(DSA Art. 23(1)), or choose another restriction."))
        ground = data.get("ground")
        if not ground:
            self.add_error("ground", _("Give the ground of the decision."))
        elif ground == dsa.DecisionGround.ILLEGAL_CONTENT:
            for field in ("legal_ground", "illegal_explanation"):
                if not data.get(field):
                    self.add_error(field, _("Needed when the content is illegal."))
        elif ground == dsa.DecisionGround.INCOMPATIBLE_CONTENT:
            for field in ("incompatible_ground", "incompatible_explanation"):
                if not data.get(field):
                    self.add_error(field, _("Needed when the content breaks the terms."))
        if not data.get("facts"):
            self.add_error("facts", _("Describe the facts and circumstances the decision rests on."))
        category = data.get("category")
        if not category:
            self.add_error("category", _("Choose the category of the statement of reasons."))
        elif category in (data.get("category_addition") or []):
            self.add_error("category_addition", _("The further categories repeat the category."))
        if dsa.Keyword.OTHER in (data.get("keywords") or []) and not data.get("keyword_other"):
            self.add_error("keyword_other", _("Describe the other keyword."))
        self._refuse_personal_data(data)  # last: a refused text leaves ``data``
        return data

    def _refuse_personal_data(self, data: dict[str, Any]) -> None:
        """A published text with personal data is refused, naming what was found (never repeating it).

        Only a restriction has a statement of reasons; a decision without one publishes nothing.
        """
        for field in PUBLISHED_TEXTS:
            text = data.get(field)
            if not text:
                continue
            kinds = list(dict.fromkeys(finding.kind for finding in find_personal_data(text)))
            if kinds:
                found = ", ".join(str(PERSONAL_DATA_KINDS.get(kind, kind.value)) for kind in kinds)
                self.add_error(field, _("This text contains personal data (%(found)s). The statement of reasons is "
                                        "published: leave it out.") % {"found": found})


# ---------------------------------------------------------------------------------------------
# The platform's own settings: policy, keys, webhooks (policy managers)


def _threshold(label: Any) -> forms.FloatField:
    return forms.FloatField(label=label, required=False, min_value=0.0, max_value=1.0,
                            widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
                            help_text=_("From 0 to 1; empty: never."))


class PolicyRuleForm(UnicodeSafeForm):
    """One label's rule: review and action thresholds, the automatic action, the strike weight, the statement's
    category and the clause of the terms. The label itself is fixed by the page (hidden)."""

    label = forms.ChoiceField(choices=Label.choices, widget=forms.HiddenInput)
    review_threshold = _threshold(_("Review from score"))
    action_threshold = _threshold(_("Restrict automatically from score"))
    action = forms.ChoiceField(label=_("Automatic action"), choices=[
        (value, name) for value, name in Action.choices if value in RESTRICTING_ACTIONS])
    strike_weight = forms.IntegerField(label=_("Strike weight"), min_value=0, max_value=100,
                                       help_text=_("Strike points a confirmed violation counts; 0: none."))
    category = forms.ChoiceField(label=_("Statement category"), choices=dsa.StatementCategory.choices)
    terms_clause = forms.CharField(label=_("Clause of the terms"), max_length=300, required=False,
                                   help_text=_("The clause this label breaks, for statements of reasons."))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        review, act = data.get("review_threshold"), data.get("action_threshold")
        if review is not None and act is not None and act < review:
            self.add_error("action_threshold", _("The score for an automatic restriction must be at least the "
                                                 "score for review (%(review)s).") % {"review": review})
        return data


class BasePolicyRuleFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    """One form per label, each label once."""

    def clean(self) -> None:
        super().clean()
        labels = [form.cleaned_data.get("label") for form in self.forms if hasattr(form, "cleaned_data")]
        if sorted(label for label in labels if label) != sorted(Label.values):
            raise forms.ValidationError(_("Give one rule for every label."), code="labels")


PolicyRuleFormSet = forms.formset_factory(PolicyRuleForm, formset=BasePolicyRuleFormSet, extra=0,
                                          min_num=len(Label), max_num=len(Label), validate_min=True,
                                          validate_max=True, absolute_max=len(Label))


class BankChoiceField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    """The hash banks a platform may match, an inactive one named as such."""

    def label_from_instance(self, obj: Any) -> str:
        name = str(obj.name)
        if obj.organisation_id is None:
            name = str(_("%(bank)s (shared)") % {"bank": name})
        if not obj.is_active:
            name = str(_("%(bank)s (inactive: matches nothing)") % {"bank": name})
        return name


class PolicyForm(UnicodeSafeForm):
    """The policy's own fields: hash banks, bank-match action, languages, strikes, terms, dispute body, authority."""

    banks = BankChoiceField(label=_("Hash banks matched"), queryset=None, required=False,
                            widget=forms.CheckboxSelectMultiple,
                            help_text=_("Images are matched against these banks: your platform's own and shared "
                                        "ones."))
    bank_match_action = forms.ChoiceField(
        label=_("Action on a hash-bank match"),
        choices=[(value, name) for value, name in Action.choices if value == Action.REVIEW
                 or value in RESTRICTING_ACTIONS],
        help_text=_("A match always reaches at least review."))
    act_on_unvalidated_languages = forms.BooleanField(
        label=_("Act automatically in languages the classifiers are not validated for"), required=False,
        help_text=_("Warning: the classifiers make more mistakes in those languages, and wrong automatic "
                    "restrictions reach people without review. Off: such items go to review."))
    strike_window_days = forms.IntegerField(label=_("Strike window (days)"), min_value=1, max_value=3650)
    warning_points = forms.IntegerField(label=_("Strike points for a warning"), min_value=1, max_value=1000)
    suspension_points = forms.IntegerField(label=_("Strike points for a suspension"), min_value=1, max_value=1000)
    suspension_days = forms.IntegerField(label=_("Suspension (days)"), min_value=1, max_value=3650)
    terms_url = forms.URLField(label=_("Terms and conditions (address)"), max_length=500, required=False,
                               assume_scheme="https")
    dispute_body = forms.CharField(label=_("Out-of-court dispute settlement body (DSA Art. 21)"), max_length=200,
                                   required=False)
    authority_name = forms.CharField(label=_("Authority for threats to life or safety (DSA Art. 18)"),
                                     max_length=200, required=False)
    authority_email = forms.EmailField(label=_("Authority's e-mail"), required=False)

    def __init__(self, *args: Any, banks: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["banks"].queryset = banks  # type: ignore[attr-defined]
        if not banks.exists():
            self.fields["banks"].help_text = _("No hash bank is open to your platform yet.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        warning, suspension = data.get("warning_points"), data.get("suspension_points")
        if warning is not None and suspension is not None and suspension < warning:
            self.add_error("suspension_points", _("A suspension needs at least as many strike points as a "
                                                  "warning."))
        return data


class KeyForm(UnicodeSafeForm):
    """A new API key for the platform: what it is for, what it may do, how many requests a minute."""

    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("What the key is for, e.g. the program "
                                                                       "that uses it."))
    scopes = forms.MultipleChoiceField(label=_("Scopes"), choices=KeyScope.choices, widget=forms.CheckboxSelectMultiple)
    rate_per_minute = forms.IntegerField(label=_("Requests per minute"), min_value=1, max_value=100_000, initial=600)


class WebhookForm(UnicodeSafeForm):
    """A new webhook: its https address and the events it hears about (none chosen: every event)."""

    url = forms.CharField(label=_("Address"), max_length=2000, widget=forms.URLInput,
                          help_text=_("Starts with https://."))
    events = forms.MultipleChoiceField(label=_("Events"), choices=WebhookEvent.choices, required=False,
                                       widget=forms.CheckboxSelectMultiple,
                                       help_text=_("None chosen: every event."))
