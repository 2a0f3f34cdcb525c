"""Payment references: the Finnish reference number (viitenumero) and the RF creditor
reference (ISO 11649) built on it.

The base is ``10`` followed by the invoice number, so every reference is unique per seller,
has at least the four digits Finnish banks require, and never starts with a zero (which some
banks drop). Finnish buyers get the national reference, everybody else its RF form, which
banks across SEPA accept.
"""

from __future__ import annotations

from stdnum import iso11649

_WEIGHTS = (7, 3, 1)


def finnish_check_digit(base: str) -> str:
    """The 7-3-1 check digit: weights 7, 3, 1 repeating from the rightmost digit."""
    if not base.isdigit() or not 3 <= len(base) <= 19:
        raise ValueError("a Finnish reference base has 3 to 19 digits")
    total = sum(int(digit) * _WEIGHTS[i % 3] for i, digit in enumerate(reversed(base)))
    return str((10 - total % 10) % 10)


def finnish_reference(number: int) -> str:
    base = f"10{number}"
    return base + finnish_check_digit(base)


def rf_reference(number: int) -> str:
    """``RF`` + two ISO 7064 mod 97-10 check digits + the Finnish reference."""
    national = finnish_reference(number)
    check = iso11649.mod_97_10.calc_check_digits(national + "RF")
    reference = f"RF{check}{national}"
    iso11649.validate(reference)
    return reference


def is_valid_finnish_reference(reference: str) -> bool:
    compact = reference.replace(" ", "")
    if not compact.isdigit() or not 4 <= len(compact) <= 20:
        return False
    return finnish_check_digit(compact[:-1]) == compact[-1]


def payment_reference(number: int, *, buyer_country: str) -> str:
    return finnish_reference(number) if buyer_country.upper() == "FI" else rf_reference(number)


def grouped(reference: str) -> str:
    """For people: Finnish references in groups of five from the right, RF in fours."""
    if reference.startswith("RF"):
        return " ".join(reference[i : i + 4] for i in range(0, len(reference), 4))
    head = len(reference) % 5
    groups = [reference[:head]] if head else []
    groups.extend(reference[i : i + 5] for i in range(head, len(reference), 5))
    return " ".join(groups)
