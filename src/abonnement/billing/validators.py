"""Pure validation of billing details and e-invoicing identifiers.

Contract: every function takes the raw text a person or an API client typed and either
returns the normalised value to store or raises ``ValidationFailed`` carrying exactly one
message for the ``field`` the caller passed in. Nothing here reads the database, the clock
or the network, so the portal, the API and the back office share the same rules and the
functions can be tested without a database.

An empty value is refused with "This field is required."; callers decide whether a field is
optional and only call these functions for non-empty values (``clean_text`` is the
exception: it takes ``required`` explicitly).

Messages never repeat the typed value back (it may be 10,000 characters long); they say
what is wrong and which format is expected. They are translated when raised.

Identifiers are checked for their ASCII shape *before* being upper-cased, so Unicode
look-alikes (a dotless i becoming ``I``, fullwidth digits) are refused instead of being
silently mapped onto a valid code, and lengths are checked before any number is handed to
python-stdnum (which converts digit strings to ``int``; Python refuses to convert more than
4,300 digits).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable
from typing import Final, NoReturn

from babel import Locale
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from django.utils.translation import gettext, ngettext
from stdnum import bic as stdnum_bic
from stdnum import ean as stdnum_ean
from stdnum import iban as stdnum_iban
from stdnum.be import vat as stdnum_be_vat
from stdnum.eu import vat as stdnum_eu_vat
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as StdnumValidationError
from stdnum.fi import ytunnus as stdnum_ytunnus
from stdnum.nl import btw as stdnum_nl_btw

from abonnement.core.errors import ValidationFailed
from abonnement.core.templatetags.portal import country_name

__all__ = [
    "EU_COUNTRIES",
    "INVOICE_LANGUAGES",
    "PEPPOL_SCHEMES",
    "clean_text",
    "postal_code_example",
    "validate_bic",
    "validate_business_id",
    "validate_country",
    "validate_einvoice_address",
    "validate_email_address",
    "validate_gln",
    "validate_iban",
    "validate_language",
    "validate_operator_code",
    "validate_ovt",
    "validate_peppol_participant",
    "validate_postal_code",
    "validate_vat_number",
]

EU_COUNTRIES: Final[frozenset[str]] = frozenset(
    {
        "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
        "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
    }
)  # fmt: skip
"""The 27 EU member states by ISO 3166-1 code (Greece is ``GR`` here, ``EL`` in VAT numbers)."""

INVOICE_LANGUAGES: Final[tuple[str, ...]] = ("en", "nl", "fi")

EMAIL_MAX_LENGTH: Final = 254
NON_EU_VAT_MAX_LENGTH: Final = 30

# Codes CLDR lists as territories that are not officially assigned ISO 3166-1 alpha-2
# codes: exceptionally reserved (AC, CP, CQ, DG, EA, EU, EZ, IC, TA, UN) and user-assigned
# (QO, XA, XB, ZZ). XK (Kosovo) is user-assigned too but is kept: the EU, SWIFT and CLDR
# use it, and Kosovan customers need an invoice address.
_NOT_ISO_COUNTRIES: Final = frozenset(
    {"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "TA", "UN", "QO", "XA", "XB", "ZZ"}
)

# Bidirectional embedding/override/isolate controls (Unicode category Cf). They can make
# text display differently from what it is, which has no place on an invoice.
_BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

_SEPARATORS_RE: Final = re.compile(r"[\s\-]+")
_BUSINESS_ID_RE: Final = re.compile(r"[0-9]{7}-?[0-9]")
_OVT_RE: Final = re.compile(r"0037([0-9]{8})([A-Z0-9]{0,5})")
_IBAN_SHAPE_RE: Final = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}")
_BIC_SHAPE_RE: Final = re.compile(r"[A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?")
_GLN_RE: Final = re.compile(r"[0-9]{13}")
_EIGHT_DIGITS_RE: Final = re.compile(r"[0-9]{8}")
_TWENTY_DIGITS_RE: Final = re.compile(r"[0-9]{20}")
_BE_ENTERPRISE_RE: Final = re.compile(r"[01][0-9]{9}")
_NL_VAT_RE: Final = re.compile(r"NL[0-9]{9}B[0-9]{2}")
_TWO_LETTERS_RE: Final = re.compile(r"[A-Z]{2}")
# The longest EU VAT number (NL, LT, …) is 14 characters with its prefix; anything much
# longer is refused before stdnum sees it.
_EU_VAT_MAX_COMPACT_LENGTH: Final = 16


def _fail(field: str, message: str) -> NoReturn:
    raise ValidationFailed.single(field, message)


def _required_message() -> str:
    # Django's own msgid, so the translation ships with Django.
    return gettext("This field is required.")


def _stripped(value: str, field: str) -> str:
    text = value.strip()
    if not text:
        _fail(field, _required_message())
    return text


def _compact(value: str) -> str:
    """Remove all whitespace (including non-breaking spaces) and hyphens."""
    return _SEPARATORS_RE.sub("", value)


def _ascii_upper(value: str) -> str | None:
    """Upper-case ``value`` if it is ASCII; ``None`` for anything else (see module doc)."""
    return value.upper() if value.isascii() else None


# --- Finnish business ID and OVT --------------------------------------------------------


def _business_id_format_message() -> str:
    return gettext(
        "Enter a Finnish business ID (Y-tunnus): seven digits, a hyphen and a check digit, "
        "for example 2332748-7."
    )


def _business_id_checksum_message() -> str:
    return gettext(
        "This business ID has an invalid check digit (the last digit). "
        "Check the number for typing errors."
    )


def _business_id_digits_valid(digits: str) -> bool:
    """True when eight ASCII digits carry a valid Y-tunnus check digit."""
    return stdnum_ytunnus.is_valid(digits)


def validate_business_id(value: str, field: str = "business_id") -> str:
    """Finnish business ID (Y-tunnus) ``NNNNNNN-N`` with its check digit.

    Accepted with or without the hyphen and with surrounding or inner spaces; returned as
    ``NNNNNNN-N``.
    """
    text = re.sub(r"\s+", "", _stripped(value, field))
    if not _BUSINESS_ID_RE.fullmatch(text):
        _fail(field, _business_id_format_message())
    digits = text.replace("-", "")
    if not _business_id_digits_valid(digits):
        _fail(field, _business_id_checksum_message())
    return f"{digits[:7]}-{digits[7]}"


def _ovt_format_message() -> str:
    return gettext(
        "Enter an OVT code: 0037, the eight digits of the business ID without the hyphen, "
        "and an optional suffix of up to five letters or digits (12 to 17 characters in "
        "all), for example 003723327487."
    )


def _ovt_checksum_message() -> str:
    return gettext(
        "The business ID inside this OVT code (the eight digits after 0037) has an invalid "
        "check digit. Check the code for typing errors."
    )


def _normalise_ovt(compact: str, field: str) -> str:
    """Check an OVT code from which separators were already removed."""
    upper = _ascii_upper(compact)
    match = _OVT_RE.fullmatch(upper) if upper is not None else None
    if match is None:
        _fail(field, _ovt_format_message())
    if not _business_id_digits_valid(match.group(1)):
        _fail(field, _ovt_checksum_message())
    return match.group(0)


def validate_ovt(value: str, field: str = "einvoice_address") -> str:
    """Finnish OVT code: ``0037`` + the 8 Y-tunnus digits + an optional 0-5 character suffix.

    Spaces and hyphens are removed and the suffix is upper-cased, so ``0037 2332748-7 ab``
    becomes ``003723327487AB``. The embedded business ID must have a valid check digit.
    """
    return _normalise_ovt(_compact(_stripped(value, field)), field)


# --- Banking: IBAN and BIC --------------------------------------------------------------


def _iban_format_message() -> str:
    return gettext(
        "Enter an IBAN: a two-letter country code, two check digits and the account number "
        "in the length used in that country, for example FI21 1234 5600 0007 85."
    )


def _iban_checksum_message() -> str:
    return gettext(
        "This IBAN has invalid check digits. Check the account number for typing errors."
    )


def validate_iban(value: str, field: str) -> str:
    """IBAN with its check digits and the country's length and structure.

    Returned upper-case without spaces (``FI2112345600000785``).
    """
    upper = _ascii_upper(_compact(_stripped(value, field)))
    if upper is None or not _IBAN_SHAPE_RE.fullmatch(upper):
        _fail(field, _iban_format_message())
    try:
        return str(stdnum_iban.validate(upper))
    except InvalidChecksum:
        pass
    except StdnumValidationError:
        _fail(field, _iban_format_message())
    # stdnum checks the check digits before the structure. Recompute them: if the number is
    # then valid (or fails only a national check digit), the structure is right and the
    # typed check digits are what is wrong; otherwise report the format.
    repaired = upper[:2] + stdnum_iban.calc_check_digits(upper) + upper[4:]
    try:
        stdnum_iban.validate(repaired)
    except InvalidChecksum:
        pass
    except StdnumValidationError:
        _fail(field, _iban_format_message())
    _fail(field, _iban_checksum_message())


def _bic_format_message() -> str:
    return gettext(
        "Enter a BIC (SWIFT code) of 8 or 11 characters: a four-letter bank code, a "
        "two-letter country code, a two-character location code and optionally a "
        "three-character branch code, for example NDEAFIHH."
    )


def validate_bic(value: str, field: str) -> str:
    """BIC (ISO 9362), 8 or 11 characters with a known country; returned upper-case."""
    upper = _ascii_upper(_compact(_stripped(value, field)))
    if upper is None or not _BIC_SHAPE_RE.fullmatch(upper):
        _fail(field, _bic_format_message())
    try:
        return str(stdnum_bic.validate(upper))
    except StdnumValidationError:
        _fail(
            field,
            gettext(
                "The country code in this BIC (the fifth and sixth characters) is not a "
                "known country. Check the code for typing errors."
            ),
        )


# --- GLN --------------------------------------------------------------------------------


def validate_gln(value: str, field: str) -> str:
    """GS1 Global Location Number: 13 digits, the last one a GS1 (EAN-13) check digit."""
    text = _compact(_stripped(value, field))
    if not _GLN_RE.fullmatch(text):
        _fail(
            field,
            gettext(
                "Enter a GLN (Global Location Number): 13 digits ending in a check digit, "
                "for example 5790000435968."
            ),
        )
    try:
        return str(stdnum_ean.validate(text))
    except StdnumValidationError:
        _fail(
            field,
            gettext(
                "This GLN has an invalid check digit (the last digit). "
                "Check the number for typing errors."
            ),
        )


# --- Peppol participant identifiers -----------------------------------------------------


def _peppol_0037(identifier: str, field: str) -> str:
    if not _EIGHT_DIGITS_RE.fullmatch(identifier):
        _fail(
            field,
            gettext(
                "A 0037 identifier is the eight digits of a Finnish business ID without the "
                "hyphen, for example 0037:23327487."
            ),
        )
    if not _business_id_digits_valid(identifier):
        _fail(field, _business_id_checksum_message())
    return identifier


def _peppol_0106(identifier: str, field: str) -> str:
    if not _EIGHT_DIGITS_RE.fullmatch(identifier):
        _fail(
            field,
            gettext(
                "A 0106 identifier is an 8-digit Dutch Chamber of Commerce (KvK) number, "
                "for example 0106:12345678."
            ),
        )
    return identifier


def _peppol_0190(identifier: str, field: str) -> str:
    if not _TWENTY_DIGITS_RE.fullmatch(identifier):
        _fail(
            field,
            gettext(
                "A 0190 identifier is a 20-digit Dutch government organisation number (OIN), "
                "for example 0190:00000001003214345000."
            ),
        )
    return identifier


def _peppol_0208(identifier: str, field: str) -> str:
    # Belgian enterprise numbers are often written 0697.449.992.
    identifier = identifier.replace(".", "")
    if not _BE_ENTERPRISE_RE.fullmatch(identifier):
        _fail(
            field,
            gettext(
                "A 0208 identifier is a 10-digit Belgian enterprise number starting with 0 "
                "or 1, for example 0208:0697449992."
            ),
        )
    try:
        stdnum_be_vat.validate(identifier)
    except StdnumValidationError:
        _fail(
            field,
            gettext(
                "This Belgian enterprise number has invalid check digits (the last two "
                "digits). Check the number for typing errors."
            ),
        )
    return identifier


def _peppol_9944(identifier: str, field: str) -> str:
    upper = _ascii_upper(identifier)
    if upper is None or not _NL_VAT_RE.fullmatch(upper):
        _fail(
            field,
            gettext(
                "A 9944 identifier is a Dutch VAT number: NL, nine digits, B and two digits, "
                "for example 9944:NL004495445B01."
            ),
        )
    try:
        stdnum_nl_btw.validate(upper)
    except InvalidChecksum:
        _fail(
            field,
            gettext(
                "This Dutch VAT number has an invalid check digit. "
                "Check the number for typing errors."
            ),
        )
    except StdnumValidationError:
        _fail(
            field,
            gettext(
                "This Dutch VAT number is not valid: the nine digits and the two digits "
                "after B must not be all zeros."
            ),
        )
    return upper


_PEPPOL_VALIDATORS: Final[dict[str, Callable[[str, str], str]]] = {
    "0216": _normalise_ovt,
    "0037": _peppol_0037,
    "0106": _peppol_0106,
    "0190": _peppol_0190,
    "0088": validate_gln,
    "0208": _peppol_0208,
    "9944": _peppol_9944,
}

PEPPOL_SCHEMES: Final[tuple[str, ...]] = tuple(_PEPPOL_VALIDATORS)
"""Peppol participant identifier schemes (ISO 6523 ICD) that ``validate_peppol_participant``
accepts, in the order they are listed to people."""


def validate_peppol_participant(value: str, field: str = "einvoice_address") -> str:
    """Peppol participant identifier ``SCHEME:ID``; returns the normalised ``SCHEME:ID``.

    Accepted schemes (ISO 6523 ICD) and their identifiers:

    - ``0216`` Finnish OVT code: ``0037`` + 8 Y-tunnus digits + optional 0-5 character
      suffix (the rules of ``validate_ovt``).
    - ``0037`` Finnish LY-tunnus: the 8 Y-tunnus digits without hyphen, valid check digit.
      Accepted because existing addresses use it, but Peppol's 2026.5 rules no longer
      accept 0037 as an *endpoint* scheme: callers that route a Finnish endpoint must
      send it with 0216 (``0216:0037`` + digits) instead.
    - ``0106`` Dutch KvK number: exactly 8 digits (no check digit exists).
    - ``0190`` Dutch OIN: exactly 20 digits.
    - ``0088`` GLN: 13 digits with a GS1 check digit.
    - ``0208`` Belgian enterprise number: 10 digits, first ``0`` or ``1``, mod-97 check
      (dots such as ``0697.449.992`` are removed).
    - ``9944`` Dutch VAT number: ``NL`` + 9 digits + ``B`` + 2 digits (upper-cased).

    Whitespace and hyphens are removed from the identifier.
    """
    text = _stripped(value, field)
    scheme, colon, identifier = text.partition(":")
    if not colon:
        _fail(
            field,
            gettext(
                "Enter a Peppol participant identifier as SCHEME:ID, for example 0216:003723327487."
            ),
        )
    scheme = _compact(scheme)
    validator = _PEPPOL_VALIDATORS.get(scheme)
    if validator is None:
        _fail(
            field,
            gettext(
                "Unknown Peppol identifier scheme. Use one of: 0216 (Finnish OVT code), "
                "0037 (Finnish business ID), 0106 (Dutch KvK number), 0190 (Dutch OIN), "
                "0088 (GLN), 0208 (Belgian enterprise number), 9944 (Dutch VAT number)."
            ),
        )
    identifier = _compact(identifier)
    if not identifier:
        _fail(
            field,
            gettext(
                "The identifier after the scheme is missing; enter it as SCHEME:ID, "
                "for example 0216:003723327487."
            ),
        )
    return f"{scheme}:{validator(identifier, field)}"


# --- E-invoice address and operator -----------------------------------------------------


# The shortest IBAN (Norway's): anything shorter with letters in front is no bank account,
# more likely a VAT number, and gets the general message rather than an IBAN's.
_IBAN_MIN_LENGTH: Final = 15


def validate_einvoice_address(value: str, field: str = "einvoice_address") -> str:
    """E-invoice address: a bare Finnish OVT code, a Peppol ``SCHEME:ID`` or an IBAN.

    Finnish e-invoice addresses may be bank accounts, hence the IBAN. The kind is told
    from the shape: a colon means Peppol, a leading ``0037`` an OVT code, two letters and
    two digits an IBAN; each kind is then validated (and normalised) by its own function.
    """
    text = _stripped(value, field)
    if ":" in text:
        return validate_peppol_participant(text, field)
    upper = _ascii_upper(_compact(text))
    if upper is not None and upper.startswith("0037"):
        return _normalise_ovt(upper, field)
    if upper is not None and re.fullmatch(r"FI\d{8}", upper):
        # A Finnish VAT number typed where its OVT code belongs: say how to write it.
        _fail(
            field,
            gettext(
                "This is a VAT number. As an e-invoice address it is written "
                "0037%(digits)s (0037 followed by the business ID digits)."
            )
            % {"digits": upper[2:]},
        )
    if upper is not None and _IBAN_SHAPE_RE.fullmatch(upper) and len(upper) >= _IBAN_MIN_LENGTH:
        return validate_iban(upper, field)
    _fail(
        field,
        gettext(
            "Enter an e-invoice address: an OVT code (0037 followed by the business ID "
            "digits, for example 003723327487), a Peppol participant identifier (SCHEME:ID, "
            "for example 0216:003723327487) or an IBAN."
        ),
    )


def validate_operator_code(value: str, field: str = "einvoice_operator") -> str:
    """E-invoice operator (intermediator) code, one of three kinds:

    - an OVT-style code: ``0037`` + the operator's 8 Y-tunnus digits + optional suffix;
    - a bank's BIC, for banks that act as operators (``NDEAFIHH``);
    - a Peppol participant identifier ``SCHEME:ID``.

    Legacy free-form codes (``E204503``, ``INEXCHANGE``) are refused.
    """
    text = _stripped(value, field)
    if ":" in text:
        return validate_peppol_participant(text, field)
    upper = _ascii_upper(_compact(text))
    if upper is not None and upper.startswith("0037"):
        return _normalise_ovt(upper, field)
    if upper is not None and _BIC_SHAPE_RE.fullmatch(upper):
        return validate_bic(upper, field)
    _fail(
        field,
        gettext(
            "Enter an operator code: an OVT-style code (0037 followed by the operator's "
            "business ID digits, for example 003723327487), a bank's BIC (for example "
            "NDEAFIHH) or a Peppol participant identifier (SCHEME:ID)."
        ),
    )


# --- VAT number -------------------------------------------------------------------------


def validate_vat_number(value: str, country: str, field: str = "vat_number") -> str:
    """VAT number of an organisation in ``country`` (ISO 3166-1 alpha-2).

    EU member states: checked with python-stdnum for the country's format and check
    digits; the prefix must be the country's (``EL`` for Greece, where ``GR`` is accepted
    and rewritten). A number typed without prefix gets it. Returned compact with prefix
    (``FI23327487``, ``BE0697449992``). No VIES look-up happens here.

    Other countries: there is no common format, so any 1-30 printable characters are
    accepted and returned stripped of surrounding whitespace, otherwise unchanged.
    """
    text = _stripped(value, field)
    country_code = country.strip().upper()
    if country_code not in EU_COUNTRIES:
        if len(text) > NON_EU_VAT_MAX_LENGTH:
            _fail(
                field,
                gettext("A VAT or tax number has at most %(max)d characters.")
                % {"max": NON_EU_VAT_MAX_LENGTH},
            )
        if not text.isprintable():
            _fail(
                field,
                gettext(
                    "A VAT or tax number cannot contain control characters such as line "
                    "breaks or tabs."
                ),
            )
        return text

    prefix = "EL" if country_code == "GR" else country_code
    format_message = gettext(
        "Enter the VAT number in the format used in %(country)s, starting with %(prefix)s."
    ) % {"country": country_code, "prefix": prefix}
    upper = _ascii_upper(re.sub(r"[\s.\-/]+", "", text))
    if upper is None or len(upper) > _EU_VAT_MAX_COMPACT_LENGTH:
        _fail(field, format_message)
    if country_code == "GR" and upper.startswith("GR"):
        upper = "EL" + upper[2:]
    if not upper.startswith(prefix):
        head = upper[:2]
        if _TWO_LETTERS_RE.fullmatch(head) and (head in EU_COUNTRIES or head in {"EL", "XI"}):
            _fail(
                field,
                gettext(
                    "This VAT number belongs to another country. A VAT number for "
                    "%(country)s starts with %(prefix)s."
                )
                % {"country": country_code, "prefix": prefix},
            )
        upper = prefix + upper
    try:
        return str(stdnum_eu_vat.validate(upper))
    except InvalidChecksum:
        _fail(
            field,
            gettext(
                "This VAT number has an invalid check digit. Check the number for typing errors."
            ),
        )
    except StdnumValidationError:
        _fail(field, format_message)


# --- Contact, address and preferences ---------------------------------------------------

# Django's default allows ``localhost`` as a domain; no address here may be on this machine.
_email_validator: Final = EmailValidator(allowlist=())


def validate_email_address(value: str, field: str) -> str:
    """E-mail address checked with Django's ``EmailValidator``; at most 254 characters.

    The domain must be an internet domain name: ``localhost``, any name without a dot and
    address literals (``user@[127.0.0.1]``, ``user@[IPv6:::1]``) are refused, since such a
    mailbox is on one machine or network rather than a contact anyone can write to. The
    domain is lower-cased (domains are case-insensitive, local parts are not).
    """
    text = _stripped(value, field)
    if len(text) > EMAIL_MAX_LENGTH:
        _fail(
            field,
            gettext("An e-mail address has at most %(max)d characters.")
            % {"max": EMAIL_MAX_LENGTH},
        )
    local, at, domain = text.rpartition("@")
    if at and local and domain and (domain.startswith("[") or "." not in domain.strip(".")):
        _fail(
            field,
            gettext(
                "Enter an e-mail address at an internet domain, such as name@example.com "
                "(not at localhost or an IP address)."
            ),
        )
    try:
        _email_validator(text)
    except DjangoValidationError:
        _fail(field, gettext("Enter a valid e-mail address, such as name@example.com."))
    return f"{local}@{domain.lower()}"


@functools.cache
def _country_codes() -> frozenset[str]:
    # CLDR territories also include UN M.49 regions ("001", "150"); keep the letter codes.
    codes = {code for code in Locale("en").territories if isinstance(code, str)}
    return frozenset(
        code
        for code in codes
        if len(code) == 2 and code.isascii() and code.isalpha() and code not in _NOT_ISO_COUNTRIES
    )


def validate_country(value: str, field: str = "country") -> str:
    """ISO 3166-1 alpha-2 country code (checked against CLDR via Babel), upper-cased."""
    upper = _ascii_upper(_stripped(value, field))
    if upper is None or upper not in _country_codes():
        _fail(
            field,
            gettext("Enter a two-letter ISO 3166 country code, for example FI, NL or DE."),
        )
    return upper


# Postal codes of the countries whose format is fixed by their postal service: the shape
# of the code with spaces and hyphens removed (and, where people write it first, the
# country's own prefix such as "FI-" or "LT-"), how it is written, and an example.
_POSTAL_FORMATS: Final[dict[str, tuple[str, Callable[[str], str], str]]] = {}


def _postal(examples: str, pattern: str, write: Callable[[str], str]) -> None:
    """``examples``: "FI:00100 DE:10115", a code of each country as it is written there."""
    for item in examples.split():
        country, example = item.split(":")
        _POSTAL_FORMATS[country] = (pattern, write, example.replace("_", " "))


def _as_is(code: str) -> str:
    return code


def _split(at: int, separator: str = " ") -> Callable[[str], str]:
    return lambda code: f"{code[:at]}{separator}{code[at:]}"


_postal("DE:10115 EE:10111 ES:28001 FI:00100 FR:75001 HR:10000 IT:00118", r"[0-9]{5}", _as_is)
_postal(
    "AT:1010 BE:1000 BG:1000 CH:8001 CY:1010 DK:1050 HU:1051 LI:9490 NO:0150 SI:1000",
    r"[0-9]{4}",
    _as_is,
)
_postal("LU:1009", r"L?[0-9]{4}", lambda code: code[-4:])  # also written "L-1009"
_postal("CZ:110_00 GR:105_57 SE:111_22 SK:811_01", r"[0-9]{5}", _split(3))
_postal("IS:101", r"[0-9]{3}", _as_is)
_postal("RO:010011", r"[0-9]{6}", _as_is)
_postal("PL:00-950", r"[0-9]{5}", _split(2, "-"))
_postal("PT:1000-001", r"[0-9]{7}", _split(4, "-"))
_postal("LT:LT-01100", r"[0-9]{5}", lambda code: f"LT-{code}")
_postal("LV:LV-1050", r"[0-9]{4}", lambda code: f"LV-{code}")
_postal("NL:1015_CJ", r"[1-9][0-9]{3}(?!SA|SD|SS)[A-Z]{2}", _split(4))
_postal("MT:VLT_1117", r"[A-Z]{3}[0-9]{4}", _split(3))
_postal("IE:D02_X285", r"(?:[AC-FHKNPRTV-Y][0-9]{2}|D6W)[0-9AC-FHKNPRTV-Y]{4}", _split(3))
_postal(
    "GB:SW1A_1AA",
    r"(?:[A-PR-UWYZ][0-9][0-9A-HJKPSTUW]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRVWXY]?)"
    r"[0-9][ABD-HJLNP-UW-Z]{2}",
    lambda code: f"{code[:-3]} {code[-3:]}",
)
_postal("US:94105", r"[0-9]{5}(?:[0-9]{4})?", lambda c: c if len(c) == 5 else _split(5, "-")(c))
_postal("CA:K1A_0B1", r"[ABCEGHJ-NPRSTVXY][0-9][A-Z][0-9][A-Z][0-9]", _split(3))


def postal_code_example(country: str) -> str | None:
    """A postal code of ``country`` as it is written there; None where no format is fixed."""
    known = _POSTAL_FORMATS.get(country)
    return known[2] if known else None


def validate_postal_code(value: str, country: str, field: str = "postal_code") -> str:
    """Postal code of an address in ``country`` (ISO 3166-1 alpha-2, already valid).

    Where the country's postal service fixes the format (the EU and EEA states, CH, GB, US,
    CA), the code must have that shape and is returned as the country writes it: spaces
    and hyphens where they belong, letters upper-cased, the "LT-"/"LV-" prefix that
    Lithuania and Latvia print (``00100``, ``111 22``, ``1015 CJ``, ``SW1A 1AA``). Other
    countries: single-line text of at most 20 characters, returned stripped.
    """
    text = clean_text(value, field, required=True, max_length=20)
    known = _POSTAL_FORMATS.get(country)
    if known is None:
        return text
    pattern, write, example = known
    compact = _ascii_upper(_compact(text))
    if compact is not None and not re.fullmatch(pattern, compact) and compact[:2] == country:
        compact = compact[2:]  # "FI-00100", "LT-01100", "NL 1015CJ"
    if compact is None or not re.fullmatch(pattern, compact):
        _fail(
            field,
            gettext(
                "Enter a postal code in the format of the chosen country (%(country)s), "
                "for example %(example)s."
            )
            % {"country": country_name(country), "example": example},
        )
    return write(compact)


def validate_language(value: str, field: str = "invoice_language") -> str:
    """Invoice language: ``en``, ``nl`` or ``fi`` (case-insensitive), returned lower-case."""
    code = _stripped(value, field).lower()
    if code not in INVOICE_LANGUAGES:
        _fail(
            field,
            gettext("Choose an invoice language: en (English), nl (Dutch) or fi (Finnish)."),
        )
    return code


def _is_forbidden_character(character: str) -> bool:
    category = unicodedata.category(character)
    # Cc: C0/C1 controls incl. tab and line breaks; Cs: lone surrogates (not encodable);
    # Zl/Zp: Unicode line and paragraph separators.
    return category in {"Cc", "Cs", "Zl", "Zp"} or character in _BIDI_CONTROLS


def clean_text(value: str, field: str, *, required: bool, max_length: int) -> str:
    """Single-line free text (names, street, city, reference …), stripped.

    Refuses: an empty value when ``required``; more than ``max_length`` characters (code
    points, after stripping); control characters of any kind, including tabs and line
    breaks, Unicode line/paragraph separators and bidirectional overrides. All letters,
    marks, symbols and emoji are fine.
    """
    text = value.strip()
    if not text:
        if required:
            _fail(field, _required_message())
        return ""
    if len(text) > max_length:
        # Django's own msgids, so the translations ship with Django.
        _fail(
            field,
            ngettext(
                "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
                "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
                max_length,
            )
            % {"limit_value": max_length, "show_value": len(text)},
        )
    for position, character in enumerate(text, start=1):
        if _is_forbidden_character(character):
            _fail(
                field,
                gettext(
                    "Remove the control character at position %(position)d (such as a tab "
                    "or line break); this field takes a single line of text."
                )
                % {"position": position},
            )
    return text
