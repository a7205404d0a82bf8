"""Drafting notices: one per provider, with every element DSA Art. 16(2) requires, in the provider's language.

Art. 16(2): (a) a substantiated explanation why the content is illegal, (b) the exact
electronic location (URL), (c) the notifier's name and e-mail, (d) a statement of good faith.
The notifier is always the organisation, never the victim. ``missing_elements`` checks the
final text, which the handler may have edited, before anything is queued.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from vangnet.common.codes import random_code
from vangnet.directory import services as directory_services
from vangnet.evidence.models import EvidenceItem
from vangnet.intake.normalization import UrlError, check_url

from .choices import ChannelName

MIN_EXPLANATION = 30
MAX_EXPLANATION = 5000
SUBJECTS = {
    "en": "[{reference}] Notice of illegal content under Article 16 DSA",
    "nl": "[{reference}] Melding van illegale inhoud (artikel 16 DSA)",
}
TRUSTED_SUFFIX = {"en": " (trusted flagger, Article 22 DSA)", "nl": " (betrouwbare flagger, artikel 22 DSA)"}
GOOD_FAITH = {
    "en": "We confirm our bona fide belief that the information and allegations contained in this notice are "
          "accurate and complete.",
    "nl": "Wij verklaren te goeder trouw dat de informatie en beweringen in deze melding juist en volledig zijn.",
}


def new_reference() -> str:
    """``N-`` and ten characters from the unambiguous alphabet: unique, and easy to find in a reply."""
    return "N-" + random_code(10)


@dataclass(frozen=True)
class Notifier:
    name: str
    email: str
    trusted_flagger: bool


def notifier_for(organisation: Any) -> Notifier:
    """The organisation as notifier (Art. 16(2)(c)): its name and notice address, never the victim's."""
    email = organisation.notice_email or _address(settings.DEFAULT_FROM_EMAIL)
    return Notifier(name=organisation.name, email=email, trusted_flagger=organisation.is_trusted_flagger)


def _address(value: str) -> str:
    from email.utils import parseaddr

    return parseaddr(value)[1]


@dataclass
class DraftUrl:
    url: str
    reported_url: Any = None
    evidence: list[EvidenceItem] | None = None


def clean_explanation(text: str) -> str:
    text = (text or "").strip()
    if len(text) < MIN_EXPLANATION:
        raise ValidationError({"explanation": _(
            "Explain in at least %(count)d characters why the content is illegal: what it shows and why that is "
            "against the law.") % {"count": MIN_EXPLANATION}})
    if len(text) > MAX_EXPLANATION:
        raise ValidationError({"explanation": _("Keep this under %(max)d characters.") % {"max": MAX_EXPLANATION}})
    return text


def clean_urls(raw: Iterable[str]) -> list[str]:
    """The exact addresses as the handler gave them (checked, each once, in order)."""
    urls: list[str] = []
    for value in raw:
        try:
            checked = check_url(value)
        except UrlError as exc:
            raise ValidationError({"urls": f"{value[:200]}: {exc}"}) from exc
        if checked.original.strip() not in urls:
            urls.append(checked.original.strip())
    if not urls:
        raise ValidationError({"urls": _("Choose at least one address.")})
    return urls


def group_by_provider(urls: Sequence[str]) -> dict[Any, list[str]]:
    """URLs per provider; an address on a website no provider is known for is refused (and flagged for staff)."""
    groups: dict[Any, list[str]] = defaultdict(list)
    unknown = []
    for url in urls:
        provider = directory_services.resolve_provider(url=url)
        if provider is None:
            unknown.append(url)
        else:
            groups[provider].append(url)
    if unknown:
        raise ValidationError({"urls": _(
            "No provider is known for %(urls)s. The website is flagged: an administrator assigns its provider, "
            "then draft again.") % {"urls": ", ".join(u[:200] for u in unknown)}})
    return dict(groups)


def channel_for(provider: Any) -> str:
    """The provider's preferred way to take notices (API, e-mail, web form); refused if it has none."""
    for kind in provider.channels:
        return provider.api_channel if kind == "api" else ChannelName(kind).value
    raise ValidationError({"urls": _("%(provider)s has no point of contact for notices yet: add one in the "
                                     "directory first.") % {"provider": provider.name}})


def render_notice(*, language: str, provider: Any, reference: str, notifier: Notifier, urls: Sequence[DraftUrl],
                  explanation: str, grounds: Sequence[Any], follows: Any = None) -> tuple[str, str]:
    """Subject and text of a notice in ``language``."""
    language = language if language in SUBJECTS else "en"
    with translation.override(language):
        body = render_to_string(f"notices/notice_{language}.txt", {
            "provider": provider, "reference": reference, "notifier_name": notifier.name,
            "notifier_email": notifier.email, "trusted_flagger": notifier.trusted_flagger,
            "urls": [{"url": u.url, "evidence": u.evidence or []} for u in urls], "explanation": explanation,
            "grounds": grounds, "follows": follows})
    subject = SUBJECTS[language].format(reference=reference)
    if notifier.trusted_flagger:
        subject += TRUSTED_SUFFIX[language]
    return subject, body


def missing_elements(*, body: str, subject: str, reference: str, urls: Sequence[str], notifier_name: str,
                     notifier_email: str, language: str, explanation: str) -> list[str]:
    """What Art. 16(2) asks that this final text lacks; empty when the notice may go."""
    missing = []
    if len((explanation or "").strip()) < MIN_EXPLANATION:
        missing.append(_("a substantiated explanation why the content is illegal"))
    if not urls:
        missing.append(_("the exact URL of the content"))
    missing += [_("the URL %(url)s") % {"url": url[:200]} for url in urls if url not in body]
    try:
        validate_email(notifier_email)
        email_ok = notifier_email in body
    except ValidationError:
        email_ok = False
    if not notifier_name or notifier_name not in body or not email_ok:
        missing.append(_("the notifier's name and e-mail address"))
    if GOOD_FAITH.get(language, GOOD_FAITH["en"]) not in " ".join(body.split()):
        missing.append(_("the statement of good faith"))
    if reference not in subject or reference not in body:
        missing.append(_("the notice's reference in the subject and the text"))
    return missing
