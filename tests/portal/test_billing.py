"""Billing details (PRODUCT.md section 4)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from abonnement.billing.models import BillingDetails
from abonnement.history.models import HistoryEntry
from tests.conftest import NOW, admin_of
from tests.portal.conftest import make_user

pytestmark = pytest.mark.django_db

GOOD = {
    "contact_kind": "other",
    "contact_user": "",
    "contact_name": "Kirjanpito",
    "contact_email": "laskut@testi.example",
    "cc": "tilitoimisto@example.com\n",
    "street": "Mannerheimintie 5",
    "postal_code": "00100",
    "city": "Helsinki",
    "country": "FI",
    "reference": "KP 410",
    "invoice_language": "fi",
    "einvoice_enabled": "on",
    "einvoice_address": "003723456780",
    "einvoice_operator": "003723327487",
}


def test_read_only_fields_are_explained(portal: Client) -> None:
    body = portal.get("/settings/subscription/billing/").content.decode()
    assert "Testi Oy" in body and "FI23456780" in body
    assert 'href="/settings/company/">Settings › Company settings</a>' in body
    assert "needs a contract transfer document. Contact customer service" in body
    assert 'name="company_name"' not in body and 'name="vat_number"' not in body


def test_bad_then_good_e_invoice_address(portal: Client, org: Any) -> None:
    before = HistoryEntry.objects.filter(organization=org, kind="billing").count()
    bad = GOOD | {"einvoice_address": "0037 1234"}
    response = portal.post("/settings/subscription/billing/", bad)
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="id_einvoice_address_error"' in body
    assert "Enter an OVT code" in body
    assert 'aria-invalid="true"' in body
    details = BillingDetails.objects.get(organization=org)
    assert (details.einvoice_enabled, details.street) == (False, "")
    assert HistoryEntry.objects.filter(organization=org, kind="billing").count() == before

    response = portal.post("/settings/subscription/billing/", GOOD, follow=True)
    assert "The billing details have been saved." in response.content.decode()
    details.refresh_from_db()
    assert (details.einvoice_enabled, details.einvoice_address, details.einvoice_operator) == (
        True,
        "003723456780",
        "003723327487",
    )
    assert (details.contact_name, details.contact_email, details.cc) == (
        "Kirjanpito",
        "laskut@testi.example",
        ["tilitoimisto@example.com"],
    )
    assert "Operator: Apix Messaging Oy" in response.content.decode()


def test_missing_address_and_bad_copy_are_reported_per_field(portal: Client, org: Any) -> None:
    data = GOOD | {"city": "", "cc": "ok@example.com\nnot-an-address"}
    body = portal.post("/settings/subscription/billing/", data).content.decode()
    assert 'id="id_city_error"' in body
    assert "Line 2:" in body
    assert BillingDetails.objects.get(organization=org).city == ""


def test_contact_user_is_picked_from_the_users(portal: Client, org: Any) -> None:
    colleague = make_user(org, "kalle@testi.example")
    data = GOOD | {"contact_kind": "user", "contact_user": str(colleague.pk)}
    portal.post("/settings/subscription/billing/", data)
    details = BillingDetails.objects.get(organization=org)
    assert details.contact_user_id == colleague.pk


def test_user_kind_without_a_user_is_an_error(portal: Client, org: Any) -> None:
    data = GOOD | {"contact_kind": "user", "contact_user": ""}
    body = portal.post("/settings/subscription/billing/", data).content.decode()
    assert "Choose one of your organisation&#x27;s users." in body


def test_inactive_contact_user_is_warned_about(portal: Client, org: Any) -> None:
    from abonnement.accounts.services import deactivate_user
    from abonnement.billing.services import update_billing_details

    colleague = make_user(org, "kalle@testi.example")
    data = {
        "contact": {"user_id": colleague.pk},
        "address": {
            "street": "Katu 1",
            "postal_code": "00100",
            "city": "Helsinki",
            "country": "FI",
        },
        "invoice_language": "fi",
    }
    update_billing_details(organization=org, data=data, actor=admin_of(org), now=NOW)
    deactivate_user(
        organization=org, user_id=colleague.pk, license="keep", actor=admin_of(org), now=NOW
    )
    body = portal.get("/settings/subscription/billing/").content.decode()
    assert "The billing contact Kalle is no longer active." in body


def test_a_refused_operator_code_does_not_show_the_saved_operators_name(
    portal: Client, org: Any
) -> None:
    portal.post("/settings/subscription/billing/", GOOD)
    before = HistoryEntry.objects.filter(organization=org, kind="billing").count()
    response = portal.post("/settings/subscription/billing/", GOOD | {"einvoice_operator": "X"})
    body = response.content.decode()
    assert 'id="id_einvoice_operator_error"' in body
    assert "Operator: Apix Messaging Oy" not in body
    assert BillingDetails.objects.get(organization=org).einvoice_operator == "003723327487"
    assert HistoryEntry.objects.filter(organization=org, kind="billing").count() == before
    # A known code typed beside a refused field shows that code's operator.
    other = GOOD | {"einvoice_operator": "003721291126", "postal_code": ""}
    body = portal.post("/settings/subscription/billing/", other).content.decode()
    assert 'id="id_postal_code_error"' in body
    assert "Operator: Maventa" in body


def test_operator_name_lookup(portal: Client) -> None:
    body = portal.get(
        "/settings/subscription/billing/operator/?einvoice_operator=003723327487"
    ).content.decode()
    assert "Operator: Apix Messaging Oy" in body
    body = portal.get("/settings/subscription/billing/operator/?einvoice_operator=X").content
    assert b"Operator:" not in body


# --------------------------------------------------------------------------- Rule 6

MARKETPLACE = {"type": "marketplace", "name": "Partner Market", "url": "https://pm.example/"}


@pytest.fixture
def marketplace_portal(catalog: None, clock_at_now: None) -> tuple[Client, Any]:
    from tests.conftest import make_organization
    from tests.portal.conftest import client_for

    org = make_organization(
        name="Markt Oy", admin_email="m@markt.example", purchase_channel=MARKETPLACE
    )
    return client_for(admin_of(org).user), org


def test_marketplace_organisation_sees_the_details_read_only(
    marketplace_portal: tuple[Client, Any],
) -> None:
    portal, _org = marketplace_portal
    body = portal.get("/settings/subscription/billing/").content.decode()
    assert "bought through Partner Market" in body
    assert 'href="https://pm.example/"' in body
    assert "Your billing details are also managed through Partner Market: change them" in body
    assert "<fieldset disabled>" in body
    assert "Save billing details" not in body


def test_marketplace_organisation_cannot_save_the_details(
    marketplace_portal: tuple[Client, Any],
) -> None:
    portal, org = marketplace_portal
    before = BillingDetails.objects.filter(organization=org).values().get()
    history = HistoryEntry.objects.filter(organization=org).count()
    response = portal.post("/settings/subscription/billing/", GOOD)
    assert response.status_code == 200
    body = response.content.decode()
    assert (
        "This subscription was bought through Partner Market; change it there: https://pm.example/"
        in body
    )
    assert "The billing details have been saved." not in body
    assert BillingDetails.objects.filter(organization=org).values().get() == before
    assert HistoryEntry.objects.filter(organization=org).count() == history


def test_a_direct_customer_keeps_the_editable_form(portal: Client) -> None:
    body = portal.get("/settings/subscription/billing/").content.decode()
    assert "<fieldset disabled>" not in body and "Save billing details" in body
    assert "also managed through" not in body


def test_an_unknown_contact_kind_is_reported_beside_the_choice(portal: Client, org: Any) -> None:
    before = BillingDetails.objects.get(organization=org).contact_email
    response = portal.post("/settings/subscription/billing/", GOOD | {"contact_kind": "zzz"})
    body = response.content.decode()
    assert "Some fields are not valid. See the messages beside them." in body
    assert (
        '<p class="field-error" id="contact-kind-error">Select a valid choice. zzz is not one of'
        " the available choices.</p>" in body
    )
    assert '<fieldset class="field-invalid" aria-describedby="contact-kind-error">' in body
    assert BillingDetails.objects.get(organization=org).contact_email == before
