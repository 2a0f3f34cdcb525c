"""Delivery: e-mail to a real SMTP server, the operator outbox, validation before sending,
retries, resends, and never two sends of one delivery."""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import json
import socket
from collections.abc import Iterator
from datetime import timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.test import override_settings
from pypdf import PdfReader

from abonnement.accounts.services import deactivate_user
from abonnement.core import clock
from abonnement.core.errors import NotFound
from abonnement.history.models import HistoryEntry
from abonnement.invoicing import delivery as delivery_module
from abonnement.invoicing.delivery import OutboxAdapter
from abonnement.invoicing.errors import DeliveryNotFailed
from abonnement.invoicing.models import Delivery, DeliveryStatus, StoredDocument
from abonnement.invoicing.services import (
    Outgoing,
    claim_delivery,
    issue_invoice_for_order,
    resend_document,
    retry_delay,
    retry_delivery,
    send_delivery,
)
from abonnement.invoicing.validation import validate_ubl
from abonnement.orders.models import Order
from tests.conftest import NOW, VENDOR, add_users, admin_of, make_organization
from tests.invoicing.conftest import finnish_customer, requires_rules, set_billing

pytestmark = pytest.mark.django_db


def pdf_text(content: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.replace("\xa0", " ").split())


def issue_for(org: Any) -> Any:
    order = Order.objects.filter(organization=org).order_by("number").last()
    return issue_invoice_for_order(order_id=order.pk, now=NOW)


def invoice_delivery(invoice: Any) -> Delivery:
    return Delivery.objects.get(invoice=invoice, automatic=True)


class Recorder:
    """An aiosmtpd handler keeping what it received."""

    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server() -> Iterator[Recorder]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
        ):
            yield recorder
    finally:
        controller.stop()


def attachments(message: Message) -> dict[str, bytes]:
    found = {}
    for part in message.walk():
        if part.get_filename():
            found[part.get_filename()] = part.get_payload(decode=True)
    return found


class TestEmailDelivery:
    def test_invoice_reaches_a_real_smtp_server_with_its_pdf(
        self, catalog: None, smtp_server: Recorder
    ) -> None:
        org = finnish_customer(einvoicing=False)
        set_billing(org, cc=["kirjanpito@tilitoimisto.example"])
        documents = issue_for(org)
        result = send_delivery(delivery_id=invoice_delivery(documents.invoice).pk, now=NOW)
        assert result.status == DeliveryStatus.SENT

        ((sender, recipients, raw),) = smtp_server.envelopes
        assert sender == "billing@abonnement.example"
        assert recipients == ["talous@asiakas.example", "kirjanpito@tilitoimisto.example"]
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert message["Subject"] == "Lasku 1 – Abonnement Demo Oy"
        assert message["To"] == "talous@asiakas.example"
        assert message["Cc"] == "kirjanpito@tilitoimisto.example"
        files = attachments(message)
        assert list(files) == ["invoice-1.pdf"]
        text = pdf_text(files["invoice-1.pdf"])
        for expected in (
            "Lasku",
            "Abonnement Demo Oy",
            "Asiakas Oy",
            "Laskun numero 1",
            "Eräpäivä 29.1.2027",
            "Viitenumero 1012",
            "Käyttäjälisenssit, Pro × 10 × 6 kk",
            "Veroton yhteensä 1 200,00 €",
            "ALV 25,5 % (S) 306,00 €",
            "Maksettava 1 506,00 €",
            "FI2112345600000785",
        ):
            assert expected in text, expected

        delivery = invoice_delivery(documents.invoice)
        assert (delivery.status, delivery.attempts, delivery.destination, delivery.sent_at) == (
            "sent",
            1,
            "talous@asiakas.example, kirjanpito@tilitoimisto.example",
            NOW,
        )
        entry = HistoryEntry.objects.get(organization=org, action="document_delivered")
        assert entry.subject == "Invoice 1"

    def test_order_confirmation_is_mailed_in_the_invoice_language(
        self, catalog: None, smtp_server: Recorder
    ) -> None:
        org = finnish_customer(einvoicing=False)
        set_billing(org, invoice_language="nl")
        documents = issue_for(org)
        delivery = Delivery.objects.get(confirmation=documents.confirmation)
        send_delivery(delivery_id=delivery.pk, now=NOW)
        ((_, _, raw),) = smtp_server.envelopes
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert message["Subject"] == "Orderbevestiging 1 van Abonnement Demo Oy"
        files = attachments(message)
        assert list(files) == ["order-confirmation-1.pdf"]
        text = pdf_text(files["order-confirmation-1.pdf"])
        assert "Orderbevestiging" in text
        assert "Ordernummer 1" in text
        assert "Gebruikerslicenties, Pro × 10 × 6 maanden" in text
        assert "Totaal € 1.506,00" in text

    def test_deactivated_contact_falls_back_to_the_subscription_admins(self, catalog: None) -> None:
        org = finnish_customer(einvoicing=False)
        (contact,) = add_users(org, 1)
        set_billing(org, contact={"user_id": contact.pk}, cc=["copy@example.com"])
        deactivate_user(
            organization=org, user_id=contact.pk, license="keep", actor=admin_of(org), now=NOW
        )
        documents = issue_for(org)
        send_delivery(delivery_id=invoice_delivery(documents.invoice).pk, now=NOW)
        (message,) = mail.outbox
        assert (message.to, message.cc) == (["talous@asiakas.example"], ["copy@example.com"])

    def test_details_without_a_contact_go_to_the_admins(self, catalog: None) -> None:
        org = make_organization()
        details = org.billing_details
        details.contact_user = None
        details.save()
        documents = issue_for(org)
        send_delivery(delivery_id=invoice_delivery(documents.invoice).pk, now=NOW)
        (message,) = mail.outbox
        assert message.to == ["admin@testi.example"]


