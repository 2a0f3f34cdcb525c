"""Fixtures for documents: a fixed seller, buyers in Finland, the Netherlands and Norway
with their billing details, and the immediate task backend where a test wants the whole
chain (order → invoice → delivery) to run inline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.test import override_settings

from abonnement.billing.services import update_billing_details
from abonnement.invoicing.validation import rules_missing_reason
from tests.conftest import NOW, admin_of, make_organization

SELLER = {
    "name": "Abonnement Demo Oy",
    "vat_number": "FI23456780",
    "street": "Mannerheimintie 1",
    "postal_code": "00100",
    "city": "Helsinki",
    "country": "FI",
    "iban": "FI2112345600000785",
    "bic": "NDEAFIHH",
}

IMMEDIATE_TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}

RULES_MISSING = rules_missing_reason()
requires_rules = pytest.mark.skipif(
    RULES_MISSING is not None, reason=f"official e-invoice rules unavailable: {RULES_MISSING}"
)


@pytest.fixture(autouse=True)
def fixed_seller(tmp_path: Any) -> Iterator[None]:
    with override_settings(
        SELLER=SELLER,
        PAYMENT_TERMS_DAYS=14,
        DEFAULT_FROM_EMAIL="billing@abonnement.example",
        ABONNEMENT_OUTBOX_DIR=tmp_path / "outbox",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    ):
        yield


def set_billing(org: Any, **overrides: Any) -> None:
    data: dict[str, Any] = {
        "contact": {"user_id": admin_of(org).user.pk},
        "cc": [],
        "address": {
            "street": "Asiakaskatu 5",
            "postal_code": "00510",
            "city": "Helsinki",
            "country": "FI",
        },
        "reference": "",
        "invoice_language": "fi",
        "e_invoicing": {"enabled": False, "address": "", "operator_code": ""},
    }
    data.update(overrides)
    update_billing_details(organization=org, data=data, actor=admin_of(org), now=NOW)


def finnish_customer(*, einvoicing: bool = True, **overrides: Any) -> Any:
    org = make_organization(
        name="Asiakas Oy",
        vat_number="FI23327487",
        country="FI",
        language="fi",
        admin_email="talous@asiakas.example",
        admin_name="Tiina Talous",
        **overrides,
    )
    set_billing(
        org,
        e_invoicing={
            "enabled": einvoicing,
            "address": "003723327487",
            "operator_code": "003721291126",
        },
    )
    return org


def dutch_customer() -> Any:
    org = make_organization(
        name="Voorbeeld B.V.",
        vat_number="NL004495445B01",
        country="NL",
        language="nl",
        edition="basic",
        licenses=5,
        period_months=12,
        admin_email="finance@voorbeeld.example",
        admin_name="Femke Financiën",
    )
    set_billing(
        org,
        address={
            "street": "Keizersgracht 1",
            "postal_code": "1015 CJ",
            "city": "Amsterdam",
            "country": "NL",
        },
        reference="PO-4711",
        invoice_language="nl",
        e_invoicing={"enabled": True, "address": "0106:12345678", "operator_code": "NDEAFIHH"},
    )
    return org


def norwegian_customer() -> Any:
    org = make_organization(
        name="Nordmann AS",
        vat_number="NO987654325MVA",
        country="NO",
        language="en",
        edition="enterprise",
        licenses=3,
        period_months=1,
        admin_email="okonomi@nordmann.example",
        admin_name="Ola Nordmann",
        start_date=date(2027, 1, 1),
    )
    set_billing(
        org,
        address={
            "street": "Karl Johans gate 1",
            "postal_code": "0154",
            "city": "Oslo",
            "country": "NO",
        },
        invoice_language="en",
    )
    return org
