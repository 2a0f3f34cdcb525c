"""History's documents (PRODUCT.md section 5): order confirmations with their PDF and
resend, invoices and credit notes with PDF, e-invoice XML, delivery status and resend."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from lxml import etree

from abonnement.history.models import HistoryEntry
from abonnement.invoicing.models import Delivery
from abonnement.invoicing.services import (
    DeliveryRefused,
    OrderDocuments,
    Outgoing,
    credit_invoice,
    issue_invoice_for_order,
    send_delivery,
)
from abonnement.orders.models import Order
from tests.conftest import NOW, VENDOR, admin_of, make_organization
from tests.invoicing.conftest import SELLER
from tests.portal.conftest import client_for, make_user

pytestmark = pytest.mark.django_db

# Issued two hours before the clock's NOW, on the same business day (2027-01-15).
ISSUED_AT = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
UBL_INVOICE = "{urn:oasis:names:specification:ubl:schema:xsd:Invoice-2}Invoice"
HISTORY = "/settings/subscription/history/"
INVOICES = HISTORY + "?show=invoices"


@pytest.fixture(autouse=True)
def documents_settings(settings: Any, tmp_path: Any) -> None:
    settings.SELLER = SELLER
    settings.PAYMENT_TERMS_DAYS = 14
    settings.DEFAULT_FROM_EMAIL = "billing@abonnement.example"
    settings.ABONNEMENT_OUTBOX_DIR = tmp_path / "outbox"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def org(catalog: None) -> Any:
    """The tests here issue invoices, and an invoice needs the buyer's address."""
    return make_organization(invoice_address=True)


def issue(order: Order) -> OrderDocuments:
    return issue_invoice_for_order(order_id=order.pk, now=ISSUED_AT)


def renewal_of(org: Any) -> Order:
    return Order.objects.get(organization=org, kind="renewal")


def confirmation_pdf(order: Order) -> str:
    return f"{HISTORY}orders/{order.pk}/confirmation.pdf"


def confirmation_resend(order: Order) -> str:
    return f"{HISTORY}orders/{order.pk}/resend/"


def invoice_url(documents: OrderDocuments, suffix: str) -> str:
    return f"{HISTORY}invoices/{documents.invoice.pk}{suffix}"


def buy_licences(org: Any, count: int) -> list[Order]:
    """``count`` licence orders (one licence each), their documents issued."""
    from abonnement.subscriptions.services import set_license_count

    orders = []
    for total in range(11, 11 + count):
        result = set_license_count(organization=org, licenses=total, actor=admin_of(org), now=NOW)
        assert result.order is not None
        issue(result.order)
        orders.append(result.order)
    return orders


# --------------------------------------------------------------------------- order confirmations


def test_an_issued_confirmation_has_its_pdf_and_resend(portal: Client, org: Any) -> None:
    order = renewal_of(org)
    issue(order)
    body = portal.get(HISTORY).content.decode()
    assert f'href="{confirmation_pdf(order)}"' in body
    assert f'action="{confirmation_resend(order)}"' in body
    assert "csrfmiddlewaretoken" in body
    assert f'PDF<span class="visually-hidden"> order confirmation {order.number}</span>' in body
    assert "Being prepared" not in body
    # The automatic delivery is waiting for the worker.
    assert "Pending" in body and "By e-mail" in body


def test_order_confirmation_pdf(portal: Client, org: Any) -> None:
    order = renewal_of(org)
    issue(order)
    response = portal.get(confirmation_pdf(order))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response["Content-Disposition"] == (
        f'attachment; filename="order-confirmation-{order.number}.pdf"'
    )


def test_a_confirmation_not_issued_yet_is_not_found(portal: Client, org: Any) -> None:
    order = renewal_of(org)
    assert portal.get(confirmation_pdf(order)).status_code == 404
    assert portal.post(confirmation_resend(order)).status_code == 404
    assert not Delivery.objects.exists()


def test_resending_a_confirmation_makes_one_delivery(portal: Client, org: Any) -> None:
    order = renewal_of(org)
    documents = issue(order)
    before = set(Delivery.objects.values_list("pk", flat=True))

    response = portal.post(confirmation_resend(order), {"page": "1"})
    assert response.status_code == 302
    assert response["Location"] == f"{HISTORY}?show=orders"

    (new,) = Delivery.objects.exclude(pk__in=before)
    assert new.confirmation_id == documents.confirmation.pk
    assert (new.channel, new.status, new.automatic) == ("email", "pending", False)
    assert Delivery.objects.count() == len(before) + 1
    assert (
        HistoryEntry.objects.filter(
            organization=org, action="document_resend_requested", channel="portal"
        ).count()
        == 1
    )
    body = portal.get(response["Location"]).content.decode()
    assert (
        f"Order confirmation {order.number} is being sent again by e-mail to admin@testi.example."
    ) in body


