"""Documents over the API (API.md "Orders, invoices, history"): invoices and credit notes as
JSON, their PDF and UBL files, the order confirmation, resending, and the ``invoice.*``
webhooks. Who may call what is in test_auth_matrix.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client, TestCase
from lxml import etree

from abonnement.history.models import HistoryEntry
from abonnement.invoicing.models import Delivery, Invoice, OrderConfirmation
from abonnement.invoicing.services import (
    OrderDocuments,
    credit_invoice,
    issue_invoice_for_order,
    send_delivery,
)
from abonnement.orders.models import Order
from abonnement.subscriptions.services import set_license_count
from tests.api.conftest import (
    Api,
    CommittingApi,
    Receiver,
    register,
    run_worker,
    verified,
)
from tests.conftest import NOW, VENDOR, admin_of, make_organization
from tests.invoicing.conftest import SELLER

pytestmark = pytest.mark.django_db

# Issued two hours before the clock's NOW, on the same business day (2027-01-15).
ISSUED_AT = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
UBL_INVOICE = "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
UBL_CREDIT_NOTE = "{urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2}CreditNote"
CBC = "{urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2}"


@pytest.fixture(autouse=True)
def documents_settings(settings: Any, tmp_path: Any) -> None:
    settings.SELLER = SELLER
    settings.PAYMENT_TERMS_DAYS = 14
    settings.DEFAULT_FROM_EMAIL = "billing@abonnement.example"
    settings.ABONNEMENT_OUTBOX_DIR = tmp_path / "outbox"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def org(catalog: None) -> Any:
    """Every test here issues invoices, and an invoice needs the buyer's address."""
    return make_organization(invoice_address=True)


def issue(order: Order, at: datetime = ISSUED_AT) -> OrderDocuments:
    return issue_invoice_for_order(order_id=order.pk, now=at)


def renewal_of(org: Any) -> Order:
    return Order.objects.get(organization=org, kind="renewal")


def base(org: Any) -> str:
    return f"/organizations/{org.pk}"


# --------------------------------------------------------------------------- JSON


def test_an_invoice_as_issued_and_delivered(api: Api, org: Any, writer: str) -> None:
    documents = issue(renewal_of(org))
    (delivery,) = Delivery.objects.filter(invoice=documents.invoice)
    assert send_delivery(delivery_id=delivery.pk, now=NOW).status == "sent"

    listed = api.get(f"{base(org)}/invoices", writer)
    assert listed.status == 200
    assert listed.body == {
        "data": [
            {
                "id": str(documents.invoice.pk),
                "number": 1,
                "document_type": "invoice",
                "issue_date": "2027-01-15",
                "due_date": "2027-01-29",
                "period": {"start": "2027-01-01", "end": "2027-06-30"},
                "lines": [
                    {
                        "description": "User licences, Pro × 10 × 6 months",
                        "quantity": "60",
                        "unit_price": "20.00",
                        "amount": "1200.00",
                        "period": {"start": "2027-01-01", "end": "2027-06-30"},
                    }
                ],
                "net_total": "1200.00",
                "vat_total": "306.00",
                "total": "1506.00",
                "currency": "EUR",
                "vat_treatment": "domestic",
                "payment_reference": documents.invoice.payment_reference,
                "order_id": str(renewal_of(org).pk),
                "credits_invoice_number": None,
                "delivery": {
                    "channel": "email",
                    "to": "admin@testi.example",
                    "status": "sent",
                    "sent_at": "2027-01-15T10:00:00Z",
                },
            }
        ],
        "next_cursor": None,
    }
    assert documents.invoice.payment_reference == "1012"  # 10 + number + check digit
    one = api.get(f"{base(org)}/invoices/{documents.invoice.pk}", writer)
    assert (one.status, one.body) == (200, listed.body["data"][0])


