"""The `doxing` detector: personal data in a text, found by rules and validators, not a model.

Doxing (exposing someone's personal data; art. 285d Sr) is recognised by *what* a text
contains, so this detector looks for the data itself: phone numbers, e-mail addresses,
Dutch postcodes with a house number, street addresses, IBANs, BSNs, Dutch licence plates
and dates of birth. Each rule favours precision where a validator exists (a checksum, the
`phonenumbers` metadata, Django's `EmailValidator`, a real calendar date) and documents
its guard against false positives where none does:

``phone``
    Runs of digit groups, parsed with `phonenumbers` for region NL (Dutch numbers without
    a country code; international numbers with ``+`` or ``00``), kept only when
    `phonenumbers.is_valid_number` holds, the written number begins with ``+``, ``0`` or
    ``(`` (a bare run of digits is more often an id than a phone number), it is not a
    decimal (``0612345678,5``), not right after an order/invoice/customer-number label,
    and not a service number: toll-free (0800), premium rate (0900, 0906, 0909), shared
    cost and UAN numbers (088, 14 0xx) are organisations, not persons. Helplines such as
    0800-2000 are therefore never flagged.
``email``
    A regex for the candidate (also the bracketed disguises ``[at]``/``(at)`` and
    ``[dot]``/``(punt)``), then Django's `EmailValidator` on the rebuilt address.
``postcode_house_number``
    A Dutch postcode (``[1-9]\\d{3}`` and two letters, never SA, SD or SS) followed by a
    house number, optionally after a comma and ``nr``/``nummer``. Lowercase letters count
    only when written against the digits (``1234ab``), so ``2024 en 3`` is no postcode;
    units written the same way (``1000mg 2``, ``2000km 5``) are refused. A postcode alone
    (about twenty households) is not flagged.
``street_address``
    Dutch: one capitalised word ending in a common street suffix (straat, laan, weg, plein,
    gracht, kade, singel, dijk, hof, steeg, pad, dreef, …) with at least two letters before
    the suffix, optionally after capitalised words and name particles (``Jan van
    Galenstraat``), then a house number (1–4 digits, optional ``12a``, ``12-2``, ``12-hs``).
    Words that end in a suffix but are no street (``Onderweg``, ``Loopbaan``, ``Notepad``,
    …) are refused; so are numbers that read as years (19xx, 20xx) or are followed by a
    unit (``12 km``, ``12 minuten``). Streets without a suffix (``Lange Voorhout 34-2``)
    count only after an adjective of place (Lange, Korte, Oude, Nieuwe, Hoge, Lage, Grote,
    Kleine) and only when an address cue (``woont``, ``adres``, ``lives at``, …) is near or
    the number has an addition (``34-2``, ``12a``): titles such as ``Kleine Zeemeermin 2``
    stay unflagged. English: house number, one to three capitalised words and a street type
    (Street, Road, Avenue, Lane, Drive, Boulevard, Crescent, Terrace, Square, Gardens,
    Grove, Mews and the usual abbreviations). A postcode right after a street is taken into
    the same finding. A street name without a number is not flagged.
``iban``
    Two letters, two check digits, then the country's length (ISO 13616 registry) with
    single spaces allowed; only when the mod-97 checksum is 1 and the check digits are
    02–98. Countries missing from the table count only written compact and in capitals.
``bsn``
    A standalone 8 or 9 digit number (8 digits get a leading zero), or one written
    ``1234.56.789`` / ``1234 56 789``, that passes the 11-test and is not all zeros. The
    confidence is higher when ``BSN``/``burgerservicenummer``/``sofinummer`` is near; a
    number that is one group of a longer spaced number (``06 111222333``) needs that cue.
``licence_plate``
    The fourteen Dutch sidecodes (``XX-99-99`` … ``999-XX-9``) with consonants for letters
    (no vowels and no Y, so no word or abbreviation with one is a plate). Written with dashes they always count; written
    without dashes (``GB123C``) only in capitals and with a cue word (``kenteken``,
    ``licence plate``, ``auto``, …) near, since ``NL2024`` is more often not a plate.
``date_of_birth``
    A date (``d-m-yyyy``, ``d/m/yyyy``, ``d.m.yyyy``, ``yyyy-mm-dd``, ``d month yyyy`` and
    ``month d, yyyy`` in Dutch and English) that is a real calendar date between 1900 and
    today, *and* a birth cue (geboren, geb., geboortedatum, born, DOB, date of birth,
    verjaardag, birthday) ends at most 40 characters before it or starts at most 20
    characters after it. A bare date is not a date of birth.

The Dutch and English rules always run together: posts on Dutch platforms mix the two,
and numbers, addresses and plates look the same in either. `language` is accepted so every
classifier has the same call; it does not switch rules off.

Personal data never reaches a log: findings carry offsets, not the matched text (unless a
caller asks with ``include_text=True``; even then `repr` leaves it out), and the module
logs only the number of findings per kind.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

logger = logging.getLogger(__name__)

__all__ = [
    "Finding",
    "Kind",
    "find_personal_data",
    "is_valid_bsn",
    "is_valid_iban",
    "redact",
]


class Kind(StrEnum):
    """What kind of personal data a finding is. The values are stable codes: never rename one."""

    PHONE = "phone"
    EMAIL = "email"
    POSTCODE_HOUSE_NUMBER = "postcode_house_number"
    STREET_ADDRESS = "street_address"
    IBAN = "iban"
    BSN = "bsn"
    LICENCE_PLATE = "licence_plate"
    DATE_OF_BIRTH = "date_of_birth"


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of personal data in a text, at ``text[start:end]``.

    ``validated`` is true when the candidate passed a validator beyond its pattern (a
    checksum, the phone number metadata, the e-mail validator, a real calendar date);
    ``confidence`` (0..1) is the rule's own estimate of how likely the span is personal
    data. ``text`` is the matched text only when the caller asked for it, and never shows
    in ``repr``, so a finding can be logged or put in an exception without leaking.
    """

    kind: Kind
    start: int
    end: int
    validated: bool
    confidence: float
    text: str | None = field(default=None, repr=False)


