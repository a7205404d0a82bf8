"""Parsing and validating moderators' input: one ``DecisionForm`` for the dashboard and any other caller.

The form holds the rules of a statement of reasons that a moderator can get wrong (a
restriction, a ground with its provision or clause, facts, a category); ``moderation.sor``
checks the finished statement once more against the Transparency Database's code lists.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vangnet.common.forms import UnicodeSafeForm

from . import dsa
from .choices import Label
from .sor import EEA_COUNTRIES

RESTRICTIONS = ("visibility", "monetary", "provision", "account")


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
        return data