def test_reverse_charge_and_outside_the_eu(api: Api, catalog: None, vendor: str) -> None:
    dutch = make_organization(
        name="Voorbeeld B.V.",
        vat_number="NL004495445B01",
        country="NL",
        language="nl",
        edition="basic",
        licenses=5,
        period_months=12,
        admin_email="finance@voorbeeld.example",
        invoice_address=True,
    )
    norwegian = make_organization(
        name="Nordmann AS",
        vat_number="NO987654325MVA",
        country="NO",
        edition="enterprise",
        licenses=3,
        period_months=1,
        admin_email="okonomi@nordmann.example",
        invoice_address=True,
    )
    shown = {}
    for org in (dutch, norwegian):
        invoice = issue(renewal_of(org)).invoice
        body = api.get(f"{base(org)}/invoices/{invoice.pk}", vendor).body
        shown[org.country] = (
            body["vat_treatment"],
            body["net_total"],
            body["vat_total"],
            body["total"],
            body["period"],
        )
    assert shown == {
        "NL": (
            "reverse_charge",
            "600.00",
            "0.00",
            "600.00",
            {"start": "2027-01-01", "end": "2027-12-31"},
        ),
        "NO": (
            "outside_eu",
            "105.00",
            "0.00",
            "105.00",
            {"start": "2027-01-01", "end": "2027-01-31"},
        ),
    }


def test_the_list_is_newest_first_with_credit_notes_and_a_cursor(
    api: Api, org: Any, writer: str
) -> None:
    admin = admin_of(org)
    for count in (11, 12):
        set_license_count(organization=org, licenses=count, actor=admin, now=NOW)
    for order in Order.objects.filter(organization=org).order_by("number"):
        issue(order)
    first = Invoice.objects.get(number=1)
    credit_invoice(invoice_id=first.pk, reason="Wrong licence count", actor=VENDOR, now=NOW)

    everything = api.get(f"{base(org)}/invoices", writer).body
    assert [(i["number"], i["document_type"]) for i in everything["data"]] == [
        (4, "credit_note"),
        (3, "invoice"),
        (2, "invoice"),
        (1, "invoice"),
    ]
    assert everything["next_cursor"] is None
    credit_note = everything["data"][0]
    # A credit note's amounts are positive, as on the document itself.
    assert (
        credit_note["credits_invoice_number"],
        credit_note["order_id"],
        credit_note["total"],
    ) == (1, None, "1506.00")

    seen, cursor = [], None
    while True:
        query = f"?limit=1&cursor={cursor}" if cursor else "?limit=1"
        page = api.get(f"{base(org)}/invoices{query}", writer).body
        assert len(page["data"]) == 1
        seen.append(page["data"][0])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything["data"]
    bad = api.get(f"{base(org)}/invoices?cursor=nonsense", writer)
    assert (bad.status, bad.code) == (422, "validation_error")


def test_before_any_document_the_list_is_empty(api: Api, org: Any, writer: str) -> None:
    assert api.get(f"{base(org)}/invoices", writer).body == {"data": [], "next_cursor": None}


# --------------------------------------------------------------------------- files


def test_the_invoice_pdf(api: Api, org: Any, reader: str) -> None:
    invoice = issue(renewal_of(org)).invoice
    pdf = api.get(f"{base(org)}/invoices/{invoice.pk}.pdf", reader)
    assert pdf.status == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="invoice-1.pdf"'
    assert pdf.content.startswith(b"%PDF-")
    # The same bytes every time: the file is rendered once and kept.
    assert api.get(f"{base(org)}/invoices/{invoice.pk}.pdf", reader).content == pdf.content


def test_the_invoice_ubl(api: Api, org: Any, reader: str) -> None:
    invoice = issue(renewal_of(org)).invoice
    ubl = api.get(f"{base(org)}/invoices/{invoice.pk}/ubl.xml", reader)
    assert ubl.status == 200
    assert ubl.headers["Content-Type"] == "application/xml"
    assert ubl.headers["Content-Disposition"] == 'attachment; filename="invoice-1.xml"'
    root = etree.fromstring(ubl.content)
    assert root.tag == UBL_INVOICE
    assert root.findtext(f"{CBC}ID") == "1"
    assert root.findtext(f"{CBC}IssueDate") == "2027-01-15"
    assert root.findtext(f"{CBC}DocumentCurrencyCode") == "EUR"


def test_a_credit_note_ubl_is_a_credit_note(api: Api, org: Any, reader: str) -> None:
    invoice = issue(renewal_of(org)).invoice
    credit_note = credit_invoice(invoice_id=invoice.pk, reason="x", actor=VENDOR, now=NOW)
    ubl = api.get(f"{base(org)}/invoices/{credit_note.pk}/ubl.xml", reader)
    assert etree.fromstring(ubl.content).tag == UBL_CREDIT_NOTE
    pdf = api.get(f"{base(org)}/invoices/{credit_note.pk}.pdf", reader)
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="credit-note-2.pdf"'