class TestOutboxDelivery:
    def test_writes_the_ubl_and_its_routing_envelope(self, catalog: None, tmp_path: Path) -> None:
        org = finnish_customer()
        documents = issue_for(org)
        invoice = documents.invoice
        result = send_delivery(delivery_id=invoice_delivery(invoice).pk, now=NOW)
        assert result.status == "sent"
        outbox = tmp_path / "outbox"
        assert sorted(p.name for p in outbox.iterdir()) == [
            f"{invoice.pk}.json",
            f"{invoice.pk}.xml",
        ]
        ubl = StoredDocument.objects.get(invoice=invoice, format="ubl")
        assert (outbox / f"{invoice.pk}.xml").read_bytes() == bytes(ubl.content)
        envelope = json.loads((outbox / f"{invoice.pk}.json").read_text())
        assert envelope == {
            "document_id": str(invoice.pk),
            "document_number": "1",
            "document_type": "invoice",
            "file": f"{invoice.pk}.xml",
            "format": "peppol-bis-billing-3.0-ubl",
            "receiver": {
                "einvoice_address": "003723327487",
                "endpoint": {"id": "003723327487", "scheme": "0216"},
                "name": "Asiakas Oy",
                "operator": "003721291126",
            },
            "sender": {
                "business_id": "2345678-0",
                "endpoint": {"id": "003723456780", "scheme": "0216"},
                "name": "Abonnement Demo Oy",
                "vat_number": "FI23456780",
            },
            "sha256": ubl.sha256,
            "size": len(ubl.content),
        }
        delivery = invoice_delivery(invoice)
        assert delivery.destination == "003723327487 via 003721291126 (outbox)"

    def test_a_crash_between_write_and_rename_leaves_no_half_file(
        self, catalog: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        invoice = issue_for(finnish_customer()).invoice

        def crash(source: str, target: str) -> None:
            raise OSError("disk gone")

        monkeypatch.setattr(delivery_module.os, "replace", crash)
        result = send_delivery(delivery_id=invoice_delivery(invoice).pk, now=NOW)
        outbox = tmp_path / "outbox"
        assert list(outbox.iterdir()) == []
        assert result.status == "pending" and result.retry_at is not None
        delivery = invoice_delivery(invoice)
        assert (delivery.status, delivery.attempts, delivery.last_error) == (
            "pending",
            1,
            "OSError: disk gone",
        )

        monkeypatch.undo()
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
        assert send_delivery(delivery_id=delivery.pk, now=NOW).status == "sent"
        assert len(list(outbox.iterdir())) == 2

    def test_a_second_worker_does_not_deliver_twice(self, catalog: None, tmp_path: Path) -> None:
        invoice = issue_for(finnish_customer()).invoice
        delivery = invoice_delivery(invoice)
        sends: list[Outgoing] = []
        adapter = OutboxAdapter(tmp_path / "outbox")

        def counting(outgoing: Outgoing) -> str:
            sends.append(outgoing)
            return adapter.send(outgoing)

        first = send_delivery(delivery_id=delivery.pk, now=NOW, sender=counting)
        second = send_delivery(delivery_id=delivery.pk, now=NOW, sender=counting)
        assert (first.status, second.status, len(sends)) == ("sent", "sent", 1)
        assert HistoryEntry.objects.filter(action="document_delivered").count() == 1

    def test_a_claimed_delivery_cannot_be_claimed_again(self, catalog: None) -> None:
        invoice = issue_for(finnish_customer()).invoice
        delivery = invoice_delivery(invoice)
        at = clock.real_now()
        assert claim_delivery(delivery.pk, at=at) is True
        assert claim_delivery(delivery.pk, at=at) is False
        # A worker that vanished: after the lease another may take over.
        assert claim_delivery(delivery.pk, at=at + timedelta(minutes=16)) is True

    def test_outbox_write_is_idempotent(self, catalog: None, tmp_path: Path) -> None:
        invoice = issue_for(finnish_customer()).invoice
        send_delivery(delivery_id=invoice_delivery(invoice).pk, now=NOW)
        resend = resend_document(
            organization=invoice.organization, invoice_id=invoice.pk, actor=VENDOR, now=NOW
        )
        send_delivery(delivery_id=resend.pk, now=NOW)
        resend.refresh_from_db()
        assert resend.destination == f"outbox {invoice.pk}.json (already there)"
        assert len(list((tmp_path / "outbox").iterdir())) == 2

    @requires_rules
    def test_a_resend_after_the_address_changed_names_the_new_receiver_in_both_files(
        self, catalog: None, tmp_path: Path
    ) -> None:
        org = finnish_customer()
        invoice = issue_for(org).invoice
        send_delivery(delivery_id=invoice_delivery(invoice).pk, now=NOW)
        set_billing(
            org,
            e_invoicing={
                "enabled": True,
                "address": "0216:003712345604",
                "operator_code": "003721291126",
            },
        )
        resend = resend_document(organization=org, invoice_id=invoice.pk, actor=VENDOR, now=NOW)
        assert send_delivery(delivery_id=resend.pk, now=NOW).status == "sent"
        outbox = tmp_path / "outbox"
        xml = (outbox / f"{invoice.pk}.xml").read_bytes()
        envelope = json.loads((outbox / f"{invoice.pk}.json").read_text())
        assert envelope["receiver"]["einvoice_address"] == "0216:003712345604"
        assert envelope["receiver"]["endpoint"] == {"id": "003712345604", "scheme": "0216"}
        assert b'<cbc:EndpointID schemeID="0216">003712345604</cbc:EndpointID>' in xml
        assert b"003723327487" not in xml  # the old address is gone from the document
        assert envelope["sha256"] == hashlib.sha256(xml).hexdigest()
        # Only the address: the stored document (the one the portal shows) is as issued.
        stored = StoredDocument.objects.get(invoice=invoice, format="ubl")
        assert b"003723327487" in bytes(stored.content)
        assert validate_ubl(xml).valid

    def test_a_new_operator_rewrites_the_envelope(self, catalog: None, tmp_path: Path) -> None:
        org = finnish_customer()
        invoice = issue_for(org).invoice
        send_delivery(delivery_id=invoice_delivery(invoice).pk, now=NOW)
        set_billing(
            org,
            e_invoicing={
                "enabled": True,
                "address": "003723327487",
                "operator_code": "NDEAFIHH",
            },
        )
        resend = resend_document(organization=org, invoice_id=invoice.pk, actor=VENDOR, now=NOW)
        send_delivery(delivery_id=resend.pk, now=NOW)
        resend.refresh_from_db()
        assert resend.destination == "003723327487 via NDEAFIHH (outbox)"
        envelope = json.loads((tmp_path / "outbox" / f"{invoice.pk}.json").read_text())
        assert envelope["receiver"]["operator"] == "NDEAFIHH"


class TestValidationBeforeSending:
    @requires_rules
    def test_invalid_einvoice_is_not_sent_and_is_marked_failed(
        self, catalog: None, tmp_path: Path
    ) -> None:
        # A US customer whose e-invoice address is a bank account: there is no Peppol
        # endpoint for the buyer, so the document fails PEPPOL-EN16931-R010.
        org = make_organization(
            name="Example Inc",
            vat_number="12-3456789",
            country="US",
            admin_email="ap@example.com",
        )
        set_billing(
            org,
            address={
                "street": "1 Main St",
                "postal_code": "10001",
                "city": "New York",
                "country": "US",
            },
            invoice_language="en",
            e_invoicing={
                "enabled": True,
                "address": "FI2112345600000785",
                "operator_code": "NDEAFIHH",
            },
        )
        invoice = issue_for(org).invoice
        sends: list[Outgoing] = []
        result = send_delivery(
            delivery_id=invoice_delivery(invoice).pk, now=NOW, sender=sends.append
        )
        assert (result.status, sends) == ("failed", [])
        assert not (tmp_path / "outbox").exists()
        delivery = invoice_delivery(invoice)
        assert delivery.status == "failed"
        assert "PEPPOL-EN16931-R010" in delivery.findings
        assert delivery.last_error.startswith("the e-invoice fails the official rules:")
        entry = HistoryEntry.objects.get(organization=org, action="einvoice_validation_failed")
        assert (entry.subject, entry.after["channel"]) == ("Invoice 1", "einvoice")
        assert "PEPPOL-EN16931-R010" in entry.after["rule_ids"]
        stored = StoredDocument.objects.get(invoice=invoice, format="ubl")
        assert stored.valid is False

    def test_without_the_rules_nothing_is_sent_unvalidated(
        self, catalog: None, tmp_path: Path
    ) -> None:
        invoice = issue_for(finnish_customer()).invoice
        with override_settings(EINVOICE_RULES_DIR=tmp_path / "missing"):
            result = send_delivery(delivery_id=invoice_delivery(invoice).pk, now=NOW)
        assert result.status == "failed"
        delivery = invoice_delivery(invoice)
        assert delivery.findings == ["RULES"]
        assert "rules folder" in delivery.last_error
        assert not (tmp_path / "outbox").exists()


class TestRetries:
    def test_transport_failures_are_retried_with_backoff_then_fail(self, catalog: None) -> None:
        invoice = issue_for(finnish_customer(einvoicing=False)).invoice
        delivery = invoice_delivery(invoice)

        def refuse(outgoing: Outgoing) -> str:
            raise ConnectionRefusedError("smtp down")

        with override_settings(DELIVERY_MAX_ATTEMPTS=3, DELIVERY_RETRY_BASE_SECONDS=60):
            assert [retry_delay(n) for n in (1, 2, 3)] == [
                timedelta(seconds=60),
                timedelta(seconds=120),
                timedelta(seconds=240),
            ]
            statuses = []
            for _ in range(3):
                result = send_delivery(delivery_id=delivery.pk, now=NOW, sender=refuse)
                statuses.append(result.status)
                Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=None)
        assert statuses == ["pending", "pending", "failed"]
        delivery.refresh_from_db()
        assert (delivery.status, delivery.attempts, delivery.last_error) == (
            "failed",
            3,
            "ConnectionRefusedError: smtp down",
        )
        assert HistoryEntry.objects.filter(action="delivery_failed").count() == 1

    def test_not_due_yet_is_left_alone(self, catalog: None) -> None:
        invoice = issue_for(finnish_customer(einvoicing=False)).invoice
        delivery = invoice_delivery(invoice)
        Delivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=clock.real_now() + timedelta(minutes=5)
        )
        assert send_delivery(delivery_id=delivery.pk, now=NOW).status == "pending"
        assert mail.outbox == []

    def test_retry_on_demand_sends_a_failed_delivery(self, catalog: None) -> None:
        org = finnish_customer(einvoicing=False)
        invoice = issue_for(org).invoice
        delivery = invoice_delivery(invoice)
        with pytest.raises(DeliveryNotFailed):
            retry_delivery(delivery_id=delivery.pk, actor=VENDOR, now=NOW)
        Delivery.objects.filter(pk=delivery.pk).update(status="failed", attempts=8)
        retried = retry_delivery(delivery_id=delivery.pk, actor=admin_of(org), now=NOW)
        assert (retried.status, retried.attempts) == ("pending", 0)
        assert HistoryEntry.objects.filter(action="delivery_retry_requested").count() == 1
        assert send_delivery(delivery_id=delivery.pk, now=NOW).status == "sent"
        assert len(mail.outbox) == 1


class TestResend:
    def test_resend_makes_a_new_delivery(self, catalog: None) -> None:
        org = finnish_customer(einvoicing=False)
        documents = issue_for(org)
        resend = resend_document(
            organization=org,
            order_id=documents.confirmation.order_id,
            actor=admin_of(org),
            now=NOW,
        )
        assert (resend.automatic, resend.channel, resend.status) == (False, "email", "pending")
        send_delivery(delivery_id=resend.pk, now=NOW)
        (message,) = mail.outbox
        assert message.subject == "Tilausvahvistus 1 – Abonnement Demo Oy"
        entry = HistoryEntry.objects.get(action="document_resend_requested")
        assert (entry.actor_type, entry.channel) == ("user", "portal")

    def test_another_organisations_document_is_not_found(self, catalog: None) -> None:
        org = finnish_customer(einvoicing=False)
        invoice = issue_for(org).invoice
        other = make_organization(name="Muu Oy", admin_email="muu@muu.example")
        with pytest.raises(NotFound):
            resend_document(
                organization=other, invoice_id=invoice.pk, actor=admin_of(other), now=NOW
            )
        assert Delivery.objects.filter(automatic=False).count() == 0
