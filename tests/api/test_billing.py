"""Billing details over the API (API.md "Billing details")."""

from __future__ import annotations

from typing import Any

from abonnement.billing.models import BillingDetails
from tests.api.conftest import Api, admin_user
from tests.api.test_auth_matrix import BILLING


def test_the_billing_details_as_provisioned(api: Api, org: Any, writer: str) -> None:
    reply = api.get(f"/organizations/{org.pk}/billing-details", writer)
    assert reply.body == {
        "company_name": "Testi Oy",
        "vat_number": "FI23456780",
        "contact": {
            "user_id": str(admin_user(org).pk),
            "name": "Anna Admin",
            "email": "admin@testi.example",
            "inactive": False,
        },
        "cc": [],
        "address": {"street": "", "postal_code": "", "city": "", "country": "FI"},
        "reference": "",
        "invoice_language": "en",
        "e_invoicing": {
            "enabled": False,
            "address": "",
            "operator_code": "",
            "operator_name": None,
        },
    }


def test_replacing_the_billing_details(api: Api, org: Any, writer: str) -> None:
    body = BILLING | {
        "cc": ["Books@Accounting.example"],
        "reference": "PO 42",
        "e_invoicing": {
            "enabled": True,
            "address": "003723456780",
            "operator_code": "003721291126",
        },
    }
    reply = api.put(f"/organizations/{org.pk}/billing-details", writer, body)
    assert reply.status == 200, reply.content
    assert reply.body == {
        "company_name": "Testi Oy",
        "vat_number": "FI23456780",
        "contact": {
            "user_id": None,
            "name": "Reskontra",
            "email": "ap@testi.example",
            "inactive": False,
        },
        "cc": ["Books@accounting.example"],
        "address": {
            "street": "Testikatu 1",
            "postal_code": "00100",
            "city": "Helsinki",
            "country": "FI",
        },
        "reference": "PO 42",
        "invoice_language": "fi",
        "e_invoicing": {
            "enabled": True,
            "address": "003723456780",
            "operator_code": "003721291126",
            "operator_name": "Maventa (Visma Solutions Oy)",
        },
    }


def test_read_only_fields_are_refused_with_where_they_change(
    api: Api, org: Any, writer: str
) -> None:
    before = BillingDetails.objects.get(organization=org).updated_at
    reply = api.put(
        f"/organizations/{org.pk}/billing-details",
        writer,
        BILLING | {"company_name": "Other Oy", "vat_number": "FI12345671"},
    )
    assert (reply.status, reply.code) == (422, "validation_error")
    assert reply.body["errors"] == [
        {
            "field": "company_name",
            "message": "The company name is changed in Settings › Company settings.",
        },
        {
            "field": "vat_number",
            "message": "A VAT-number change needs a contract transfer document; "
            "customer service makes it.",
        },
    ]
    details = BillingDetails.objects.get(organization=org)
    assert (details.street, details.updated_at) == ("", before)


def test_the_operator_name_is_read_only_where_the_get_shows_it_too(
    api: Api, org: Any, writer: str
) -> None:
    before = BillingDetails.objects.filter(organization=org).values().get()
    body = BILLING | {
        "e_invoicing": {
            "enabled": True,
            "address": "003723456780",
            "operator_code": "003721291126",
            "operator_name": "Z",
        }
    }
    reply = api.put(f"/organizations/{org.pk}/billing-details", writer, body)
    assert (reply.status, reply.code) == (422, "validation_error")
    assert reply.body["detail"] == "These fields cannot be changed here."
    assert reply.body["errors"] == [
        {
            "field": "e_invoicing.operator_name",
            "message": "The operator's name follows from the operator code.",
        }
    ]
    assert BillingDetails.objects.filter(organization=org).values().get() == before


def test_every_read_only_field_sent_is_named_in_one_answer(api: Api, org: Any, writer: str) -> None:
    before = BillingDetails.objects.filter(organization=org).values().get()
    body = BILLING | {
        "company_name": "Other Oy",
        "operator_name": None,
        "e_invoicing": {
            "enabled": False,
            "address": "",
            "operator_code": "",
            "operator_name": None,
        },
    }
    reply = api.put(f"/organizations/{org.pk}/billing-details", writer, body)
    assert (reply.status, reply.code) == (422, "validation_error")
    assert reply.body["errors"] == [
        {
            "field": "company_name",
            "message": "The company name is changed in Settings › Company settings.",
        },
        {
            "field": "operator_name",
            "message": "The operator's name follows from the operator code.",
        },
        {
            "field": "e_invoicing.operator_name",
            "message": "The operator's name follows from the operator code.",
        },
    ]
    assert BillingDetails.objects.filter(organization=org).values().get() == before


def test_a_contact_is_a_user_or_a_name_and_address_not_both(
    api: Api, org: Any, writer: str
) -> None:
    before = BillingDetails.objects.filter(organization=org).values().get()
    user_id = str(admin_user(org).pk)
    for contact in (
        {"user_id": user_id, "name": "A", "email": "a@b.example"},
        {"user_id": user_id, "email": "a@b.example"},
        {"user_id": user_id, "name": ""},
    ):
        reply = api.put(
            f"/organizations/{org.pk}/billing-details", writer, BILLING | {"contact": contact}
        )
        assert (reply.status, reply.code) == (422, "validation_error"), contact
        assert reply.body["errors"] == [
            {"field": "contact", "message": "Give either user_id, or name and email; not both."}
        ]
    assert BillingDetails.objects.filter(organization=org).values().get() == before


def test_a_contact_user_alone_is_taken(api: Api, org: Any, writer: str) -> None:
    user_id = str(admin_user(org).pk)
    for contact in ({"user_id": user_id}, {"user_id": user_id, "name": None, "email": None}):
        reply = api.put(
            f"/organizations/{org.pk}/billing-details", writer, BILLING | {"contact": contact}
        )
        assert reply.status == 200, reply.content
        assert reply.body["contact"] == {
            "user_id": user_id,
            "name": "Anna Admin",
            "email": "admin@testi.example",
            "inactive": False,
        }


def test_field_errors_name_nested_fields(api: Api, org: Any, writer: str) -> None:
    body = BILLING | {"address": {"street": "", "postal_code": "", "city": "X", "country": "ZZ"}}
    reply = api.put(f"/organizations/{org.pk}/billing-details", writer, body)
    assert [e["field"] for e in reply.body["errors"]] == [
        "address.street",
        "address.postal_code",
        "address.country",
    ]


def test_a_marketplace_organisations_details_change_only_through_the_vendor(
    api: Api, org: Any, writer: str, vendor: str
) -> None:
    channel = {"type": "marketplace", "name": "Nordic Apps", "url": "https://apps.example/x"}
    moved = api.patch(f"/organizations/{org.pk}", vendor, {"purchase_channel": channel})
    assert moved.status == 200
    before = BillingDetails.objects.filter(organization=org).values().get()

    locked = api.put(f"/organizations/{org.pk}/billing-details", writer, BILLING)
    assert (locked.status, locked.code) == (409, "managed_by_marketplace")
    assert locked.body["marketplace"] == {"name": "Nordic Apps", "url": "https://apps.example/x"}
    assert BillingDetails.objects.filter(organization=org).values().get() == before
    # Reading stays allowed.
    assert api.get(f"/organizations/{org.pk}/billing-details", writer).status == 200

    by_vendor = api.put(f"/organizations/{org.pk}/billing-details", vendor, BILLING)
    assert by_vendor.status == 200, by_vendor.content
    assert by_vendor.body["contact"]["email"] == "ap@testi.example"
