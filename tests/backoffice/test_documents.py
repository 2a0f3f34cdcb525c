"""Documents in the back office: credit an invoice, resend a document, retry a failed
delivery, see failures across organisations. Billing role only for the actions."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from abonnement.billing.services import update_billing_details
from abonnement.history.models import HistoryEntry
from abonnement.invoicing.models import Delivery, Invoice
from abonnement.invoicing.services import issue_invoice_for_order
from abonnement.orders.models import Order
from tests.backoffice.conftest import make_staff, signed_in
from tests.conftest import NOW, admin_of, give_invoice_address, make_organization

pytestmark = pytest.mark.django_db


def billed(org: Any) -> Invoice:
    update_billing_details(
        organization=org,
        data={
            "contact": {"user_id": admin_of(org).user.pk},
            "cc": [],
            "address": {
                "street": "Asiakaskatu 5",
                "postal_code": "00510",
                "city": "Helsinki",
                "country": "FI",
            },
            "reference": "",
            "invoice_language": "en",
            "e_invoicing": {"enabled": False, "address": "", "operator_code": ""},
        },
        actor=admin_of(org),
        now=NOW,
    )
    order = Order.objects.get(organization=org)
    return issue_invoice_for_order(order_id=order.pk, now=NOW).invoice


@pytest.fixture
def invoice(org: Any) -> Invoice:
    return billed(org)


def staff_entries(org: Any) -> list[HistoryEntry]:
    return list(HistoryEntry.objects.filter(organization=org, channel="back_office").order_by("id"))


class TestAccess:
    @pytest.mark.parametrize("role", ["anonymous", "customer", "support", "billing"])
    def test_matrix(self, invoice: Invoice, role: str) -> None:
        org = invoice.organization
        order = Order.objects.get(organization=org)
        delivery = Delivery.objects.get(invoice=invoice)
        Delivery.objects.filter(pk=delivery.pk).update(status="failed", last_error="Refused")
        user = {
            "anonymous": None,
            "customer": admin_of(org).user,
            "support": make_staff("support"),
            "billing": make_staff("billing"),
        }[role]
        client = signed_in(user)
        reads = [
            reverse("backoffice:invoice_pdf", args=[org.pk, invoice.pk]),
            reverse("backoffice:invoice_xml", args=[org.pk, invoice.pk]),
            reverse("backoffice:confirmation_file", args=[org.pk, order.pk]),
            reverse("backoffice:delivery_failures"),
        ]
        writes = [
            ("get", reverse("backoffice:invoice_credit", args=[org.pk, invoice.pk])),
            ("post", reverse("backoffice:invoice_credit", args=[org.pk, invoice.pk])),
            ("post", reverse("backoffice:invoice_resend", args=[org.pk, invoice.pk])),
            ("post", reverse("backoffice:order_resend", args=[org.pk, order.pk])),
            ("post", reverse("backoffice:delivery_retry", args=[delivery.pk])),
        ]
        before = (Invoice.objects.count(), Delivery.objects.count(), HistoryEntry.objects.count())
        for url in reads:
            status = client.get(url).status_code
            assert status == {"anonymous": 302, "customer": 403}.get(role, 200), url
        for method, url in writes:
            status = getattr(client, method)(url).status_code
            expected = {"anonymous": 302, "customer": 403, "support": 403}.get(
                role, 200 if method == "get" else 302
            )
            assert status == expected, url
        after = (Invoice.objects.count(), Delivery.objects.count(), HistoryEntry.objects.count())
        assert (after == before) is (role != "billing")


class TestCredit:
    def url(self, invoice: Invoice) -> str:
        return reverse("backoffice:invoice_credit", args=[invoice.organization_id, invoice.pk])

    def test_issues_a_credit_note_for_the_whole_invoice(
        self, billing_client: Client, billing_user: Any, invoice: Invoice
    ) -> None:
        page = billing_client.get(self.url(invoice)).content.decode()
        assert f"Credit invoice {invoice.number}" in page
        response = billing_client.post(self.url(invoice), {"reason": "Cancelled in January."})
        assert response.status_code == 302
        credit = Invoice.objects.get(credited_invoice=invoice)
        assert (credit.document_type, credit.total, credit.number) == (
            "credit_note",
            invoice.total,
            invoice.number + 1,
        )
        [entry] = staff_entries(invoice.organization)
        assert (entry.action, entry.actor_name, entry.actor_user_id, entry.reason) == (
            "credit_note_issued",
            "Bert Billing",
            billing_user.pk,
            "Cancelled in January.",
        )
        assert entry.after["credits_invoice"] == invoice.number
        assert Delivery.objects.filter(invoice=credit).count() == 1

    def test_a_second_credit_is_refused_and_changes_nothing(
        self, billing_client: Client, invoice: Invoice
    ) -> None:
        billing_client.post(self.url(invoice), {"reason": "Once."})
        before = (Invoice.objects.count(), HistoryEntry.objects.count())
        page = billing_client.get(self.url(invoice)).content.decode()
        assert "This invoice has already been credited" in page
        response = billing_client.post(self.url(invoice), {"reason": "Twice."})
        assert response.status_code == 422
        assert response.context["form"].non_field_errors() == [
            f"Invoice {invoice.number} has already been credited."
        ]
        assert (Invoice.objects.count(), HistoryEntry.objects.count()) == before

    def test_a_credit_note_is_not_offered_for_crediting(
        self, billing_client: Client, invoice: Invoice
    ) -> None:
        billing_client.post(self.url(invoice), {"reason": "Once."})
        credit = Invoice.objects.get(credited_invoice=invoice)
        before = (Invoice.objects.count(), HistoryEntry.objects.count())
        page = billing_client.get(self.url(credit)).content.decode()
        assert f"<h1>Credit note {credit.number}</h1>" in page
        assert (
            f"This is a credit note (it reverses invoice {invoice.number}); a credit note "
            "cannot be credited."
        ) in page
        assert 'name="reason"' not in page
        response = billing_client.post(self.url(credit), {"reason": "Undo."})
        assert response.status_code == 422
        assert (Invoice.objects.count(), HistoryEntry.objects.count()) == before

    def test_another_organisations_invoice_is_not_found(
        self, billing_client: Client, invoice: Invoice
    ) -> None:
        other = make_organization(name="Muu Oy", admin_email="admin@muu.example")
        url = reverse("backoffice:invoice_credit", args=[other.pk, invoice.pk])
        assert billing_client.get(url).status_code == 404
        assert billing_client.post(url, {"reason": "x"}).status_code == 404
        assert not Invoice.objects.filter(credited_invoice=invoice).exists()


class TestResendAndRetry:
    def test_resending_an_invoice_creates_a_new_delivery(
        self, billing_client: Client, billing_user: Any, invoice: Invoice
    ) -> None:
        org = invoice.organization
        url = reverse("backoffice:invoice_resend", args=[org.pk, invoice.pk])
        response = billing_client.post(url)
        assert response.status_code == 302
        assert response["Location"].endswith("#invoices")
        resend = Delivery.objects.get(invoice=invoice, automatic=False)
        assert (resend.channel, resend.status) == ("email", "pending")
        [entry] = staff_entries(org)
        assert (entry.action, entry.actor_user_id, entry.after) == (
            "document_resend_requested",
            billing_user.pk,
            {"channel": "email", "delivery_id": str(resend.pk)},
        )

    def test_resending_an_order_confirmation(
        self, billing_client: Client, invoice: Invoice
    ) -> None:
        order = Order.objects.get(organization=invoice.organization)
        url = reverse("backoffice:order_resend", args=[invoice.organization_id, order.pk])
        assert billing_client.post(url).status_code == 302
        assert Delivery.objects.filter(confirmation__order=order, automatic=False).count() == 1

    def test_retrying_a_failed_delivery(
        self, billing_client: Client, billing_user: Any, invoice: Invoice
    ) -> None:
        delivery = Delivery.objects.get(invoice=invoice)
        Delivery.objects.filter(pk=delivery.pk).update(
            status="failed", attempts=10, last_error="Mailbox unavailable"
        )
        failures = billing_client.get(reverse("backoffice:delivery_failures"))
        assert [d.pk for d in failures.context["failures"]] == [delivery.pk]
        assert "Mailbox unavailable" in failures.content.decode()
        response = billing_client.post(
            reverse("backoffice:delivery_retry", args=[delivery.pk]),
            {"next": reverse("backoffice:delivery_failures")},
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("backoffice:delivery_failures")
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts) == ("pending", 0)
        [entry] = staff_entries(invoice.organization)
        assert (entry.action, entry.actor_user_id, entry.before) == (
            "delivery_retry_requested",
            billing_user.pk,
            {"status": "failed", "error": "Mailbox unavailable"},
        )

    def test_a_tampered_next_goes_to_the_failures_list(
        self, billing_client: Client, invoice: Invoice
    ) -> None:
        delivery = Delivery.objects.get(invoice=invoice)
        response = billing_client.post(
            reverse("backoffice:delivery_retry", args=[delivery.pk]), {"next": "home"}
        )
        assert (response.status_code, response["Location"]) == (
            302,
            reverse("backoffice:delivery_failures"),
        )

    def test_a_delivery_that_did_not_fail_is_not_retried(
        self, billing_client: Client, invoice: Invoice
    ) -> None:
        delivery = Delivery.objects.get(invoice=invoice)
        before = HistoryEntry.objects.count()
        response = billing_client.post(
            reverse("backoffice:delivery_retry", args=[delivery.pk]),
            {"next": "https://evil.example/"},
            follow=True,
        )
        assert response.redirect_chain[0][0] == reverse("backoffice:delivery_failures")
        assert "Only a failed delivery can be retried." in response.content.decode()
        assert HistoryEntry.objects.count() == before


class TestFiles:
    def test_invoice_pdf_and_xml(self, support_client: Client, invoice: Invoice) -> None:
        org = invoice.organization_id
        pdf = support_client.get(reverse("backoffice:invoice_pdf", args=[org, invoice.pk]))
        assert (pdf.status_code, pdf["Content-Type"]) == (200, "application/pdf")
        assert pdf.content.startswith(b"%PDF-")
        xml = support_client.get(reverse("backoffice:invoice_xml", args=[org, invoice.pk]))
        assert (xml.status_code, xml["Content-Type"]) == (200, "application/xml")
        assert b"<Invoice" in xml.content

    def test_the_organisation_page_lists_invoices(
        self, billing_client: Client, invoice: Invoice
    ) -> None:
        response = billing_client.get(
            reverse("backoffice:organization", args=[invoice.organization_id])
        )
        page = response.context["page"]
        assert [i.number for i in page.invoices] == [invoice.number]
        html = response.content.decode()
        assert reverse("backoffice:invoice_credit", args=[invoice.organization_id, invoice.pk]) in (
            html
        )


class TestHeldInvoices:
    """The organisation page shows staff what the administrator is told: invoices wait for
    the invoice address, with the orders that wait."""

    def notice(self, client: Client, org: Any) -> str | None:
        html = client.get(reverse("backoffice:organization", args=[org.pk])).content.decode()
        if 'id="invoices-held"' not in html:
            return None
        return html.split('id="invoices-held">', 1)[1].split("</p>", 1)[0]

    def test_shown_with_the_waiting_orders_until_the_address_is_given(
        self, support_client: Client, org: Any
    ) -> None:
        from abonnement.subscriptions.services import set_license_count

        order = Order.objects.get(organization=org)
        assert issue_invoice_for_order(order_id=order.pk, now=NOW).invoice is None
        assert self.notice(support_client, org) == (
            "Invoices wait for the customer's billing details: order 1 is not invoiced until "
            "the invoice address is given (the administrator sees this notice too). "
            '<a href="#billing">Billing details</a>'
        )
        set_license_count(organization=org, licenses=11, actor=admin_of(org), now=NOW)
        notice = self.notice(support_client, org)
        assert notice is not None and "orders 1, 2 are not invoiced" in notice
        give_invoice_address(org)  # the administrator saves the billing details
        assert self.notice(support_client, org) is None
