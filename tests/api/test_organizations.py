"""Organisations and organisation tokens over the API (API.md "Organisations")."""

from __future__ import annotations

import base64
import hashlib
from datetime import date
from typing import Any

import pytest

from abonnement.accounts.models import ApiToken, User
from abonnement.history.models import HistoryEntry
from abonnement.organizations.models import Organization, VatNumberChange
from tests.api.conftest import Api, admin_user
from tests.api.test_auth_matrix import PDF, PROVISION


def test_provisioning_creates_the_organisation_admin_subscription_and_order(
    api: Api, catalog: None, vendor: str
) -> None:
    reply = api.post("/organizations", vendor, PROVISION)
    assert reply.status == 201
    org_id = reply.body.pop("id")
    assert reply.body == {
        "name": "Uusi Oy",
        "vat_number": "FI23456780",
        "country": "FI",
        "currency": "EUR",
        "language": "fi",
        "purchase_channel": {"type": "direct", "name": None, "url": None},
        "managed_by_marketplace": False,
        "created_at": "2027-01-15T10:00:00Z",
    }
    admin = User.objects.get(organization_id=org_id)
    assert (admin.email, admin.name, admin.is_active, admin.permissions) == (
        "admin@uusi.example",
        "Ulla Uusi",
        True,
        ["manage_subscription", "manage_users"],
    )
    subscription = api.get(f"/organizations/{org_id}/subscription", vendor).body
    assert subscription["active_users"] == 1
    assert subscription["current_period"]["period"] == {"start": "2027-01-15", "end": "2027-02-14"}
    assert subscription["current_period"]["licenses"] == 3
    assert subscription["current_period"]["free_licenses"] == 2
    assert subscription["current_period"]["total_price"] == "30.00"
    (order,) = api.get(f"/organizations/{org_id}/orders", vendor).body["data"]
    assert (order["kind"], order["total"], order["lines"][0]["quantity"]) == (
        "renewal",
        "30.00",
        "3",
    )
    entry = HistoryEntry.objects.get(organization_id=org_id, action="organization_created")
    assert (entry.actor_type, entry.actor_name, entry.channel) == ("token", "Vendor CRM", "api")


def test_provisioning_a_marketplace_customer(api: Api, catalog: None, vendor: str) -> None:
    body = PROVISION | {
        "purchase_channel": {
            "type": "marketplace",
            "name": "Nordic Apps",
            "url": "https://apps.example/abonnement",
        }
    }
    reply = api.post("/organizations", vendor, body)
    assert reply.status == 201
    assert reply.body["purchase_channel"] == {
        "type": "marketplace",
        "name": "Nordic Apps",
        "url": "https://apps.example/abonnement",
    }
    assert reply.body["managed_by_marketplace"] is True


def test_provisioning_refuses_a_start_more_than_a_year_ahead(
    api: Api, catalog: None, vendor: str
) -> None:
    reply = api.post("/organizations", vendor, PROVISION | {"start_date": "9999-12-01"})
    assert (reply.status, reply.code) == (422, "validation_error")
    assert reply.body["errors"] == [
        {"field": "start_date", "message": "Give a start date within a year from today."}
    ]
    assert Organization.objects.count() == 0


def test_organisations_are_listed_newest_first_by_cursor(
    api: Api, catalog: None, vendor: str
) -> None:
    ids = []
    for index in range(3):
        body = PROVISION | {
            "name": f"Org {index}",
            "admin": {"email": f"a{index}@x.example", "name": "A"},
        }
        ids.append(api.post("/organizations", vendor, body).body["id"])
    # All three were made at one instant of the stopped test clock: their ids, which are
    # time-ordered, still list the last one made first.
    assert Organization.objects.values("created_at").distinct().count() == 1
    expected = ids[::-1]
    first = api.get("/organizations?limit=2", vendor).body
    assert [o["id"] for o in first["data"]] == expected[:2]
    assert first["next_cursor"]
    second = api.get(f"/organizations?limit=2&cursor={first['next_cursor']}", vendor).body
    assert [o["id"] for o in second["data"]] == expected[2:]
    assert second["next_cursor"] is None


def test_an_organisation_admin_renames_but_cannot_set_the_channel(
    api: Api, org: Any, writer: str
) -> None:
    path = f"/organizations/{org.pk}"
    renamed = api.patch(path, writer, {"name": "Testi Group Oy"})
    assert (renamed.status, renamed.body["name"]) == (200, "Testi Group Oy")
    both = api.patch(
        path,
        writer,
        {
            "name": "Other Oy",
            "purchase_channel": {"type": "marketplace", "name": "M", "url": "https://m.example"},
        },
    )
    assert (both.status, both.code) == (403, "permission_denied")
    org.refresh_from_db()
    assert (org.name, org.purchase_channel) == ("Testi Group Oy", "direct")
    null = api.patch(path, writer, {"name": None})
    assert (null.status, null.code) == (422, "validation_error")


