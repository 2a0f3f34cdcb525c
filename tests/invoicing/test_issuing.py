"""Issuing confirmations, invoices and credit notes (Rules 1, 9–12)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from abonnement.accounts.models import StaffRole, User
from abonnement.billing.models import BillingDetails
from abonnement.core.actor import Actor
from abonnement.core.errors import PermissionDenied
from abonnement.core.models import Counter
from abonnement.history.models import HistoryEntry
from abonnement.invoicing.documents import Snapshot
from abonnement.invoicing.errors import AlreadyCredited, NotAnInvoice
from abonnement.invoicing.models import (
    Delivery,
    DeliveryChannel,
    DocumentType,
    Invoice,
    OrderConfirmation,
)
from abonnement.invoicing.services import (
    credit_invoice,
    issue_invoice_for_order,
    issue_invoices_for_orders,
)
from abonnement.orders.models import Order
from abonnement.subscriptions.rollover import roll_over_subscriptions
from abonnement.subscriptions.services import set_license_count, set_storage_packs
from tests.conftest import NOW, VENDOR, admin_of, make_organization
from tests.invoicing.conftest import (
    dutch_customer,
    finnish_customer,
    norwegian_customer,
    requires_rules,
    set_billing,
)

pytestmark = pytest.mark.django_db

JULY = datetime(2027, 7, 1, 7, 0, tzinfo=UTC)


def issue(order: Order, now: datetime = NOW) -> Invoice:
    return issue_invoice_for_order(order_id=order.pk, now=now).invoice


def only_order(org: Any) -> Order:
    return Order.objects.get(organization=org)


class TestIssueInvoiceForOrder:
    def test_domestic_invoice_has_exact_figures(self, catalog: None) -> None:
        org = finnish_customer()
        invoice = issue(only_order(org))
        assert (invoice.number, invoice.document_type, invoice.seller) == (
            1,
            DocumentType.INVOICE,
            "FI23456780",
        )
        assert (invoice.issue_date, invoice.due_date) == (date(2027, 1, 15), date(2027, 1, 29))
        assert (invoice.period_start, invoice.period_end) == (date(2027, 1, 1), date(2027, 6, 30))
        assert (invoice.net_total, invoice.vat_total, invoice.total) == (
            Decimal("1200.00"),
            Decimal("306.00"),
            Decimal("1506.00"),
        )
        assert (invoice.vat_category, invoice.currency, invoice.language) == ("S", "EUR", "fi")
        # Finnish reference: base "10" + number, 7-3-1 check digit.
        assert invoice.payment_reference == "1012"

    def test_reverse_charge_for_an_eu_business(self, catalog: None) -> None:
        invoice = issue(only_order(dutch_customer()))
        assert (invoice.vat_category, invoice.vat_total, invoice.total) == (
            "AE",
            Decimal("0.00"),
            Decimal("600.00"),
        )
        snapshot = Snapshot.from_json(invoice.snapshot)
        assert snapshot.notes == (
            "Btw verlegd: de afnemer voldoet de btw "
            "(artikel 196 van Richtlijn 2006/112/EG van de Raad).",
        )
        assert invoice.payment_reference == "RF341012"

    def test_vat_follows_where_the_buyer_is_established_not_its_invoice_address(
        self, catalog: None
    ) -> None:
        dutch = dutch_customer()
        set_billing(
            dutch,
            address={
                "street": "Rue de la Loi 16",
                "postal_code": "1000",
                "city": "Bruxelles",
                "country": "BE",
            },
            invoice_language="nl",
        )
        invoice = issue(only_order(dutch))
        assert (invoice.vat_category, invoice.vat_total) == ("AE", Decimal("0.00"))
        snapshot = Snapshot.from_json(invoice.snapshot)
        assert (snapshot.buyer.country, snapshot.buyer.vat_number) == ("BE", "NL004495445B01")
        finnish = finnish_customer(einvoicing=False)
        set_billing(
            finnish,
            address={
                "street": "1 Market St",
                "postal_code": "94105",
                "city": "San Francisco",
                "country": "US",
            },
        )
        invoice = issue(only_order(finnish))
        assert (invoice.vat_category, invoice.vat_total, invoice.total) == (
            "S",
            Decimal("306.00"),
            Decimal("1506.00"),
        )

    def test_no_vat_outside_the_eu(self, catalog: None) -> None:
        invoice = issue(only_order(norwegian_customer()))
        assert (invoice.vat_category, invoice.vat_total, invoice.total) == (
            "O",
            Decimal("0.00"),
            Decimal("105.00"),
        )
        # The document keeps both VAT numbers (every invoice names the seller's); only the
        # e-invoice leaves them out, as BR-O-02 requires (test_ubl).
        snapshot = Snapshot.from_json(invoice.snapshot)
        assert (snapshot.seller.vat_number, snapshot.buyer.vat_number) == (
            "FI23456780",
            "NO987654325MVA",
        )

    def test_pro_rata_order_shows_its_days(self, catalog: None) -> None:
        org = finnish_customer()
        set_license_count(organization=org, licenses=12, actor=admin_of(org), now=NOW)
        order = Order.objects.get(organization=org, kind="licenses")
        invoice = issue(order)
        (line,) = Snapshot.from_json(invoice.snapshot).lines
        assert (line.quantity, line.days, line.period_days, line.amount) == (
            Decimal("2"),
            167,
            181,
            Decimal("221.44"),
        )
        assert (invoice.net_total, invoice.vat_total, invoice.total) == (
            Decimal("221.44"),
            Decimal("56.47"),
            Decimal("277.91"),
        )

    def test_confirmation_is_made_with_the_invoice(self, catalog: None) -> None:
        org = finnish_customer()
        order = only_order(org)
        documents = issue_invoice_for_order(order_id=order.pk, now=NOW)
        confirmation = OrderConfirmation.objects.get(order=order)
        assert documents.confirmation == confirmation
        snapshot = Snapshot.from_json(confirmation.snapshot)
        assert (snapshot.kind, snapshot.number, snapshot.issue_date, snapshot.total) == (
            "order_confirmation",
            str(order.number),
            date(2027, 1, 15),
            Decimal("1506.00"),
        )
        deliveries = Delivery.objects.filter(organization=org).order_by("channel")
        assert [(d.channel, d.confirmation_id is not None, d.status) for d in deliveries] == [
            (DeliveryChannel.EINVOICE, False, "pending"),
            (DeliveryChannel.EMAIL, True, "pending"),
        ]

    def test_running_twice_issues_once(self, catalog: None) -> None:
        org = finnish_customer()
        order = only_order(org)
        first = issue_invoice_for_order(order_id=order.pk, now=NOW)
        second = issue_invoice_for_order(order_id=order.pk, now=NOW)
        assert (first.created, second.created) == (True, False)
        assert second.invoice == first.invoice
        assert Invoice.objects.count() == 1
        assert OrderConfirmation.objects.count() == 1
        assert Delivery.objects.count() == 2
        assert HistoryEntry.objects.filter(action="invoice_issued").count() == 1
        assert Counter.objects.get(name="invoice:FI23456780").next_value == 2

    def test_numbers_are_gapless_per_seller(self, catalog: None) -> None:
        org = finnish_customer()
        admin = admin_of(org)
        set_license_count(organization=org, licenses=12, actor=admin, now=NOW)
        set_storage_packs(organization=org, extra_packs=1, actor=admin, now=NOW)
        orders = list(Order.objects.filter(organization=org).order_by("number"))
        numbers = [issue(order).number for order in reversed(orders)]
        assert numbers == [1, 2, 3]

    def test_history_records_the_invoice(self, catalog: None) -> None:
        org = finnish_customer()
        issue(only_order(org))
        entry = HistoryEntry.objects.get(organization=org, action="invoice_issued")
        assert (entry.kind, entry.subject, entry.actor_type, entry.channel) == (
            "orders",
            "Invoice 1",
            "system",
            "scheduled_job",
        )
        assert entry.after == {
            "number": 1,
            "type": "invoice",
            "issue_date": "2027-01-15",
            "due_date": "2027-01-29",
            "net_total": "1200.00",
            "vat_total": "306.00",
            "total": "1506.00",
            "currency": "EUR",
            "vat_category": "S",
            "payment_reference": "1012",
            "order_number": 1,
        }

    def test_renewal_invoice_bills_licences_times_months(self, catalog: None) -> None:
        org = finnish_customer()
        set_license_count(organization=org, licenses=8, actor=admin_of(org), now=NOW)
        roll_over_subscriptions(now=JULY)
        renewal = Order.objects.filter(organization=org, kind="renewal").latest("period_start")
        invoice = issue(renewal, now=JULY)
        (line,) = Snapshot.from_json(invoice.snapshot).lines
        # Rule 1: 8 licences × 6 months = 48 licence-months at the 2027 H2 price.
        assert (line.quantity, line.unit_price, line.amount) == (
            Decimal("48"),
            Decimal("21.0000"),
            Decimal("1008.00"),
        )
        assert (invoice.issue_date, invoice.period_start, invoice.period_end) == (
            date(2027, 7, 1),
            date(2027, 7, 1),
            date(2027, 12, 31),
        )

    def test_organisation_without_billing_details_is_confirmed_at_its_country_not_invoiced(
        self, catalog: None
    ) -> None:
        org = make_organization()
        org.billing_details.delete()
        documents = issue_invoice_for_order(order_id=only_order(org).pk, now=NOW)
        snapshot = Snapshot.from_json(documents.confirmation.snapshot)
        assert (snapshot.buyer.country, snapshot.language, snapshot.vat_category) == (
            "FI",
            "en",
            "S",
        )
        # No invoice without the buyer's address (VAT Directive art. 226(5)).
        assert (documents.invoice, documents.created) == (None, False)
        assert Invoice.objects.filter(organization=org).count() == 0

    def test_vat_number_in_force_on_the_issue_date_is_used(self, catalog: None) -> None:
        from abonnement.organizations.services import transfer_vat_number

        org = finnish_customer()
        transfer_vat_number(
            organization=org,
            vat_number="FI23456780",
            effective_date=date(2027, 2, 1),
            document=b"%PDF-1.4 contract",
            document_name="transfer.pdf",
            actor=VENDOR,
            now=NOW,
        )
        january = issue(only_order(org))
        february = datetime(2027, 2, 2, 9, 0, tzinfo=UTC)
        set_license_count(organization=org, licenses=11, actor=admin_of(org), now=february)
        later = issue(Order.objects.get(organization=org, kind="licenses"), now=february)
        assert Snapshot.from_json(january.snapshot).buyer.vat_number == "FI23327487"
        assert Snapshot.from_json(later.snapshot).buyer.vat_number == "FI23456780"


class TestIssuedDocumentsNeverChange:
    def test_saving_an_issued_invoice_is_refused(self, catalog: None) -> None:
        invoice = issue(only_order(finnish_customer()))
        invoice.total = Decimal("1.00")
        with pytest.raises(RuntimeError, match="never changes"):
            invoice.save()
        with pytest.raises(RuntimeError, match="never deleted"):
            invoice.delete()
        invoice.refresh_from_db()
        assert invoice.total == Decimal("1506.00")


class TestCreditInvoice:
    def test_credit_note_reverses_the_invoice(self, catalog: None) -> None:
        org = finnish_customer()
        invoice = issue(only_order(org))
        note = credit_invoice(invoice_id=invoice.pk, reason="Duplicate", actor=VENDOR, now=NOW)
        assert (note.document_type, note.number, note.credited_invoice) == (
            DocumentType.CREDIT_NOTE,
            2,
            invoice,
        )
        assert (note.net_total, note.vat_total, note.total) == (
            invoice.net_total,
            invoice.vat_total,
            invoice.total,
        )
        entry = HistoryEntry.objects.get(organization=org, action="credit_note_issued")
        assert (entry.subject, entry.reason, entry.after["credits_invoice"]) == (
            "Credit note 2",
            "Duplicate",
            1,
        )
        assert Delivery.objects.filter(invoice=note, channel="einvoice").count() == 1

    def test_an_invoice_is_credited_once(self, catalog: None) -> None:
        invoice = issue(only_order(finnish_customer()))
        note = credit_invoice(invoice_id=invoice.pk, reason="x", actor=VENDOR, now=NOW)
        with pytest.raises(AlreadyCredited):
            credit_invoice(invoice_id=invoice.pk, reason="again", actor=VENDOR, now=NOW)
        with pytest.raises(NotAnInvoice):
            credit_invoice(invoice_id=note.pk, reason="x", actor=VENDOR, now=NOW)
        assert Invoice.objects.count() == 2
        assert Counter.objects.get(name="invoice:FI23456780").next_value == 3

    def test_customers_and_support_staff_cannot_credit(self, catalog: None) -> None:
        org = finnish_customer()
        invoice = issue(only_order(org))
        support = User.objects.create_user(
            "support@vendor.example",
            name="Sam Support",
            is_staff=True,
            staff_role=StaffRole.SUPPORT,
        )
        for actor in (admin_of(org), Actor.staff(support)):
            with pytest.raises(PermissionDenied):
                credit_invoice(invoice_id=invoice.pk, reason="x", actor=actor, now=NOW)
        assert Invoice.objects.filter(document_type="credit_note").count() == 0
        assert not HistoryEntry.objects.filter(action="credit_note_issued").exists()


@requires_rules
def test_a_reverse_charge_invoice_posted_to_another_country_is_a_valid_e_invoice(
    catalog: None,
) -> None:
    from abonnement.invoicing.ubl import render_ubl
    from abonnement.invoicing.validation import validate_ubl

    dutch = dutch_customer()
    set_billing(
        dutch,
        address={
            "street": "Rue de la Loi 16",
            "postal_code": "1000",
            "city": "Bruxelles",
            "country": "BE",
        },
        invoice_language="nl",
        e_invoicing={"enabled": True, "address": "0106:12345678", "operator_code": "NDEAFIHH"},
    )
    invoice = issue(only_order(dutch))
    report = validate_ubl(render_ubl(Snapshot.from_json(invoice.snapshot)))
    assert report.fatal == ()
    assert report.valid


FEBRUARY_3 = datetime(2027, 2, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock_at_february_3(settings: Any) -> None:
    """The tasks read the business clock: 3 February 2027, after the orders' day."""
    from abonnement.core.models import SimulatedClock

    settings.SIMULATED_CLOCK = True
    SimulatedClock.objects.update_or_create(pk=1, defaults={"now": FEBRUARY_3})


