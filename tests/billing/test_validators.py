"""The billing-details validation layer: exact normalised values and exact refusals.

Every example identifier is checksum-valid (computed with python-stdnum, not guessed):
Y-tunnus 2332748-7 (Apix Messaging), IBAN FI21 1234 5600 0007 85, GLN 5790000435968,
Belgian enterprise number 0697.449.992, Dutch VAT NL004495445B01. The properties check the
Y-tunnus rules against an oracle written here from the published weights (7 9 10 5 8 4 2).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from importlib.resources import files

import pytest
from django.utils import translation
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from abonnement.billing import validators as v
from abonnement.billing.operators import load_operator_table
from abonnement.core.errors import FieldError, ValidationFailed

Y_TUNNUS_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def refusal(call: Callable[[], object]) -> FieldError:
    """Run ``call``, expect exactly one field error, return it."""
    with pytest.raises(ValidationFailed) as caught:
        call()
    assert caught.value.code == "validation_error"
    assert caught.value.status == 422
    assert len(caught.value.errors) == 1
    return caught.value.errors[0]


def assert_refused(call: Callable[[], object], field: str, fragment: str) -> None:
    error = refusal(call)
    assert error.field == field
    assert fragment in error.message, error.message


def check_digit(seven_digits: str) -> int | None:
    """Oracle: the Y-tunnus check digit, or None when no check digit exists."""
    remainder = sum(w * int(d) for w, d in zip(Y_TUNNUS_WEIGHTS, seven_digits, strict=True)) % 11
    if remainder == 1:
        return None
    return 0 if remainder == 0 else 11 - remainder


FORMAT_BUSINESS_ID = "seven digits, a hyphen and a check digit"
CHECKSUM_BUSINESS_ID = "This business ID has an invalid check digit"
FORMAT_OVT = "Enter an OVT code: 0037, the eight digits of the business ID"
CHECKSUM_OVT = "The business ID inside this OVT code (the eight digits after 0037)"
FORMAT_IBAN = "Enter an IBAN: a two-letter country code, two check digits"
CHECKSUM_IBAN = "This IBAN has invalid check digits"
FORMAT_BIC = "Enter a BIC (SWIFT code) of 8 or 11 characters"
COUNTRY_BIC = "The country code in this BIC (the fifth and sixth characters)"
FORMAT_GLN = "Enter a GLN (Global Location Number): 13 digits"
CHECKSUM_GLN = "This GLN has an invalid check digit"
REQUIRED = "This field is required."


def test_oracle_agrees_with_known_business_ids() -> None:
    assert check_digit("2332748") == 7  # Apix Messaging Oy
    assert check_digit("0101138") == 5  # Tietoevry Oyj
    assert check_digit("1000008") is None


# --- Business ID (Y-tunnus) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2332748-7", "2332748-7"),
        ("  2332748-7\t", "2332748-7"),
        ("23327487", "2332748-7"),
        ("2332748 - 7", "2332748-7"),
        ("0101138-5", "0101138-5"),
        ("2129112-6", "2129112-6"),
    ],
)
def test_business_id_normalises(raw: str, expected: str) -> None:
    assert v.validate_business_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", REQUIRED),
        ("   ", REQUIRED),
        ("2332748", FORMAT_BUSINESS_ID),
        ("233274877", FORMAT_BUSINESS_ID),
        ("2332748-77", FORMAT_BUSINESS_ID),
        ("2332748-X", FORMAT_BUSINESS_ID),
        ("FI23327487", FORMAT_BUSINESS_ID),  # a VAT number, not a business ID
        ("2332748\u20137", FORMAT_BUSINESS_ID),  # en dash instead of hyphen
        ("\uff12\uff13\uff13\uff12\uff17\uff14\uff18-\uff17", FORMAT_BUSINESS_ID),  # fullwidth
        ("2332748-6", CHECKSUM_BUSINESS_ID),
        ("2332748-0", CHECKSUM_BUSINESS_ID),
        ("2332749-7", CHECKSUM_BUSINESS_ID),
    ],
)
def test_business_id_refusals(raw: str, fragment: str) -> None:
    assert_refused(lambda: v.validate_business_id(raw), "business_id", fragment)


@pytest.mark.parametrize("last", "0123456789")
def test_business_id_without_possible_check_digit_is_refused(last: str) -> None:
    # 1000008's weighted sum leaves remainder 1: no check digit makes it valid.
    assert_refused(
        lambda: v.validate_business_id(f"1000008-{last}"), "business_id", CHECKSUM_BUSINESS_ID
    )


def test_business_id_uses_the_callers_field_name() -> None:
    assert_refused(
        lambda: v.validate_business_id("2332748-6", field="company.business_id"),
        "company.business_id",
        CHECKSUM_BUSINESS_ID,
    )


@settings(deadline=None, max_examples=200)
@given(st.text(alphabet="0123456789", min_size=7, max_size=7))
def test_every_computed_business_id_is_accepted(seven: str) -> None:
    digit = check_digit(seven)
    assume(digit is not None)
    assert v.validate_business_id(f"{seven}-{digit}") == f"{seven}-{digit}"
    assert v.validate_business_id(f"{seven}{digit}") == f"{seven}-{digit}"
    assert v.validate_ovt(f"0037{seven}{digit}") == f"0037{seven}{digit}"
    assert v.validate_peppol_participant(f"0037:{seven}{digit}") == f"0037:{seven}{digit}"


@settings(deadline=None, max_examples=200)
@given(
    st.text(alphabet="0123456789", min_size=7, max_size=7),
    st.integers(min_value=0, max_value=7),
    st.integers(min_value=1, max_value=9),
)
def test_every_single_digit_change_is_refused(seven: str, position: int, delta: int) -> None:
    digit = check_digit(seven)
    assume(digit is not None)
    digits = list(f"{seven}{digit}")
    digits[position] = str((int(digits[position]) + delta) % 10)
    changed = "".join(digits)
    assert_refused(
        lambda: v.validate_business_id(f"{changed[:7]}-{changed[7]}"),
        "business_id",
        CHECKSUM_BUSINESS_ID,
    )
    assert_refused(lambda: v.validate_ovt(f"0037{changed}"), "einvoice_address", CHECKSUM_OVT)


# --- OVT --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("003723327487", "003723327487"),
        (" 0037 2332748-7 ", "003723327487"),
        ("0037-2332-7487", "003723327487"),
        ("003723327487ab12", "003723327487AB12"),
        ("00372332748712345", "00372332748712345"),  # 17 characters: the maximum
        ("0037\u00a023327487", "003723327487"),  # non-breaking space
    ],
)
def test_ovt_normalises(raw: str, expected: str) -> None:
    assert v.validate_ovt(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", REQUIRED),
        ("00372332748", FORMAT_OVT),  # 11 characters
        ("003723327487123456", FORMAT_OVT),  # 18 characters
        ("003623327487", FORMAT_OVT),  # wrong prefix
        ("23327487", FORMAT_OVT),  # prefix missing
        ("003723327487_1", FORMAT_OVT),
        ("003723327487\u00c4", FORMAT_OVT),  # non-ASCII suffix
        ("00372332748\uff17", FORMAT_OVT),  # fullwidth digit
        ("003723327486", CHECKSUM_OVT),
        ("003723327486AB", CHECKSUM_OVT),
        ("003732327487", CHECKSUM_OVT),  # two digits swapped
    ],
)
def test_ovt_refusals(raw: str, fragment: str) -> None:
    assert_refused(lambda: v.validate_ovt(raw), "einvoice_address", fragment)


def test_ovt_uses_the_callers_field_name() -> None:
    assert_refused(lambda: v.validate_ovt("003723327486", "address"), "address", CHECKSUM_OVT)


# --- IBAN and BIC -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("FI2112345600000785", "FI2112345600000785"),
        ("fi21 1234 5600 0007 85", "FI2112345600000785"),
        ("NL91 ABNA 0417 1643 00", "NL91ABNA0417164300"),
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
    ],
)
def test_iban_normalises(raw: str, expected: str) -> None:
    assert v.validate_iban(raw, "iban") == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", REQUIRED),
        ("FI2112345600000786", CHECKSUM_IBAN),  # account number mistyped
        ("FI2212345600000785", CHECKSUM_IBAN),  # check digits mistyped
        ("NL91ABNA0417164301", CHECKSUM_IBAN),
        ("FI21123456000007850", FORMAT_IBAN),  # one digit too many for Finland
        ("FI211234560000078", FORMAT_IBAN),  # one digit too few
        ("XX2112345600000785", FORMAT_IBAN),  # no such country
        ("NL91ABNA041716430A", FORMAT_IBAN),  # Dutch account part is digits only
        ("1234", FORMAT_IBAN),
        ("FI21 1234 5600 0007 8\u00c4", FORMAT_IBAN),
        ("F" + "I" * 40, FORMAT_IBAN),
    ],
)
def test_iban_refusals(raw: str, fragment: str) -> None:
    assert_refused(lambda: v.validate_iban(raw, "account"), "account", fragment)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("NDEAFIHH", "NDEAFIHH"), ("ndea fi hh", "NDEAFIHH"), ("OKOYFIHHXXX", "OKOYFIHHXXX")],
)
def test_bic_normalises(raw: str, expected: str) -> None:
    assert v.validate_bic(raw, "bic") == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", REQUIRED),
        ("NDEAFIH", FORMAT_BIC),
        ("NDEAFIHHX", FORMAT_BIC),
        ("NDEA1IHH", FORMAT_BIC),  # digit in the country code
        ("NDEAF\u0131HH", FORMAT_BIC),  # dotless i would upper-case to I
        ("NDEAQQHH", COUNTRY_BIC),
    ],
)
def test_bic_refusals(raw: str, fragment: str) -> None:
    assert_refused(lambda: v.validate_bic(raw, "bank_bic"), "bank_bic", fragment)


# --- GLN --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("5790000435968", "5790000435968"), (" 579 0000 43596 8 ", "5790000435968")],
)
def test_gln_normalises(raw: str, expected: str) -> None:
    assert v.validate_gln(raw, "gln") == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", REQUIRED),
        ("579000043596", FORMAT_GLN),  # 12 digits
        ("05790000435968", FORMAT_GLN),  # 14 digits
        ("579000043596X", FORMAT_GLN),
        ("5790000435967", CHECKSUM_GLN),
        ("5790000453968", CHECKSUM_GLN),
    ],
)
def test_gln_refusals(raw: str, fragment: str) -> None:
    assert_refused(lambda: v.validate_gln(raw, "gln"), "gln", fragment)


# --- Peppol participant identifiers -----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0216:003723327487", "0216:003723327487"),
        (" 0216 : 0037 2332748-7 ", "0216:003723327487"),
        ("0216:003723327487ab", "0216:003723327487AB"),
        ("0037:23327487", "0037:23327487"),
        ("0037:2332748-7", "0037:23327487"),
        ("0106:12345678", "0106:12345678"),
        ("0190:00000001003214345000", "0190:00000001003214345000"),
        ("0088:5790000435968", "0088:5790000435968"),
        ("0208:0697449992", "0208:0697449992"),
        ("0208:0697.449.992", "0208:0697449992"),
        ("9944:NL004495445B01", "9944:NL004495445B01"),
        ("9944:nl004495445b01", "9944:NL004495445B01"),
    ],
)
def test_peppol_normalises(raw: str, expected: str) -> None:
    assert v.validate_peppol_participant(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", REQUIRED),
        ("003723327487", "Enter a Peppol participant identifier as SCHEME:ID"),
        ("0216:", "The identifier after the scheme is missing"),
        ("9925:BE0697449992", "Unknown Peppol identifier scheme. Use one of: 0216"),
        ("iso6523-actorid-upid::0216:003723327487", "Unknown Peppol identifier scheme"),
        ("0216:23327487", FORMAT_OVT),
        ("0216:003723327486", CHECKSUM_OVT),
        ("0037:003723327487", "A 0037 identifier is the eight digits of a Finnish business ID"),
        ("0037:2332748", "A 0037 identifier is the eight digits of a Finnish business ID"),
        ("0037:23327486", CHECKSUM_BUSINESS_ID),
        ("0106:1234567", "A 0106 identifier is an 8-digit Dutch Chamber of Commerce (KvK)"),
        ("0106:1234567A", "A 0106 identifier is an 8-digit Dutch Chamber of Commerce (KvK)"),
        ("0190:0000000100321434500", "A 0190 identifier is a 20-digit Dutch government"),
        ("0190:000000010032143450001", "A 0190 identifier is a 20-digit Dutch government"),
        ("0088:579000043596", FORMAT_GLN),
        ("0088:5790000435967", CHECKSUM_GLN),
        ("0208:697449992", "A 0208 identifier is a 10-digit Belgian enterprise number"),
        ("0208:2697449992", "A 0208 identifier is a 10-digit Belgian enterprise number"),
        ("0208:BE0697449992", "A 0208 identifier is a 10-digit Belgian enterprise number"),
        ("0208:0697449993", "This Belgian enterprise number has invalid check digits"),
        ("9944:004495445B01", "A 9944 identifier is a Dutch VAT number: NL, nine digits"),
        ("9944:NL004495445", "A 9944 identifier is a Dutch VAT number: NL, nine digits"),
        ("9944:NL004495445C01", "A 9944 identifier is a Dutch VAT number: NL, nine digits"),
        ("9944:NL004495446B01", "This Dutch VAT number has an invalid check digit"),
        ("9944:NL000000000B01", "must not be all zeros"),
    ],
)
def test_peppol_refusals(raw: str, fragment: str) -> None:
    assert_refused(lambda: v.validate_peppol_participant(raw), "einvoice_address", fragment)


def test_peppol_unknown_scheme_lists_every_accepted_scheme() -> None:
    error = refusal(lambda: v.validate_peppol_participant("0192:123456785"))
    for scheme in v.PEPPOL_SCHEMES:
        assert scheme in error.message
    assert v.PEPPOL_SCHEMES == ("0216", "0037", "0106", "0190", "0088", "0208", "9944")


# --- E-invoice address and operator code ------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0037 2332748-7", "003723327487"),
        ("003723327487AB", "003723327487AB"),
        ("0216:003723327487", "0216:003723327487"),
        ("0208:0697.449.992", "0208:0697449992"),
        ("fi21 1234 5600 0007 85", "FI2112345600000785"),
    ],
)
def test_einvoice_address_normalises(raw: str, expected: str) -> None:
    assert v.validate_einvoice_address(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", REQUIRED),
        ("hello", "Enter an e-invoice address: an OVT code"),
        ("23327487", "Enter an e-invoice address: an OVT code"),
        ("NDEAFIHH", "Enter an e-invoice address: an OVT code"),
        ("003723327486", CHECKSUM_OVT),
        ("0037233274", FORMAT_OVT),
        ("FI2112345600000786", CHECKSUM_IBAN),
        ("0088:5790000435967", CHECKSUM_GLN),
        (
            "FI 2345 6780",
            "This is a VAT number. As an e-invoice address it is written 003723456780 (0037 "
            "followed by the business ID digits).",
        ),
        ("SE556677889901", "Enter an e-invoice address: an OVT code"),
    ],
)
def test_einvoice_address_refusals(raw: str, fragment: str) -> None:
    assert_refused(lambda: v.validate_einvoice_address(raw), "einvoice_address", fragment)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("003723327487", "003723327487"),
        ("0037 2129112-6", "003721291126"),
        ("ndeafihh", "NDEAFIHH"),
        ("BAWCFI22", "BAWCFI22"),
        ("0216:003723327487", "0216:003723327487"),
        ("0088:5790000435968", "0088:5790000435968"),
    ],
)
def test_operator_code_normalises(raw: str, expected: str) -> None:
    assert v.validate_operator_code(raw) == expected


OPERATOR_KINDS = "Enter an operator code: an OVT-style code"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", REQUIRED),
        ("E204503", OPERATOR_KINDS),  # OpusCapita's legacy code fits none of the kinds
        ("INEXCHANGE", OPERATOR_KINDS),
        ("PEPPOL", OPERATOR_KINDS),
        ("NDEAF\u0131HH", OPERATOR_KINDS),
        ("FI2112345600000785", OPERATOR_KINDS),  # an IBAN is an address, not an operator
        ("003723327486", CHECKSUM_OVT),
        ("0037233274871234567", FORMAT_OVT),
        ("NDEAQQHH", COUNTRY_BIC),
        ("0216:003723327486", CHECKSUM_OVT),
    ],
)
def test_operator_code_refusals(raw: str, fragment: str) -> None:
    assert_refused(lambda: v.validate_operator_code(raw), "einvoice_operator", fragment)


def test_operator_table_entries_are_valid_and_unique() -> None:
    table = load_operator_table()
    assert 15 <= len(table) <= 25
    codes = [entry["code"] for entry in table]
    assert len(set(codes)) == len(codes)
    for entry in table:
        assert set(entry) == {"code", "name"}
        assert v.validate_operator_code(entry["code"]) == entry["code"]
        assert v.clean_text(entry["name"], "name", required=True, max_length=150) == entry["name"]


def test_operator_table_matches_the_json_file() -> None:
    raw = json.loads(files("abonnement.billing").joinpath("operators.json").read_text("utf-8"))
    assert load_operator_table() == raw
    by_code = {entry["code"]: entry["name"] for entry in load_operator_table()}
    assert by_code["003723327487"] == "Apix Messaging Oy"
    assert by_code["NDEAFIHH"] == "Nordea Bank Oyj"
    assert "E204503" not in by_code


# --- VAT number -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("FI23327487", "FI", "FI23327487"),
        ("fi 2332 7487", "FI", "FI23327487"),
        ("23327487", "FI", "FI23327487"),  # prefix added
        ("2332748-7", "fi", "FI23327487"),
        ("NL004495445B01", "NL", "NL004495445B01"),
        ("nl 0044.95.445.b.01", "NL", "NL004495445B01"),
        ("BE697449992", "BE", "BE0697449992"),  # old 9-digit form gets its leading 0
        ("EL094259216", "GR", "EL094259216"),
        ("GR094259216", "GR", "EL094259216"),
        ("094259216", "GR", "EL094259216"),
        ("DE 136 695 976", "DE", "DE136695976"),
        ("ATU57194903", "AT", "ATU57194903"),
        ("U57194903", "AT", "ATU57194903"),
        ("FR 61 954 506 077", "FR", "FR61954506077"),
        ("SE556188840401", "SE", "SE556188840401"),
        # Outside the EU: any printable text up to 30 characters, only stripped.
        ("  GB 123 456 789 ", "GB", "GB 123 456 789"),
        ("CHE-123.456.788 MWST", "CH", "CHE-123.456.788 MWST"),
        ("x" * 30, "US", "x" * 30),
    ],
)
def test_vat_number_normalises(raw: str, country: str, expected: str) -> None:
    assert v.validate_vat_number(raw, country) == expected


VAT_CHECKSUM = "This VAT number has an invalid check digit"


@pytest.mark.parametrize(
    ("raw", "country", "fragment"),
    [
        ("", "FI", REQUIRED),
        ("FI23327486", "FI", VAT_CHECKSUM),
        ("FI23327478", "FI", VAT_CHECKSUM),
        ("NL004495446B01", "NL", VAT_CHECKSUM),
        ("BE0697449993", "BE", VAT_CHECKSUM),
        ("DE136695977", "DE", VAT_CHECKSUM),
        ("EL094259217", "GR", VAT_CHECKSUM),
        ("FI2332748", "FI", "Enter the VAT number in the format used in FI, starting with FI."),
        ("FI233274877", "FI", "Enter the VAT number in the format used in FI, starting with FI."),
        ("EL12", "GR", "Enter the VAT number in the format used in GR, starting with EL."),
        ("FI\u00c423327487", "FI", "Enter the VAT number in the format used in FI"),
        ("DE136695976", "FI", "This VAT number belongs to another country. A VAT number for FI"),
        ("FI23327487", "SE", "A VAT number for SE starts with SE."),
        ("x" * 31, "US", "A VAT or tax number has at most 30 characters."),
        ("GB123\n456", "GB", "cannot contain control characters"),
    ],
)
def test_vat_number_refusals(raw: str, country: str, fragment: str) -> None:
    assert_refused(lambda: v.validate_vat_number(raw, country), "vat_number", fragment)


def test_vat_number_uses_the_callers_field_name() -> None:
    assert_refused(
        lambda: v.validate_vat_number("FI23327486", "FI", field="company.vat"),
        "company.vat",
        VAT_CHECKSUM,
    )


def test_eu_countries() -> None:
    assert len(v.EU_COUNTRIES) == 27
    assert "GR" in v.EU_COUNTRIES
    assert "EL" not in v.EU_COUNTRIES
    assert "GB" not in v.EU_COUNTRIES
    assert {"FI", "NL", "BE", "DE", "SE", "IE", "HR"} <= v.EU_COUNTRIES


# --- E-mail, country, language ----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" Jane.Doe@Example.COM ", "Jane.Doe@example.com"),
        ("laskut+abonnement@kirjanpito.fi", "laskut+abonnement@kirjanpito.fi"),
        ("ulla@B\u00dcCHER.de", "ulla@b\u00fccher.de"),
    ],
)
def test_email_normalises(raw: str, expected: str) -> None:
    assert v.validate_email_address(raw, "contact_email") == expected


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("", REQUIRED),
        ("jane", "Enter a valid e-mail address, such as name@example.com."),
        ("jane@", "Enter a valid e-mail address, such as name@example.com."),
        ("jane doe@example.com", "Enter a valid e-mail address, such as name@example.com."),
        ("jane@example.com\nBcc: x@y.z", "Enter a valid e-mail address"),
        (
            "a" * 64 + "@" + "b" * 185 + ".com",
            "Enter a valid e-mail address",
        ),  # 254: too-long label
        ("a@" + "b" * 249 + ".com", "An e-mail address has at most 254 characters."),  # 255
    ],
)
def test_email_refusals(raw: str, fragment: str) -> None:
    assert_refused(lambda: v.validate_email_address(raw, "cc"), "cc", fragment)


@pytest.mark.parametrize(
    "raw",
    [
        "a@localhost",
        "billing@LOCALHOST",
        "user@[127.0.0.1]",
        "user@[10.0.0.1]",
        "user@[IPv6:::1]",
        "user@[IPv6:2001:db8::1]",
        "postmaster@intranet",
    ],
)
def test_email_at_localhost_or_an_address_literal_is_refused(raw: str) -> None:
    # A billing contact (and a user, and a staff member) must be reachable on the
    # internet: a mailbox on this machine or at a bare IP address is not a contact.
    assert_refused(
        lambda: v.validate_email_address(raw, "contact_email"),
        "contact_email",
        "Enter an e-mail address at an internet domain, such as name@example.com "
        "(not at localhost or an IP address).",
    )


def test_email_of_exactly_254_characters_is_accepted() -> None:
    address = "a" * 64 + "@" + ".".join(["b" * 60, "c" * 60, "d" * 60, "e" * 2]) + ".com"
    assert len(address) == 254
    assert v.validate_email_address(address, "cc") == address


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("FI", "FI"), (" fi ", "FI"), ("nl", "NL"), ("GR", "GR"), ("XK", "XK"), ("AX", "AX")],
)
def test_country_normalises(raw: str, expected: str) -> None:
    assert v.validate_country(raw) == expected


@pytest.mark.parametrize(
    "raw", ["EU", "ZZ", "UN", "XA", "EL", "QQ", "001", "FIN", "F", "\uff26\uff29", "F1"]
)
def test_country_refusals(raw: str) -> None:
    assert_refused(
        lambda: v.validate_country(raw), "country", "Enter a two-letter ISO 3166 country code"
    )


@pytest.mark.parametrize(("raw", "expected"), [("en", "en"), ("NL", "nl"), (" fi ", "fi")])
def test_language_normalises(raw: str, expected: str) -> None:
    assert v.validate_language(raw) == expected


@pytest.mark.parametrize("raw", ["sv", "de", "en-GB", "english", "f i"])
def test_language_refusals(raw: str) -> None:
    assert_refused(
        lambda: v.validate_language(raw),
        "invoice_language",
        "Choose an invoice language: en (English), nl (Dutch) or fi (Finnish).",
    )


# --- Free text --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Kalevankatu 3 B 12  ", "Kalevankatu 3 B 12"),
        ("\u00c5land Post Ab", "\u00c5land Post Ab"),
        (
            "P\u00e4\u00e4konttori \u6f22\u5b57 \U0001f600",
            "P\u00e4\u00e4konttori \u6f22\u5b57 \U0001f600",
        ),
        ("e\u0301 combining accent", "e\u0301 combining accent"),
        ("a" * 5, "a" * 5),
    ],
)
def test_clean_text_keeps_unicode(raw: str, expected: str) -> None:
    assert v.clean_text(raw, "street", required=True, max_length=200) == expected


def test_clean_text_optional_empty_is_empty() -> None:
    assert v.clean_text("   ", "reference", required=False, max_length=100) == ""


def test_clean_text_required_empty_is_refused() -> None:
    assert_refused(
        lambda: v.clean_text(" \t ", "city", required=True, max_length=100), "city", REQUIRED
    )


def test_clean_text_length_boundary() -> None:
    assert (
        v.clean_text(" \u00e4\u00e4\u00e4\u00e4\u00e4 ", "city", required=True, max_length=5)
        == "\u00e4" * 5
    )
    assert_refused(
        lambda: v.clean_text("\u00e4" * 6, "city", required=True, max_length=5),
        "city",
        "Ensure this value has at most 5 characters (it has 6).",
    )


@pytest.mark.parametrize(
    ("raw", "position"),
    [
        ("Street\n2", 7),
        ("Street\t2", 7),
        ("Street\r\n2", 7),
        ("\x00abc", 1),
        ("ab\x7f", 3),
        ("ab\x85cd", 3),  # NEL, a C1 control
        ("ab\u2028cd", 3),  # line separator
        ("ab\u202ecd", 3),  # right-to-left override
    ],
)
def test_clean_text_refuses_control_characters(raw: str, position: int) -> None:
    assert_refused(
        lambda: v.clean_text(raw, "street", required=True, max_length=100),
        "street",
        f"Remove the control character at position {position}",
    )


# --- Robustness -------------------------------------------------------------------------

FIELD_VALIDATORS: list[tuple[str, Callable[[str], str]]] = [
    ("business_id", v.validate_business_id),
    ("einvoice_address", v.validate_ovt),
    ("iban", lambda value: v.validate_iban(value, "iban")),
    ("bic", lambda value: v.validate_bic(value, "bic")),
    ("gln", lambda value: v.validate_gln(value, "gln")),
    ("einvoice_address", v.validate_peppol_participant),
    ("einvoice_address", v.validate_einvoice_address),
    ("einvoice_operator", v.validate_operator_code),
    ("vat_number", lambda value: v.validate_vat_number(value, "FI")),
    ("vat_number", lambda value: v.validate_vat_number(value, "BE")),
    ("vat_number", lambda value: v.validate_vat_number(value, "US")),
    ("email", lambda value: v.validate_email_address(value, "email")),
    ("country", v.validate_country),
    ("invoice_language", v.validate_language),
    ("name", lambda value: v.clean_text(value, "name", required=True, max_length=200)),
]

LONG_VALUES = [
    "9" * 10_000,
    "a" * 10_000,
    "0037" + "9" * 9_996,
    "0208:" + "1" * 9_995,
    "9944:NL" + "9" * 9_993,
    "0190:" + "0" * 9_995,
    "FI" + "9" * 9_998,
    "\u00e4" * 10_000,
]


@pytest.mark.parametrize(("field", "validate"), FIELD_VALIDATORS)
@pytest.mark.parametrize("raw", LONG_VALUES, ids=[f"long{i}" for i in range(len(LONG_VALUES))])
def test_ten_thousand_characters_are_refused_cleanly(
    field: str, validate: Callable[[str], str], raw: str
) -> None:
    error = refusal(lambda: validate(raw))
    assert error.field == field
    assert raw not in error.message
    assert len(error.message) < 400


@settings(deadline=None, max_examples=100)
@given(st.text(max_size=60))
def test_arbitrary_text_is_normalised_or_refused(raw: str) -> None:
    for field, validate in FIELD_VALIDATORS:
        try:
            result = validate(raw)
        except ValidationFailed as failure:
            assert [error.field for error in failure.errors] == [field]
        else:
            assert isinstance(result, str)
            assert result == result.strip()
            # Normalising is idempotent: a stored value validates to itself.
            assert validate(result) == result


# --- Postal codes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "country", "stored"),
    [
        ("00100", "FI", "00100"),
        ("FI-00100", "FI", "00100"),
        ("1015cj", "NL", "1015 CJ"),
        ("NL-1015 CJ", "NL", "1015 CJ"),
        ("11122", "SE", "111 22"),
        ("SE-111 22", "SE", "111 22"),
        ("10557", "DE", "10557"),
        ("1000", "BE", "1000"),
        ("L-1010", "LU", "1010"),
        ("00950", "PL", "00-950"),
        ("1000001", "PT", "1000-001"),
        ("01100", "LT", "LT-01100"),
        ("lv 1050", "LV", "LV-1050"),
        ("MTF 1010", "MT", "MTF 1010"),  # Mtarfa: the letters "MT" are not a prefix here
        ("d02x285", "IE", "D02 X285"),
        ("sw1a1aa", "GB", "SW1A 1AA"),
        ("M1 1AE", "GB", "M1 1AE"),
        ("941051234", "US", "94105-1234"),
        ("k1a 0b1", "CA", "K1A 0B1"),
        (" 100-0001 ", "JP", "100-0001"),  # no fixed format kept here: stripped text
    ],
)
def test_postal_code_is_stored_as_its_country_writes_it(
    typed: str, country: str, stored: str
) -> None:
    assert v.validate_postal_code(typed, country, "address.postal_code") == stored


@pytest.mark.parametrize(
    ("typed", "country", "example"),
    [
        ("0010", "FI", "00100"),
        ("001000", "FI", "00100"),
        ("１２３４５", "FI", "00100"),  # fullwidth digits are not ASCII digits
        ("1015", "NL", "1015 CJ"),
        ("0115 CJ", "NL", "1015 CJ"),  # a Dutch code never starts with 0
        ("1015 SA", "NL", "1015 CJ"),  # SA, SD and SS are not used
        ("1112", "SE", "111 22"),
        ("SW1A", "GB", "SW1A 1AA"),
        ("9410", "US", "94105"),
        ("LT-1100", "LT", "LT-01100"),
    ],
)
def test_postal_code_in_the_wrong_shape_names_the_country_and_an_example(
    typed: str, country: str, example: str
) -> None:
    error = refusal(lambda: v.validate_postal_code(typed, country, "address.postal_code"))
    assert error.field == "address.postal_code"
    names = {"FI": "Finland", "NL": "Netherlands", "SE": "Sweden", "GB": "United Kingdom"}
    names |= {"US": "United States", "LT": "Lithuania"}
    assert error.message == (
        f"Enter a postal code in the format of the chosen country ({names[country]}), "
        f"for example {example}."
    )


def test_postal_code_refusal_names_the_country_in_the_readers_language() -> None:
    with translation.override("fi"):
        error = refusal(lambda: v.validate_postal_code("1015", "NL", "postal_code"))
    assert error.message == (
        "Anna postinumero valitun maan (Alankomaat) muodossa, esimerkiksi 1015 CJ."
    )


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "This field is required."),
        ("1" * 21, "Ensure this value has at most 20 characters (it has 21)."),
        ("100\t01", "Remove the control character at position 4"),
    ],
)
def test_postal_code_without_a_fixed_format_is_still_single_line_text(
    typed: str, message: str
) -> None:
    assert_refused(
        lambda: v.validate_postal_code(typed, "JP", "postal_code"), "postal_code", message
    )


def test_every_countrys_example_is_one_of_its_postal_codes_as_written_there() -> None:
    for country in sorted(v._POSTAL_FORMATS):
        example = v.postal_code_example(country)
        assert example is not None
        assert v.validate_postal_code(example, country) == example, country
    assert (v.postal_code_example("DE"), v.postal_code_example("JP")) == ("10115", None)