# --- shared pieces -------------------------------------------------------------------------

_ANY_DIGIT = re.compile(r"\d")
# How far a cue word may be from a candidate: it ends at most this many characters before
# the candidate, or starts at most this many after it.
_CUE_BEFORE = 40
_CUE_AFTER = 20


def _near(cue: re.Pattern[str], text: str, start: int, end: int) -> bool:
    """Whether `cue` occurs in the window around ``text[start:end]``."""
    if cue.search(text, max(0, start - _CUE_BEFORE), start):
        return True
    return cue.search(text, end, min(len(text), end + _CUE_AFTER)) is not None


# --- e-mail --------------------------------------------------------------------------------

_LOCAL_CHAR = r"[\w!#$%&'*+/=?^`{|}~-]"
_AT = r"(?:@|[ \t]*[\[(][ \t]*(?:at|apenstaartje)[ \t]*[\])][ \t]*)"
_DOT = r"(?:\.|[ \t]*[\[(][ \t]*(?:dot|punt)[ \t]*[\])][ \t]*)"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_EMAIL = re.compile(
    rf"(?<![\w.!#$%&'*+/=?^`{{|}}~-])(?P<local>{_LOCAL_CHAR}+(?:\.{_LOCAL_CHAR}+)*)"
    rf"(?P<at>{_AT})(?P<domain>{_LABEL}(?:{_DOT}{_LABEL})+)",
    re.IGNORECASE,
)
_DOT_DISGUISE = re.compile(r"[ \t]*[\[(][ \t]*(?:dot|punt)[ \t]*[\])][ \t]*", re.IGNORECASE)
_email_validator = EmailValidator()