def test_the_order_confirmation_pdf(api: Api, org: Any, reader: str) -> None:
    order = renewal_of(org)
    issue(order)
    pdf = api.get(f"{base(org)}/orders/{order.pk}/confirmation.pdf", reader)
    assert pdf.status == 200
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"] == 'attachment; filename="order-confirmation-1.pdf"'
    assert pdf.content.startswith(b"%PDF-")


def test_finvoice_is_not_offered(api: Api, org: Any, reader: str) -> None:
    invoice = issue(renewal_of(org)).invoice
    finvoice = api.get(f"{base(org)}/invoices/{invoice.pk}/finvoice.xml", reader)
    assert (finvoice.status, finvoice.code) == (404, "not_found")
    assert finvoice.headers["Content-Type"] == "application/problem+json"
    assert finvoice.body["detail"] == (
        "The Finvoice format is not offered; the e-invoice is available as UBL (…/ubl.xml)."
    )
    document = api.get("/openapi.json").body
    assert "/api/v1/organizations/{org}/invoices/{id}/finvoice.xml" in document["paths"]


# --------------------------------------------------------------------------- resending


def test_resending_an_invoice_makes_exactly_one_new_delivery(
    api: Api, org: Any, writer: str
) -> None:
    invoice = issue(renewal_of(org)).invoice
    path = f"{base(org)}/invoices/{invoice.pk}/resend"
    key = {"Idempotency-Key": "resend-invoice-1"}

    resent = api.post(path, writer, {}, headers=key)
    assert (resent.status, resent.body) == (
        202,
        {"channel": "email", "to": "", "status": "pending", "sent_at": None},
    )
    replayed = api.post(path, writer, {}, headers=key)
    assert (replayed.status, replayed.body) == (202, resent.body)
    assert replayed.headers["Idempotent-Replayed"] == "true"

    deliveries = Delivery.objects.filter(invoice=invoice).order_by("created_at")
    assert [(d.automatic, d.created_at) for d in deliveries] == [
        (True, ISSUED_AT),
        (False, NOW),
    ]
    entry = HistoryEntry.objects.get(action="document_resend_requested")
    assert (entry.actor_type, entry.channel, entry.subject) == ("token", "api", "Invoice 1")
    # The invoice shows its latest delivery: the one just asked for.
    shown = api.get(f"{base(org)}/invoices/{invoice.pk}", writer).body["delivery"]
    assert shown == resent.body


def test_resending_an_order_confirmation_makes_exactly_one_new_delivery(
    api: Api, org: Any, writer: str
) -> None:
    order = renewal_of(org)
    issue(order)
    confirmation = OrderConfirmation.objects.get(order=order)
    before = Delivery.objects.filter(confirmation=confirmation).count()

    resent = api.post(f"{base(org)}/orders/{order.pk}/resend", writer, {})
    assert (resent.status, resent.body) == (
        202,
        {"channel": "email", "to": "", "status": "pending", "sent_at": None},
    )
    assert Delivery.objects.filter(confirmation=confirmation).count() == before + 1
    assert Delivery.objects.filter(confirmation=confirmation, automatic=False).count() == 1


# --------------------------------------------------------------------------- 404