def test_a_patch_with_one_bad_field_changes_nothing(api: Api, org: Any, vendor: str) -> None:
    reply = api.patch(
        f"/organizations/{org.pk}",
        vendor,
        {"name": "Renamed Oy", "purchase_channel": {"type": "marketplace", "name": "M"}},
    )
    assert (reply.status, reply.code) == (422, "validation_error")
    assert reply.body["errors"] == [
        {
            "field": "purchase_channel.url",
            "message": "Enter the marketplace's web address (https://…).",
        }
    ]
    org.refresh_from_db()
    assert (org.name, org.purchase_channel) == ("Testi Oy", "direct")
    assert (
        not HistoryEntry.objects.filter(organization=org, kind="organization")
        .exclude(action="organization_created")
        .exists()
    )


def test_the_vendor_moves_a_customer_to_a_marketplace_which_locks_its_licences(
    api: Api, org: Any, writer: str, vendor: str
) -> None:
    channel = {"type": "marketplace", "name": "Nordic Apps", "url": "https://apps.example/x"}
    moved = api.patch(f"/organizations/{org.pk}", vendor, {"purchase_channel": channel})
    assert moved.status == 200
    assert moved.body["managed_by_marketplace"] is True
    locked = api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 12})
    assert (locked.status, locked.code) == (409, "managed_by_marketplace")
    assert locked.body["marketplace"] == {"name": "Nordic Apps", "url": "https://apps.example/x"}
    by_vendor = api.put(f"/organizations/{org.pk}/subscription/licenses", vendor, {"licenses": 12})
    assert by_vendor.status == 200


def test_a_purchase_channel_change_is_recorded_under_the_channel_in_force_before_it(
    api: Api, org: Any, vendor: str
) -> None:
    """A vendor call on a marketplace organisation is the marketplace's (rule 6); the one that
    moves it there was still a plain API call, the one that moves it back the marketplace's."""
    market = {"type": "marketplace", "name": "Nordic Apps", "url": "https://apps.example/x"}
    path = f"/organizations/{org.pk}"
    assert api.patch(path, vendor, {"purchase_channel": market}).status == 200
    assert api.put(f"{path}/subscription/licenses", vendor, {"licenses": 12}).status == 200
    assert api.patch(path, vendor, {"purchase_channel": {"type": "direct"}}).status == 200
    assert api.put(f"{path}/subscription/licenses", vendor, {"licenses": 13}).status == 200
    entries = HistoryEntry.objects.filter(
        organization=org, action__in=["purchase_channel_changed", "licenses_bought"]
    ).order_by("pk")
    assert [(e.action, (e.after or {}).get("type"), e.channel) for e in entries] == [
        ("purchase_channel_changed", "marketplace", "api"),
        ("licenses_bought", None, "marketplace"),
        ("purchase_channel_changed", "direct", "marketplace"),
        ("licenses_bought", None, "api"),
    ]


def transfer(api: Api, org: Any, token: str, document: bytes | str) -> Any:
    encoded = document if isinstance(document, str) else base64.b64encode(document).decode()
    return api.put(
        f"/organizations/{org.pk}/vat-number",
        token,
        {
            "vat_number": "FI12345671",
            "effective_date": "2027-02-01",
            "contract_transfer_document": encoded,
            "document_name": "transfer.pdf",
        },
    )


def test_the_vat_number_transfer_stores_the_contract_pdf(api: Api, org: Any, vendor: str) -> None:
    reply = transfer(api, org, vendor, PDF)
    assert reply.status == 200
    assert reply.body == {
        "organization_id": str(org.pk),
        "vat_number": "FI12345671",
        "previous_vat_number": "FI23456780",
        "effective_date": "2027-02-01",
        "document_name": "transfer.pdf",
        "document_size": len(PDF),
        "recorded_at": "2027-01-15T10:00:00Z",
    }
    assert bytes(VatNumberChange.objects.get().document) == PDF


def test_the_transfer_document_must_be_a_pdf_of_at_most_10_mb(
    api: Api, org: Any, vendor: str
) -> None:
    not_pdf = transfer(api, org, vendor, b"GIF89a....")
    assert not_pdf.body["errors"] == [
        {
            "field": "contract_transfer_document",
            "message": "The contract transfer document must be a PDF.",
        }
    ]
    too_big = transfer(api, org, vendor, PDF + b"0" * (10 * 1024 * 1024))
    assert (too_big.status, too_big.body["errors"][0]["message"]) == (
        422,
        "The document is larger than 10 MB.",
    )
    not_base64 = transfer(api, org, vendor, "%%% not base64 %%%")
    assert (not_base64.status, not_base64.body["errors"][0]["field"]) == (
        422,
        "contract_transfer_document",
    )
    assert VatNumberChange.objects.count() == 0
    org.refresh_from_db()
    assert org.vat_number == "FI23456780"