def _find_emails(text: str) -> Iterator[Finding]:
    if "@" not in text and "(" not in text and "[" not in text:
        return
    for match in _EMAIL.finditer(text):
        disguised = match.group("at") != "@" or _DOT_DISGUISE.search(match.group("domain")) is not None
        address = match.group("local") + "@" + _DOT_DISGUISE.sub(".", match.group("domain"))
        try:
            _email_validator(address)
        except ValidationError:
            continue
        yield Finding(Kind.EMAIL, match.start(), match.end(), True, 0.8 if disguised else 0.95)


# --- phone numbers -------------------------------------------------------------------------

_SERVICE_NUMBER_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.UAN,
    }
)
_DECIMAL_AFTER = re.compile(r"[.,]\d")
_ID_LABEL_BEFORE = re.compile(
    r"\b(?:order|bestel|factuur|invoice|klant|customer|referentie|reference|ref|tracking|zending|artikel"
    r"|transactie|transaction|kvk|btw|vat|ticket)\w*[ \t]*(?:nr\.?|no\.?|nummer|number|id)?[ \t]*[:#.]?[ \t]*$",
    re.IGNORECASE,
)


# A run of digits with the separators people write in phone numbers, and its digit groups.
_PHONE_RUN = re.compile(r"(?<![\w.,+-])[(+]*\d[\d()+ \t./-]*")
_PHONE_GROUP = re.compile(r"\(?\+?\d+\)?")
_DECIMAL_BEFORE = re.compile(r"\d[.,]$")
# A phone number spans at most this many digit groups ("+31 6 12 34 56 78" has six).
_MAX_PHONE_GROUPS = 7