def test_resend_returns_to_the_page_it_was_on(portal: Client, org: Any) -> None:
    documents = issue(renewal_of(org))
    response = portal.post(invoice_url(documents, "/resend/"), {"page": "3"})
    assert response["Location"] == f"{HISTORY}?show=invoices&page=3"
    response = portal.post(invoice_url(documents, "/resend/"), {"page": "x"})
    assert response["Location"] == f"{HISTORY}?show=invoices"


def test_resend_is_a_post(portal: Client, org: Any) -> None:
    documents = issue(renewal_of(org))
    assert portal.get(confirmation_resend(documents.confirmation.order)).status_code == 405
    assert portal.get(invoice_url(documents, "/resend/")).status_code == 405
    assert Delivery.objects.count() == 2  # the automatic ones only


# --------------------------------------------------------------------------- invoices


def test_invoices_are_listed_with_their_delivery(portal: Client, org: Any) -> None:
    documents = issue(renewal_of(org))
    (delivery,) = Delivery.objects.filter(invoice=documents.invoice)
    assert send_delivery(delivery_id=delivery.pk, now=NOW).status == "sent"

    body = portal.get(INVOICES).content.decode()
    assert "Invoices and credit notes" in body
    assert "<strong>1</strong>" in body
    assert f"Order {renewal_of(org).number}" in body
    assert "15 Jan 2027" in body and "Due 29 Jan 2027" in body
    assert "1 Jan 2027 – 30 Jun 2027" in body
    assert "€1,506.00" in body and "incl. VAT €306.00" in body
    assert "Sent" in body and "By e-mail to admin@testi.example, 15 Jan 2027 12:00" in body
    assert f'href="{invoice_url(documents, ".pdf")}"' in body
    assert f'href="{invoice_url(documents, ".xml")}"' in body
    assert f'action="{invoice_url(documents, "/resend/")}"' in body


@pytest.mark.parametrize(
    "language,texts",
    [
        ("nl", ["Facturen en creditnota’s", "€\xa01.506,00", "Vervalt op 29 jan 2027"]),
        ("fi", ["Laskut ja hyvityslaskut", "1\xa0506,00\xa0€", "Lähetä uudelleen"]),
    ],
)
def test_invoices_in_the_users_language(
    portal: Client, org: Any, admin_user: Any, language: str, texts: list[str]
) -> None:
    admin_user.language = language
    admin_user.save(update_fields=["language"])
    issue(renewal_of(org))
    body = portal.get(INVOICES).content.decode()
    for text in texts:
        assert text in body


def test_a_credit_note_is_listed_beside_its_invoice(portal: Client, org: Any) -> None:
    documents = issue(renewal_of(org))
    credit_invoice(invoice_id=documents.invoice.pk, reason="Wrong edition", actor=VENDOR, now=NOW)
    body = portal.get(INVOICES).content.decode()
    assert "Credit note" in body and "for invoice 1" in body
    assert 'PDF<span class="visually-hidden"> credit note 2</span>' in body


def test_a_failed_delivery_shows_why(portal: Client, org: Any) -> None:
    documents = issue(renewal_of(org))
    (delivery,) = Delivery.objects.filter(invoice=documents.invoice)

    def refuse(outgoing: Outgoing) -> str:
        raise DeliveryRefused("the operator refused the document")

    assert send_delivery(delivery_id=delivery.pk, now=NOW, sender=refuse).status == "failed"
    body = portal.get(INVOICES).content.decode()
    assert "Failed" in body
    assert "Not delivered: the operator refused the document" in body


def test_invoice_pdf_and_e_invoice_xml(portal: Client, org: Any) -> None:
    documents = issue(renewal_of(org))
    pdf = portal.get(invoice_url(documents, ".pdf"))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert pdf["Content-Disposition"] == 'attachment; filename="invoice-1.pdf"'

    xml = portal.get(invoice_url(documents, ".xml"))
    assert xml.status_code == 200
    assert xml["Content-Type"] == "application/xml"
    assert xml["Content-Disposition"] == 'attachment; filename="invoice-1.xml"'
    root = etree.fromstring(xml.content)
    assert root.tag == UBL_INVOICE