def test_an_organisation_token_is_shown_once_and_stored_as_a_hash(
    api: Api, org: Any, writer: str
) -> None:
    created = api.post(
        f"/organizations/{org.pk}/tokens", writer, {"name": "CI", "scopes": ["read"]}
    )
    assert created.status == 201
    secret = created.body.pop("token")
    token_id = created.body.pop("id")
    assert created.body == {
        "name": "CI",
        "prefix": secret[:12],
        "scopes": ["read"],
        "user_id": str(admin_user(org).pk),
        "created_at": "2027-01-15T10:00:00Z",
        "last_used_at": None,
        "revoked_at": None,
    }
    stored = ApiToken.objects.get(pk=token_id)
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    listed = api.get(f"/organizations/{org.pk}/tokens", writer).body["data"]
    assert {t["name"] for t in listed} == {"CI", "Product backend"}
    assert all("token" not in t for t in listed)
    assert api.get(f"/organizations/{org.pk}", secret).status == 200

    revoked = api.delete(f"/organizations/{org.pk}/tokens/{token_id}", writer)
    assert revoked.body["revoked_at"] == "2027-01-15T10:00:00Z"
    assert api.get(f"/organizations/{org.pk}", secret).status == 401
    assert api.delete(f"/organizations/{org.pk}/tokens/{token_id}", writer).status == 404


def test_a_missing_price_list_is_an_error_on_the_field_the_caller_names(catalog: None) -> None:
    from abonnement.catalog.selectors import price_book_on, price_list_in_force
    from abonnement.core.errors import ValidationFailed

    for call in (price_list_in_force, price_book_on):
        with pytest.raises(ValidationFailed) as refused:
            call(date(2020, 1, 1), field="start_date")
        assert [(e.field, e.message) for e in refused.value.errors] == [
            ("start_date", "No price list is in force on 1 Jan 2020.")
        ]
    with pytest.raises(ValidationFailed) as default:
        price_book_on(date(2020, 1, 1))
    assert [e.field for e in default.value.errors] == ["date"]


def test_a_start_before_any_price_list_is_an_error_on_start_date(
    api: Api, catalog: None, vendor: str
) -> None:
    reply = api.post("/organizations", vendor, PROVISION | {"start_date": "2020-01-01"})
    assert (reply.status, reply.code) == (422, "validation_error")
    assert reply.body["errors"] == [
        {"field": "start_date", "message": "No price list is in force on 1 Jan 2020."}
    ]
    assert not Organization.objects.filter(name=PROVISION["name"]).exists()
    assert not User.objects.filter(email=PROVISION["admin"]["email"]).exists()


def test_a_catalogue_day_before_any_price_list_is_an_error_on_at(
    api: Api, catalog: None, vendor: str
) -> None:
    reply = api.get("/catalog?at=1900-01-01", vendor)
    assert (reply.status, reply.code) == (422, "validation_error")
    assert reply.body["errors"] == [
        {"field": "at", "message": "No price list is in force on 1 Jan 1900."}
    ]


def test_an_organisation_admin_is_refused_the_transfer_whatever_the_document(
    api: Api, org: Any, writer: str
) -> None:
    for document in ("!!notbase64", PDF):
        reply = transfer(api, org, writer, document)
        assert (reply.status, reply.code) == (403, "permission_denied")
        assert "errors" not in reply.body
    assert VatNumberChange.objects.count() == 0
    org.refresh_from_db()
    assert org.vat_number == "FI23456780"


def test_a_document_that_is_not_base64_is_reported_with_the_other_field_errors(
    api: Api, org: Any, vendor: str
) -> None:
    reply = api.put(
        f"/organizations/{org.pk}/vat-number",
        vendor,
        {
            "vat_number": "FI12345670",
            "effective_date": "2027-02-01",
            "contract_transfer_document": "!!notbase64",
            "document_name": "",
        },
    )
    assert (reply.status, reply.code) == (422, "validation_error")
    assert reply.body["errors"] == [
        {
            "field": "vat_number",
            "message": "This VAT number has an invalid check digit. "
            "Check the number for typing errors.",
        },
        {
            "field": "contract_transfer_document",
            "message": "Give the document as base64-encoded PDF.",
        },
        {"field": "document_name", "message": "This field is required."},
    ]
    assert VatNumberChange.objects.count() == 0
    org.refresh_from_db()
    assert org.vat_number == "FI23456780"


def test_a_document_that_is_not_base64_is_the_only_error_of_an_otherwise_good_transfer(
    api: Api, org: Any, vendor: str
) -> None:
    reply = transfer(api, org, vendor, "%%% not base64 %%%")
    assert (reply.status, reply.code) == (422, "validation_error")
    assert reply.body["errors"] == [
        {
            "field": "contract_transfer_document",
            "message": "Give the document as base64-encoded PDF.",
        }
    ]
    assert VatNumberChange.objects.count() == 0
    org.refresh_from_db()
    assert org.vat_number == "FI23456780"