def _phone_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span of a valid personal phone number written as ``text[start:end]``, or None."""
    candidate = text[start:end]
    if candidate.startswith("(") and candidate.find(")") == len(candidate) - 1:
        # "(06-12345678)": brackets around the whole number, not around an area code.
        start, end, candidate = start + 1, end - 1, candidate[1:-1]
    if candidate.count("(") > candidate.count(")") and candidate.startswith("("):
        start, candidate = start + 1, candidate[1:]
    if candidate.count(")") > candidate.count("(") and candidate.endswith(")"):
        end, candidate = end - 1, candidate[:-1]
    if not 7 <= sum(char.isdigit() for char in candidate) <= 17:
        return None
    try:
        number = phonenumbers.parse(candidate, "NL")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.number_type(number) in _SERVICE_NUMBER_TYPES:
        return None
    if _DECIMAL_AFTER.match(text, end) or _DECIMAL_BEFORE.search(text, max(0, start - 2), start):
        return None
    if _ID_LABEL_BEFORE.search(text[max(0, start - _CUE_BEFORE) : start]):
        return None
    return start, end


def _find_phones(text: str) -> Iterator[Finding]:
    """Phone numbers: in each run of digit groups, the longest valid number from each group that can start one.

    `phonenumbers.PhoneNumberMatcher` gives up on a run such as ``06-12345678 1990`` (the
    whole run is no number); trying the groups ourselves finds the number inside it.
    """
    for run in _PHONE_RUN.finditer(text):
        groups = list(_PHONE_GROUP.finditer(text, run.start(), run.end()))
        i = 0
        while i < len(groups):
            # Written numbers begin with +, 00 or the trunk 0; a bare run of digits is more often an id.
            if groups[i].group().lstrip("(")[:1] in ("+", "0"):
                for j in range(min(len(groups), i + _MAX_PHONE_GROUPS) - 1, i - 1, -1):
                    span = _phone_span(text, groups[i].start(), groups[j].end())
                    if span is not None:
                        yield Finding(Kind.PHONE, span[0], span[1], True, 0.9)
                        i = j
                        break
            i += 1


# --- IBAN ----------------------------------------------------------------------------------

# IBAN lengths per country from the ISO 13616 registry (SWIFT's IBAN registry).
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
    "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
    "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
    "GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
    "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
    "NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "QA": 29, "RO": 24, "RS": 22, "RU": 33,
    "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
}  # fmt: skip
_IBAN_COMPACT = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?=[ ]?[A-Za-z0-9])")


def is_valid_iban(value: str) -> bool:
    """Whether `value` (spaces allowed, any case) is an IBAN with a correct ISO 13616 mod-97 checksum.

    A country in `IBAN_LENGTHS` must have its length; check digits 00, 01 and 99 satisfy the
    congruence but are never issued, so they are refused.
    """
    iban = value.replace(" ", "").upper()
    if not _IBAN_COMPACT.fullmatch(iban):
        return False
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    if iban[2:4] in ("00", "01", "99"):
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _take_alnum(text: str, pos: int, count: int) -> int | None:
    """The end of `count` ASCII letters/digits from `pos`, single spaces between them allowed; None if short."""
    taken = 0
    i = pos
    while taken < count:
        if i < len(text) and text[i].isascii() and text[i].isalnum():
            taken += 1
            i += 1
        elif i + 1 < len(text) and text[i] == " " and text[i + 1].isascii() and text[i + 1].isalnum():
            i += 1
        else:
            return None
    return i


def _find_ibans(text: str) -> Iterator[Finding]:
    for match in _IBAN_START.finditer(text):
        country = match.group()[:2].upper()
        expected = IBAN_LENGTHS.get(country)
        if expected is None:
            compact = re.match(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}(?![A-Za-z0-9])", text[match.start() :])
            if compact and is_valid_iban(compact.group()):
                yield Finding(Kind.IBAN, match.start(), match.start() + compact.end(), True, 0.95)
            continue
        end = _take_alnum(text, match.end(), expected - 4)
        if end is None or (end < len(text) and text[end].isascii() and text[end].isalnum()):
            continue
        if is_valid_iban(text[match.start() : end]):
            yield Finding(Kind.IBAN, match.start(), end, True, 0.95)


# --- BSN -----------------------------------------------------------------------------------

_BSN = re.compile(
    r"(?<![\w.,/-])"
    r"(?:(?P<dotted>\d{4}\.\d{2}\.\d{3})|(?P<spaced>\d{4} \d{2} \d{3})|(?P<plain>\d{8,9}))"
    r"(?![\w])(?![.,/-]\d)"
)
_DIGIT_GROUP_BEFORE = re.compile(r"\d[ \t]$")
_DIGIT_GROUP_AFTER = re.compile(r"[ \t]\d")
_BSN_CUE = re.compile(
    r"\b(?:bsn|burger[ -]?service[ -]?nummer|sofi(?:[ -]?nummer)?|citizen service number|social security)\b",
    re.IGNORECASE,
)


def is_valid_bsn(value: str) -> bool:
    """Whether `value` (8 or 9 digits; 8 get a leading zero) passes the BSN 11-test and is not all zeros.

    The 11-test ("elfproef"): 9*d1 + 8*d2 + ... + 2*d8 - 1*d9 is divisible by 11.
    """
    if not (value.isascii() and value.isdigit() and len(value) in (8, 9)):
        return False
    digits = [int(char) for char in value.zfill(9)]
    if not any(digits):
        return False
    total = sum(weight * digit for weight, digit in zip(range(9, 1, -1), digits[:8], strict=True)) - digits[8]
    return total % 11 == 0


def _find_bsns(text: str) -> Iterator[Finding]:
    for match in _BSN.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if not is_valid_bsn(digits):
            continue
        cued = _near(_BSN_CUE, text, match.start(), match.end())
        # One group of a longer spaced number ("06 111222333") counts only with a cue.
        if not cued and (
            _DIGIT_GROUP_BEFORE.search(text, max(0, match.start() - 2), match.start())
            or _DIGIT_GROUP_AFTER.match(text, match.end())
        ):
            continue
        yield Finding(Kind.BSN, match.start(), match.end(), True, 0.95 if cued else 0.6)


# --- addresses -----------------------------------------------------------------------------

_UNIT_AFTER = (
    r"(?![ \t]*(?:%|procent|percent|km|kilometer|meter|m\b|min\b|minuten|minutes|uur|hours|jaar|jaren|years"
    r"|euro|eur\b|keer|times|x\b))"
)
_HOUSE_NUMBER = (
    r"(?!(?:19|20)\d\d(?!\d))[1-9]\d{0,3}"
    r"(?:[a-zA-Z](?!\w)|[ \t]?-[ \t]?(?:\d{1,4}|[a-zA-Z]{1,3})(?!\w)|[ \t](?:hs|bis|huis|boven)(?!\w))?"
    r"(?!\w)(?![.,]\d)" + _UNIT_AFTER
)
_NUMBER_LEAD = r"(?:[ \t]+|[ \t]*,[ \t]*)(?:(?:nr|no|nummer|huisnummer)\.?[ \t]*)?"
_POSTCODE_LETTERS_REFUSED = r"(?:SA|SD|SS)"
_UNIT_LETTERS = r"(?:km|kg|mg|ml|cm|mm|dl|cl|gb|mb|kb|tb|hz|kw|mw|pk|cc|ms|ns|ps|am|pm|th|st|nd|rd|jr|gr|ct|ad|bc)"
_POSTCODE = (
    rf"[1-9]\d{{3}}(?:[ \t]?(?!{_POSTCODE_LETTERS_REFUSED})[A-Z]{{2}}"
    rf"|(?!(?i:{_POSTCODE_LETTERS_REFUSED}|{_UNIT_LETTERS}))[A-Za-z]{{2}})(?![A-Za-z])"
)
_POSTCODE_HOUSE_NUMBER = re.compile(
    rf"(?<![\w.,/€$£-]){_POSTCODE}(?:[ \t]*,[ \t]*|[ \t]*)(?:(?:nr|no|nummer|huisnummer)\.?[ \t]*)?"
    rf"(?!(?:19|20)\d\d(?!\d))[1-9]\d{{0,4}}(?:[a-zA-Z](?!\w)|-\d{{1,3}}(?!\d)|-[a-zA-Z]{{1,3}}(?!\w))?"
    rf"(?!\w)(?![.,]\d)" + _UNIT_AFTER
)
_POSTCODE_AFTER_STREET = re.compile(rf"[ \t]*,?[ \t]*(?:\n[ \t]*)?{_POSTCODE}")

_STREET_SUFFIXES = (
    "straat", "laan", "weg", "plein", "gracht", "kade", "singel", "dijk", "hof", "steeg", "pad", "dreef",
    "plantsoen", "baan", "burgwal", "haven", "allee", "boulevard", "park", "kanaal", "wetering", "vliet",
)  # fmt: skip
# Words that end in a street suffix but are seldom a street: adverbs, careers, tech words.
_NOT_STREETS = frozenset(
    {
        "onderweg", "simpelweg", "gewoonweg", "kortweg", "domweg", "botweg", "grofweg", "halfweg",
        "zomerweg", "loopbaan", "blokkade", "keypad", "notepad", "launchpad", "trackpad", "touchpad",
        "numpad", "thinkpad", "mousepad", "scratchpad", "gamepad", "ipad", "jetpad", "rijbaan", "ijsbaan",
        "achtbaan", "renbaan", "glijbaan", "startbaan",
    }
)  # fmt: skip
_NAME_WORD = r"[A-Z][a-zà-öø-ÿ'.-]*"
_PARTICLE = r"(?:van|de|der|den|het|ten|ter|te|'t|la|le|du)"
_NL_STREET = re.compile(
    rf"(?<![\w-])(?:(?:{_NAME_WORD}|\d{{1,2}}e)[ \t]+(?:(?:{_NAME_WORD}|{_PARTICLE})[ \t]+){{0,3}})?"
    rf"(?P<name>[A-Z][a-zà-öø-ÿ'-]+?(?:{'|'.join(_STREET_SUFFIXES)}))"
    rf"{_NUMBER_LEAD}(?P<number>{_HOUSE_NUMBER})"
)
_PLACE_ADJECTIVE = r"(?:Lange|Korte|Oude|Nieuwe|Hoge|Lage|Grote|Kleine)"
_NL_STREET_WITHOUT_SUFFIX = re.compile(
    rf"(?<![\w-]){_PLACE_ADJECTIVE}[ \t]+[A-Z][a-zà-öø-ÿ'-]{{2,}}{_NUMBER_LEAD}"
    rf"(?P<number>[1-9]\d{{0,2}}(?P<addition>[a-zA-Z](?!\w)|[ \t]?-[ \t]?(?:\d{{1,4}}|[a-zA-Z]{{1,3}})(?!\w))?)"
    rf"(?!\w)(?![.,]\d)" + _UNIT_AFTER
)
_ADDRESS_CUE = re.compile(
    r"\b(?:woont|woon|wonen|woonachtig|adres|address|lives|live|living|verhuisd|moved)\b", re.IGNORECASE
)
_EN_STREET_TYPES = (
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Boulevard|Blvd|Crescent|Terrace|Square|Gardens|Grove|Mews)"
)
_EN_STREET = re.compile(
    rf"(?<![\w.,/-])(?!(?:19|20)\d\d(?!\d))[1-9]\d{{0,4}}[A-Za-z]?[ \t]+(?:[A-Z][a-z'-]+[ \t]+){{1,3}}"
    rf"{_EN_STREET_TYPES}\b\.?"
)


def _with_postcode(text: str, end: int) -> int:
    """`end`, moved past a postcode that follows a street address (``Kerkstraat 12, 1234 AB``)."""
    after = _POSTCODE_AFTER_STREET.match(text, end)
    return after.end() if after else end


def _find_street_addresses(text: str) -> Iterator[Finding]:
    for match in _NL_STREET.finditer(text):
        if match.group("name").lower() in _NOT_STREETS:
            continue
        yield Finding(Kind.STREET_ADDRESS, match.start(), _with_postcode(text, match.end()), False, 0.75)
    for match in _NL_STREET_WITHOUT_SUFFIX.finditer(text):
        if match.group("addition") is None and not _near(_ADDRESS_CUE, text, match.start(), match.end()):
            continue
        yield Finding(Kind.STREET_ADDRESS, match.start(), _with_postcode(text, match.end()), False, 0.6)
    for match in _EN_STREET.finditer(text):
        yield Finding(Kind.STREET_ADDRESS, match.start(), match.end(), False, 0.75)


def _find_postcodes(text: str) -> Iterator[Finding]:
    for match in _POSTCODE_HOUSE_NUMBER.finditer(text):
        yield Finding(Kind.POSTCODE_HOUSE_NUMBER, match.start(), match.end(), False, 0.9)


# --- licence plates ------------------------------------------------------------------------

# The sidecodes of Dutch licence plates (RDW), L a letter and 9 a digit, in order of issue.
SIDECODES: tuple[str, ...] = (
    "LL-99-99", "99-99-LL", "99-LL-99", "LL-99-LL", "LL-LL-99", "99-LL-LL", "99-LLL-9",
    "9-LLL-99", "LL-999-L", "L-999-LL", "LLL-99-L", "L-99-LLL", "9-LL-999", "999-LL-9",
)  # fmt: skip
# Letters on Dutch plates: consonants only, so no word is ever a plate. Current series use a
# subset (no C, Q or W); older and special series used more, so every consonant but Y counts.
_PLATE_LETTER = "[BCDFGHJKLMNPQRSTVWXZ]"


def _sidecode_pattern(sidecode: str, *, dashes: bool) -> str:
    groups = []
    for group in sidecode.split("-"):
        kind = group[0]
        groups.append((_PLATE_LETTER if kind == "L" else "[0-9]") + f"{{{len(group)}}}")
    return ("-" if dashes else "").join(groups)


_PLATE_DASHED = re.compile(
    r"(?<![\w-])(?:" + "|".join(_sidecode_pattern(s, dashes=True) for s in SIDECODES) + r")(?![\w]|-\w)",
    re.IGNORECASE,
)
_PLATE_COMPACT = re.compile(
    r"(?<![\w-])(?:" + "|".join(_sidecode_pattern(s, dashes=False) for s in SIDECODES) + r")(?![\w]|-\w)"
)
_PLATE_CUE = re.compile(
    r"\b(?:kenteken\w*|nummerplaat\w*|number ?plates?|licen[cs]e ?plates?|registration|plates?|auto|car|wagen"
    r"|bus|busje|scooter|motor)\b",
    re.IGNORECASE,
)


def _find_plates(text: str) -> Iterator[Finding]:
    for match in _PLATE_DASHED.finditer(text):
        cued = _near(_PLATE_CUE, text, match.start(), match.end())
        yield Finding(Kind.LICENCE_PLATE, match.start(), match.end(), False, 0.95 if cued else 0.8)
    for match in _PLATE_COMPACT.finditer(text):
        if _near(_PLATE_CUE, text, match.start(), match.end()):
            yield Finding(Kind.LICENCE_PLATE, match.start(), match.end(), False, 0.8)


# --- dates of birth ------------------------------------------------------------------------

_MONTHS: dict[str, int] = {
    "januari": 1, "january": 1, "jan": 1,
    "februari": 2, "february": 2, "feb": 2,
    "maart": 3, "march": 3, "mrt": 3, "mar": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "june": 6, "jun": 6,
    "juli": 7, "july": 7, "jul": 7,
    "augustus": 8, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10,
    "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
_MONTH = "(?:" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DATES = re.compile(
    r"(?<![\w.,/-])(?:"
    r"(?P<d1>\d{1,2})(?P<sep>[-/.])(?P<m1>\d{1,2})(?P=sep)(?P<y1>\d{4})"
    r"|(?P<y2>\d{4})-(?P<m2>\d{1,2})-(?P<d2>\d{1,2})"
    rf"|(?P<d3>\d{{1,2}})(?:st|nd|rd|th|ste|de|e)?[ \t]+(?:of[ \t]+)?(?P<mon3>{_MONTH}),?[ \t]+(?P<y3>\d{{4}})"
    rf"|(?P<mon4>{_MONTH})[ \t]+(?P<d4>\d{{1,2}})(?:st|nd|rd|th)?,?[ \t]+(?P<y4>\d{{4}})"
    r")(?![\w])(?![.,/-]\d)",
    re.IGNORECASE,
)
_BIRTH_CUE = re.compile(
    r"(?:\bgeboren\b|\bgeb\b\.?|\bgeboortedatum\b|\bgeboortedag\b|\bborn\b|\bdob\b|\bd\.o\.b\.?"
    r"|\bdate of birth\b|\bbirth ?date\b|\bverjaardag\b|\bbirthday\b)",
    re.IGNORECASE,
)


def _calendar_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _date_from(match: re.Match[str]) -> dt.date | None:
    if match.group("y1"):
        day, month, year = int(match.group("d1")), int(match.group("m1")), int(match.group("y1"))
        # Day first (Dutch and British); month first only where day first is no date (12/31/1990).
        return _calendar_date(year, month, day) or _calendar_date(year, day, month)
    if match.group("y2"):
        return _calendar_date(int(match.group("y2")), int(match.group("m2")), int(match.group("d2")))
    if match.group("y3"):
        month = _MONTHS[match.group("mon3").rstrip(".").lower()]
        return _calendar_date(int(match.group("y3")), month, int(match.group("d3")))
    month = _MONTHS[match.group("mon4").rstrip(".").lower()]
    return _calendar_date(int(match.group("y4")), month, int(match.group("d4")))


def _find_dates_of_birth(text: str) -> Iterator[Finding]:
    today = dt.date.today()
    for match in _DATES.finditer(text):
        date = _date_from(match)
        if date is None or not (dt.date(1900, 1, 1) <= date <= today):
            continue
        if _near(_BIRTH_CUE, text, match.start(), match.end()):
            yield Finding(Kind.DATE_OF_BIRTH, match.start(), match.end(), True, 0.9)


# --- the detector --------------------------------------------------------------------------

# When one finding lies inside another, the kind earlier here wins (an IBAN's digits are no BSN).
_PRECEDENCE: tuple[Kind, ...] = (
    Kind.EMAIL,
    Kind.IBAN,
    Kind.DATE_OF_BIRTH,
    Kind.STREET_ADDRESS,
    Kind.POSTCODE_HOUSE_NUMBER,
    Kind.PHONE,
    Kind.BSN,
    Kind.LICENCE_PLATE,
)
_DETECTORS = (
    _find_emails,
    _find_ibans,
    _find_dates_of_birth,
    _find_street_addresses,
    _find_postcodes,
    _find_phones,
    _find_bsns,
    _find_plates,
)


def find_personal_data(text: str, *, language: str | None = None, include_text: bool = False) -> list[Finding]:
    """The personal data in `text`, as findings ordered by position.

    `language` (a BCP 47 tag such as ``nl`` or ``en``, or None) is accepted for symmetry
    with the other classifiers; the Dutch and English rules run whatever it says (see the
    module docstring). A finding that lies wholly inside another of an earlier kind in
    `_PRECEDENCE` (or of the same kind) is dropped; partial overlaps stay, and `redact`
    merges them. With `include_text`, each finding carries its matched text.
    """
    del language  # accepted for the classifier interface; the rules are language-independent
    if not _ANY_DIGIT.search(text) and "@" not in text and "(" not in text and "[" not in text:
        return []
    candidates = [finding for detector in _DETECTORS for finding in detector(text)]
    rank = {kind: index for index, kind in enumerate(_PRECEDENCE)}
    # Longer spans first within a kind, so a contained duplicate is the one dropped.
    candidates.sort(key=lambda f: (rank[f.kind], -(f.end - f.start), f.start))
    kept: list[Finding] = []
    for candidate in candidates:
        if any(other.start <= candidate.start and candidate.end <= other.end for other in kept):
            continue
        kept.append(candidate)
    kept.sort(key=lambda f: (f.start, f.end))
    if kept:
        counts = Counter(finding.kind.value for finding in kept)
        logger.debug("doxing findings: %s", ", ".join(f"{kind}={n}" for kind, n in sorted(counts.items())))
    if include_text:
        return [replace(finding, text=text[finding.start : finding.end]) for finding in kept]
    return kept


def redact(text: str, findings: Sequence[Finding], *, char: str | None = None) -> str:
    """`text` with the span of every finding masked.

    By default each span (overlapping spans merged) becomes ``[kind]``, e.g. ``Bel [phone]``.
    With `char` (one character), every character of a span becomes `char`, so the text keeps
    its length and offsets.
    """
    if char is not None and len(char) != 1:
        raise ValueError("char must be a single character")
    spans: list[tuple[int, int, Kind]] = []
    for finding in sorted(findings, key=lambda f: (f.start, f.end)):
        if not (0 <= finding.start <= finding.end <= len(text)):
            raise ValueError("finding outside the text")
        if spans and finding.start < spans[-1][1]:
            start, end, kind = spans[-1]
            spans[-1] = (start, max(end, finding.end), kind)
        else:
            spans.append((finding.start, finding.end, finding.kind))
    parts: list[str] = []
    position = 0
    for start, end, kind in spans:
        parts.append(text[position:start])
        parts.append(char * (end - start) if char is not None else f"[{kind.value}]")
        position = end
    parts.append(text[position:])
    return "".join(parts)