def test_unknown_and_foreign_documents_are_not_found(
    api: Api, org: Any, writer: str, stranger: str
) -> None:
    order = renewal_of(org)
    other = make_organization(
        name="Kolmas Oy", admin_email="admin@kolmas.example", invoice_address=True
    )
    foreign = issue(renewal_of(other)).invoice
    # Before its documents are issued, the order has no confirmation.
    early = api.get(f"{base(org)}/orders/{order.pk}/confirmation.pdf", writer)
    assert (early.status, early.code, early.body["detail"]) == (
        404,
        "not_found",
        "Order confirmation not found.",
    )
    assert api.post(f"{base(org)}/orders/{order.pk}/resend", writer, {}).code == "not_found"
    invoice = issue(order).invoice

    unknown = ["x", "0", str(uuid.uuid4()), str(order.pk), str(foreign.pk), "%F0%9F%92%A9"]
    for invoice_id in unknown:
        for suffix in ("", ".pdf", "/ubl.xml", "/finvoice.xml"):
            reply = api.get(f"{base(org)}/invoices/{invoice_id}{suffix}", writer)
            assert (reply.status, reply.code) == (404, "not_found"), (invoice_id, suffix)
            assert reply.headers["Content-Type"] == "application/problem+json"
        resend = api.post(f"{base(org)}/invoices/{invoice_id}/resend", writer, {})
        assert (resend.status, resend.code) == (404, "not_found"), invoice_id
    for order_id in ("x", str(uuid.uuid4()), str(invoice.pk), str(renewal_of(other).pk)):
        for call in (
            lambda p: api.get(f"{p}/confirmation.pdf", writer),
            lambda p: api.post(f"{p}/resend", writer, {}),
        ):
            reply = call(f"{base(org)}/orders/{order_id}")
            assert (reply.status, reply.code) == (404, "not_found"), order_id
    assert api.get(f"{base(org)}/invoices/x", writer).body["detail"] == "Invoice not found."
    assert api.get(f"{base(org)}/invoices/{invoice.pk}", writer).status == 200
    # Another organisation's token does not see that this organisation exists.
    for suffix in ("", ".pdf", "/ubl.xml"):
        reply = api.get(f"{base(org)}/invoices/{invoice.pk}{suffix}", stranger)
        assert (reply.status, reply.code) == (404, "not_found")
    # Nothing was resent along the way.
    assert not Delivery.objects.filter(automatic=False).exists()


# --------------------------------------------------------------------------- webhooks


@pytest.fixture
def committing(clock: None) -> Api:
    return CommittingApi(Client())


def test_invoice_issued_webhook_carries_the_invoice(
    committing: Api, org: Any, writer: str, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    api = committing
    endpoint = register(api, vendor, receiver.url, ["invoice.issued"])
    bought = api.put(f"{base(org)}/subscription/licenses", writer, {"licenses": 11})
    assert bought.status == 200
    run_worker()  # issues the order's documents, delivers them, then the webhook

    (message,) = receiver.received
    payload = verified(endpoint["secret"], message)
    invoice = Invoice.objects.get(order_id=bought.body["order"]["id"])
    shown = api.get(f"{base(org)}/invoices/{invoice.pk}", writer).body
    assert shown["delivery"]["status"] == "sent"
    assert payload == {
        "type": "invoice.issued",
        "timestamp": "2027-01-15T10:00:00Z",
        "data": {
            "organization_id": str(org.pk),
            # As the API shows it, at the moment it was issued: not delivered yet.
            "invoice": {
                **shown,
                "delivery": {"channel": "email", "to": "", "status": "pending", "sent_at": None},
            },
        },
    }
    assert payload["data"]["invoice"]["lines"] == [
        {
            "description": bought.body["order"]["lines"][0]["description"],
            "quantity": bought.body["order"]["lines"][0]["quantity"],
            "unit_price": bought.body["order"]["lines"][0]["unit_price"],
            "amount": bought.body["order"]["lines"][0]["amount"],
            "period": bought.body["order"]["lines"][0]["period"],
        }
    ]


class RefusingAdapter:
    def send(self, outgoing: Any) -> str:
        raise ConnectionRefusedError("smtp down")


def test_invoice_delivery_failed_webhook_carries_the_invoice_and_the_failure(
    committing: Api,
    org: Any,
    writer: str,
    vendor: str,
    receiver: Receiver,
    fast_retries: None,
    settings: Any,
) -> None:
    settings.DELIVERY_MAX_ATTEMPTS = 1
    settings.DELIVERY_ADAPTERS = {
        **settings.DELIVERY_ADAPTERS,
        "email": f"{__name__}.RefusingAdapter",
    }
    api = committing
    endpoint = register(api, vendor, receiver.url, ["invoice.delivery_failed"])
    with TestCase.captureOnCommitCallbacks(execute=True):
        invoice = issue(renewal_of(org), at=NOW).invoice
    run_worker()

    (message,) = receiver.received
    payload = verified(endpoint["secret"], message)
    shown = api.get(f"{base(org)}/invoices/{invoice.pk}", writer).body
    assert shown["delivery"]["status"] == "failed"
    assert payload["type"] == "invoice.delivery_failed"
    assert payload["data"] == {
        "organization_id": str(org.pk),
        "invoice": shown,
        "failure": {
            "channel": "email",
            "error": "ConnectionRefusedError: smtp down",
            "rule_ids": [],
        },
    }