def enqueued_issuing() -> list[tuple[str, Any]]:
    from django_tasks_db.models import DBTaskResult

    tasks = DBTaskResult.objects.filter(task_path__contains=".issue_order_documents")
    return sorted((task.task_path.rsplit(".", 1)[1], task.args_kwargs["kwargs"]) for task in tasks)


class TestHeldForAnInvoiceAddress:
    """An invoice names the buyer's postal address (VAT Directive art. 226(5)); provisioning
    (``POST /organizations``) takes none. Until the billing details name it, an order is
    confirmed but not invoiced; saving them invoices the held orders after commit."""

    def test_without_an_invoice_address_only_the_confirmation_is_issued(
        self, catalog: None
    ) -> None:
        org = make_organization()  # the billing details have only the country
        order = only_order(org)
        first = issue_invoice_for_order(order_id=order.pk, now=NOW)
        again = issue_invoice_for_order(order_id=order.pk, now=NOW)
        assert (first.invoice, first.created, again.invoice, again.created) == (
            None,
            False,
            None,
            False,
        )
        assert first.confirmation == again.confirmation == OrderConfirmation.objects.get()
        assert Invoice.objects.count() == 0
        assert not HistoryEntry.objects.filter(action="invoice_issued").exists()
        assert [(d.channel, d.confirmation_id, d.invoice_id) for d in Delivery.objects.all()] == [
            (DeliveryChannel.EMAIL, order.pk, None)
        ]
        # No invoice number was taken either.
        assert not Counter.objects.filter(name="invoice:FI23456780").exists()
        assert issue_invoices_for_orders(order_ids=[order.pk], now=NOW) == 0
        # Provisioning's entries, and nothing about an invoice.
        assert list(
            HistoryEntry.objects.filter(organization=org)
            .order_by("pk")
            .values_list("action", flat=True)
        ) == ["order_created", "organization_created"]

    def test_an_address_without_a_street_still_holds_the_invoice(self, catalog: None) -> None:
        org = make_organization()
        BillingDetails.objects.filter(organization=org).update(postal_code="00100", city="Helsinki")
        assert issue(only_order(org)) is None
        BillingDetails.objects.filter(organization=org).update(street="Testikatu 1")
        invoice = issue(only_order(org))
        assert invoice is not None and invoice.number == 1

    def test_saving_the_billing_details_invoices_each_held_order_once(
        self, catalog: None, clock_at_february_3: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        from abonnement.invoicing.tasks import issue_order_documents_batch

        org = make_organization()
        admin = admin_of(org)
        set_license_count(organization=org, licenses=12, actor=admin, now=NOW)
        set_storage_packs(organization=org, extra_packs=1, actor=admin, now=NOW)
        orders = list(Order.objects.filter(organization=org).order_by("number"))
        assert issue_invoices_for_orders(order_ids=[o.pk for o in orders], now=NOW) == 0
        assert (OrderConfirmation.objects.count(), Invoice.objects.count()) == (3, 0)

        with django_capture_on_commit_callbacks(execute=True):
            set_billing(org)  # Asiakaskatu 5, 00510 Helsinki, FI; e-mailed invoices
        # After the commit, the task the rest of the code uses for many orders.
        held = [str(o.pk) for o in orders]
        assert enqueued_issuing() == [("issue_order_documents_batch", {"order_ids": held})]
        assert issue_order_documents_batch.call(order_ids=held) == 3

        invoices = list(Invoice.objects.order_by("number"))
        # Consecutive numbers in the orders' order, dated the day they were issued.
        assert [(i.number, i.order_id, i.issue_date, i.due_date) for i in invoices] == [
            (1, orders[0].pk, date(2027, 2, 3), date(2027, 2, 17)),
            (2, orders[1].pk, date(2027, 2, 3), date(2027, 2, 17)),
            (3, orders[2].pk, date(2027, 2, 3), date(2027, 2, 17)),
        ]
        for invoice in invoices:
            buyer = Snapshot.from_json(invoice.snapshot).buyer
            assert (buyer.street, buyer.postal_code, buyer.city, buyer.country) == (
                "Asiakaskatu 5",
                "00510",
                "Helsinki",
                "FI",
            )
        assert list(
            HistoryEntry.objects.filter(action="invoice_issued")
            .order_by("pk")
            .values_list("subject", flat=True)
        ) == ["Invoice 1", "Invoice 2", "Invoice 3"]
        assert sorted(
            (d.invoice.number, d.channel) for d in Delivery.objects.filter(invoice__isnull=False)
        ) == [(1, "email"), (2, "email"), (3, "email")]

        # A second save finds nothing held: nothing is enqueued, nothing more is issued.
        deliveries = Delivery.objects.count()
        with django_capture_on_commit_callbacks(execute=True):
            set_billing(org, reference="PO-1")
        assert len(enqueued_issuing()) == 1
        assert issue_order_documents_batch.call(order_ids=held) == 0
        assert (Invoice.objects.count(), Delivery.objects.count()) == (3, deliveries)
        assert HistoryEntry.objects.filter(action="invoice_issued").count() == 3
        assert Counter.objects.get(name="invoice:FI23456780").next_value == 4

    def test_one_held_order_is_one_task(
        self, catalog: None, clock_at_february_3: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        from abonnement.invoicing.tasks import issue_order_documents

        org = make_organization()
        order = only_order(org)
        assert issue_invoice_for_order(order_id=order.pk, now=NOW).invoice is None
        with django_capture_on_commit_callbacks(execute=True):
            set_billing(org)
        assert enqueued_issuing() == [("issue_order_documents", {"order_id": str(order.pk)})]
        invoice_id = issue_order_documents.call(order_id=str(order.pk))
        invoice = Invoice.objects.get()
        assert (invoice_id, invoice.number, invoice.issue_date) == (
            str(invoice.pk),
            1,
            date(2027, 2, 3),
        )

    def test_the_task_says_when_an_order_is_held(self, catalog: None) -> None:
        from abonnement.invoicing.tasks import HELD, issue_order_documents

        order = only_order(make_organization())
        assert issue_order_documents.call(order_id=str(order.pk)) == HELD
        assert (OrderConfirmation.objects.count(), Invoice.objects.count()) == (1, 0)

    def test_a_refused_save_releases_nothing(
        self, catalog: None, django_capture_on_commit_callbacks: Any
    ) -> None:
        from abonnement.core.errors import ValidationFailed

        org = make_organization()
        issue_invoice_for_order(order_id=only_order(org).pk, now=NOW)
        with pytest.raises(ValidationFailed), django_capture_on_commit_callbacks(execute=True):
            set_billing(org, address={"street": "", "postal_code": "", "city": "", "country": "FI"})
        assert enqueued_issuing() == []
        assert Invoice.objects.count() == 0