def test_resending_an_invoice_as_an_e_invoice_names_the_address(portal: Client, org: Any) -> None:
    from tests.invoicing.conftest import set_billing

    documents = issue(renewal_of(org))
    set_billing(
        org,
        e_invoicing={"enabled": True, "address": "003723456780", "operator_code": "003721291126"},
    )
    before = Delivery.objects.filter(invoice=documents.invoice).count()
    response = portal.post(invoice_url(documents, "/resend/"), follow=True)
    assert Delivery.objects.filter(invoice=documents.invoice).count() == before + 1
    latest = Delivery.objects.filter(invoice=documents.invoice).latest("created_at")
    assert (latest.channel, latest.automatic) == ("einvoice", False)
    assert (
        "Invoice 1 is being sent again as an e-invoice to 003723456780 (003721291126)."
        in response.content.decode()
    )


def test_invoice_list_is_paginated(portal: Client, org: Any) -> None:
    issue(renewal_of(org))
    buy_licences(org, 20)
    first = portal.get(INVOICES).content.decode()
    assert "Page 1 of 2" in first
    assert first.count("E-invoice XML<span") == 20
    second = portal.get(INVOICES + "&page=2").content.decode()
    assert "Page 2 of 2" in second and second.count("E-invoice XML<span") == 1
    assert 'name="page" value="2"' in second


def test_invoice_list_queries_do_not_grow_with_invoices(
    portal: Client, org: Any, django_assert_max_num_queries: Any
) -> None:
    documents = issue(renewal_of(org))
    with CaptureQueriesContext(connection) as few:
        assert portal.get(INVOICES).status_code == 200
    for order in buy_licences(org, 6):
        portal.post(f"{HISTORY}orders/{order.pk}/resend/")
    portal.post(invoice_url(documents, "/resend/"))
    credit_invoice(invoice_id=documents.invoice.pk, reason="Test", actor=VENDOR, now=NOW)
    # Session, user, organisation; count, the page of invoices, their deliveries.
    with django_assert_max_num_queries(6), CaptureQueriesContext(connection) as many:
        body = portal.get(INVOICES).content.decode()
    assert body.count("E-invoice XML<span") == 8
    assert len(many) == len(few)


def test_order_list_queries_do_not_grow_with_documents(
    portal: Client, org: Any, django_assert_max_num_queries: Any
) -> None:
    issue(renewal_of(org))
    with CaptureQueriesContext(connection) as few:
        portal.get(HISTORY)
    for order in buy_licences(org, 6):
        portal.post(confirmation_resend(order))
    # Session, user, organisation; count, three catalogue names, the orders, their lines,
    # the page's confirmations and their deliveries.
    with django_assert_max_num_queries(11), CaptureQueriesContext(connection) as many:
        body = portal.get(HISTORY).content.decode()
    assert body.count("confirmation.pdf") == 7
    assert len(many) == len(few)


# --------------------------------------------------------------------------- who may


def _document_urls(documents: OrderDocuments) -> list[str]:
    return [
        confirmation_pdf(documents.confirmation.order),
        invoice_url(documents, ".pdf"),
        invoice_url(documents, ".xml"),
    ]


def _resend_urls(documents: OrderDocuments) -> list[str]:
    return [confirmation_resend(documents.confirmation.order), invoice_url(documents, "/resend/")]


def test_another_organisations_documents_are_not_found(portal: Client, org: Any) -> None:
    other = make_organization(name="Muu Oy", admin_email="admin@muu.example", invoice_address=True)
    theirs = issue(renewal_of(other))
    before = Delivery.objects.count()
    for url in _document_urls(theirs):
        assert portal.get(url).status_code == 404, url
    for url in _resend_urls(theirs):
        assert portal.post(url).status_code == 404, url
    assert Delivery.objects.count() == before
    missing = "00000000-0000-0000-0000-000000000000"
    assert portal.get(f"{HISTORY}invoices/{missing}.pdf").status_code == 404
    assert portal.get(f"{HISTORY}orders/{missing}/confirmation.pdf").status_code == 404


def test_without_the_subscription_permission_the_explanation_page(
    org: Any, clock_at_now: None
) -> None:
    documents = issue(renewal_of(org))
    client = client_for(make_user(org, "olga@testi.example", permissions=["manage_users"]))
    before = Delivery.objects.count()
    responses = [client.get(url) for url in _document_urls(documents)]
    responses += [client.post(url) for url in _resend_urls(documents)]
    responses.append(client.get(INVOICES))
    for response in responses:
        assert response.status_code == 403
        body = response.content.decode()
        assert "Edit settings and manage subscription &amp; features" in body
        assert "Anna Admin" in body
    assert Delivery.objects.count() == before


def test_anonymous_is_sent_to_sign_in(client: Client, org: Any) -> None:
    documents = issue(renewal_of(org))
    for url in _document_urls(documents):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/sign-in/")
    for url in _resend_urls(documents):
        response = client.post(url)
        assert response.status_code == 302 and response["Location"].startswith("/sign-in/")


def test_the_change_log_describes_the_documents_in_the_users_language(
    portal: Client, org: Any, admin_user: Any
) -> None:
    documents = issue(renewal_of(org))
    (delivery,) = Delivery.objects.filter(invoice=documents.invoice)
    assert send_delivery(delivery_id=delivery.pk, now=NOW).status == "sent"
    portal.post(invoice_url(documents, "/resend/"))
    credit_invoice(invoice_id=documents.invoice.pk, reason="Wrong edition", actor=VENDOR, now=NOW)

    body = portal.get(HISTORY + "?show=all").content.decode()
    assert "Invoice 1 issued: €1,506.00" in body
    assert "Invoice 1 delivered: admin@testi.example" in body
    assert "Invoice 1 sent again on request" in body
    assert "Credit note 2 issued for invoice 1" in body
    assert "_issued" not in body and "_requested" not in body

    admin_user.language = "fi"
    admin_user.save(update_fields=["language"])
    body = portal.get(HISTORY + "?show=all").content.decode()
    assert "Lasku 1 lähetetty uudelleen pyynnöstä" in body
    assert "Lasku 1 laadittu: 1\xa0506,00\xa0€" in body


@pytest.mark.parametrize(
    "language,text,logged",
    [
        (
            "en",
            "As an e-invoice to 003723456780 through operator 003721291126 (outbox)",
            "Invoice 1 delivered: 003723456780 through operator 003721291126 (outbox)",
        ),
        (
            "nl",
            "Als e-factuur naar 003723456780 via operator 003721291126 (uitgaande map)",
            "Factuur 1 afgeleverd: 003723456780 via operator 003721291126 (uitgaande map)",
        ),
        (
            "fi",
            "Verkkolaskuna osoitteeseen 003723456780 välittäjän 003721291126 kautta"
            " (lähtevät-kansio)",
            "Lasku 1 toimitettu: 003723456780 välittäjän 003721291126 kautta (lähtevät-kansio)",
        ),
    ],
)
def test_an_e_invoice_delivery_is_described_in_the_users_language(
    portal: Client, org: Any, admin_user: Any, language: str, text: str, logged: str
) -> None:
    from tests.invoicing.conftest import set_billing

    set_billing(
        org,
        e_invoicing={"enabled": True, "address": "003723456780", "operator_code": "003721291126"},
    )
    documents = issue(renewal_of(org))
    (delivery,) = Delivery.objects.filter(invoice=documents.invoice)
    assert send_delivery(delivery_id=delivery.pk, now=NOW).status == "sent"
    # Sent again while the file is still in the outbox.
    portal.post(invoice_url(documents, "/resend/"))
    (again,) = Delivery.objects.filter(invoice=documents.invoice).exclude(pk=delivery.pk)
    assert send_delivery(delivery_id=again.pk, now=NOW).status == "sent"

    admin_user.language = language
    admin_user.save(update_fields=["language"])
    invoices = portal.get(INVOICES).content.decode()
    assert f"{text}, " in invoices
    assert "via 003721291126 (outbox)" not in invoices
    assert ALREADY_THERE[language] in invoices
    log = portal.get(HISTORY + "?show=all").content.decode()
    assert logged in log


ALREADY_THERE = {
    "en": "As an e-invoice, already in the outbox",
    "nl": "Als e-factuur; staat al in de uitgaande map",
    "fi": "Verkkolaskuna; lasku on jo lähtevät-kansiossa",
}


def test_orders_placed_by_the_period_rollover_name_it_in_the_users_language(
    portal: Client, org: Any, admin_user: Any
) -> None:
    from abonnement.subscriptions.rollover import roll_over_subscriptions

    assert roll_over_subscriptions(now=datetime(2027, 7, 1, 0, 30, tzinfo=UTC)).transitions == 1
    admin_user.language = "fi"
    admin_user.save(update_fields=["language"])
    body = portal.get(HISTORY).content.decode()
    assert '<td data-label="Tekijä">Kauden vaihto</td>' in body
    assert "Period rollover" not in body
