"""PDFs: the words and figures a finance team reads, in the invoice language."""

from __future__ import annotations

import io
from dataclasses import replace
from typing import Any

import pytest
from pypdf import PdfReader

from abonnement.invoicing.documents import KIND_CREDIT_NOTE, Snapshot
from abonnement.invoicing.pdf import pdf_filename, render_pdf
from abonnement.invoicing.services import credit_invoice, issue_invoice_for_order
from abonnement.orders.models import Order
from tests.conftest import NOW, VENDOR
from tests.invoicing.conftest import dutch_customer, finnish_customer, norwegian_customer

pytestmark = pytest.mark.django_db


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return " ".join(text.replace("\xa0", " ").split())


def documents_of(org: Any) -> Any:
    return issue_invoice_for_order(order_id=Order.objects.get(organization=org).pk, now=NOW)


def test_dutch_reverse_charge_invoice(catalog: None) -> None:
    snapshot = Snapshot.from_json(documents_of(dutch_customer()).invoice.snapshot)
    text = text_of(render_pdf(snapshot))
    for expected in (
        "Factuur",
        "Factuurnummer 1",
        "Vervaldatum 29 jan 2027",
        "Betalingskenmerk RF34 1012",
        "Uw referentie PO-4711",
        "Voorbeeld B.V.",
        "Btw-nummer NL004495445B01",
        "Gebruikerslicenties, Basic × 5 × 12 maanden",
        "Totaal excl. btw € 600,00",
        "Btw 0 % (AE) € 0,00",
        "Te betalen € 600,00",
        "Btw verlegd: de afnemer voldoet de btw",
    ):
        assert expected in text, expected


def test_english_outside_eu_invoice(catalog: None) -> None:
    snapshot = Snapshot.from_json(documents_of(norwegian_customer()).invoice.snapshot)
    text = text_of(render_pdf(snapshot))
    for expected in (
        "Invoice number 1",
        "Due date 29 Jan 2027",
        "Total due €105.00",
        "Not subject to VAT in the EU",
        # Article 226(3): the seller's VAT number is on every invoice, in the EU's scope or not.
        "VAT number FI23456780",
        "VAT number NO987654325MVA",
    ):
        assert expected in text, expected


def test_confirmation_and_credit_note(catalog: None) -> None:
    documents = documents_of(finnish_customer())
    confirmation = Snapshot.from_json(documents.confirmation.snapshot)
    text = text_of(render_pdf(confirmation))
    assert "Tilausvahvistus" in text and "Tilausnumero 1" in text
    assert "Eräpäivä" not in text
    assert "Kiitos tilauksestanne." in text
    assert pdf_filename(confirmation) == "order-confirmation-1.pdf"

    note = credit_invoice(invoice_id=documents.invoice.pk, reason="Virhe", actor=VENDOR, now=NOW)
    snapshot = Snapshot.from_json(note.snapshot)
    assert snapshot.kind == KIND_CREDIT_NOTE
    text = text_of(render_pdf(snapshot))
    for expected in (
        "Hyvityslasku",
        "Hyvittää laskun 1",
        "Hyvitys yhteensä -1 506,00 €",
        "Syy: Virhe",
    ):
        assert expected in text, expected
    assert pdf_filename(snapshot) == "credit-note-2.pdf"


def test_rendering_is_a_pure_function_of_the_snapshot(catalog: None) -> None:
    snapshot = Snapshot.from_json(documents_of(finnish_customer()).invoice.snapshot)
    assert render_pdf(snapshot) == render_pdf(Snapshot.from_json(snapshot.to_json()))


def test_long_invoices_continue_on_further_pages(catalog: None) -> None:
    snapshot = Snapshot.from_json(documents_of(finnish_customer()).invoice.snapshot)
    (line,) = snapshot.lines
    many = replace(snapshot, lines=tuple(replace(line, position=i) for i in range(1, 61)))
    reader = PdfReader(io.BytesIO(render_pdf(many)))
    assert len(reader.pages) >= 2
    assert "Sivu 2" in reader.pages[1].extract_text()


def test_a_pro_rata_line_shows_the_calculation_the_reader_can_redo(catalog: None) -> None:
    from abonnement.subscriptions.services import set_license_count
    from tests.conftest import admin_of

    org = finnish_customer()
    set_license_count(organization=org, licenses=12, actor=admin_of(org), now=NOW)
    order = Order.objects.get(organization=org, kind="licenses")
    snapshot = Snapshot.from_json(
        issue_invoice_for_order(order_id=order.pk, now=NOW).invoice.snapshot
    )
    text = text_of(render_pdf(snapshot))
    # Rule 3: 2 × 20.00 × 6 months × 167/181 days = 221.44.
    assert (
        "2 20,00 25,5 221,44 € Käyttäjälisenssit, Pro × 2 "
        "15.1.2027 – 30.6.2027: 2 × 20,00 € × 6 kk × 167/181 päivää"
    ) in text
    assert "2027-01-15" not in text


def test_a_credit_notes_zero_amounts_carry_no_minus_sign(catalog: None) -> None:
    invoice = documents_of(dutch_customer()).invoice
    note = credit_invoice(invoice_id=invoice.pk, reason="Dubbel", actor=VENDOR, now=NOW)
    text = text_of(render_pdf(Snapshot.from_json(note.snapshot)))
    assert "Btw 0 % (AE) € 0,00" in text
    assert "-0,00" not in text
    assert "€ -600,00" in text


def placed_text(content: bytes) -> list[tuple[float, float, float, str]]:
    """Every string drawn on the first page: (left x, right x, y, text)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    runs: list[tuple[float, float, float, str]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        body = text.strip()
        if body:
            name = "Helvetica-Bold" if "Bold" in str(font.get("/BaseFont")) else "Helvetica"
            # pypdf may put a space of its own before a run; the run itself starts at tm's x.
            x = tm[4]
            runs.append((x, x + stringWidth(body, name, size), tm[5], body))

    PdfReader(io.BytesIO(content)).pages[0].extract_text(visitor_text=visit)
    return runs


def test_long_buyer_texts_are_wrapped_inside_the_page_and_clear_of_their_labels(
    catalog: None,
) -> None:
    from abonnement.invoicing.pdf import META_LEFT, RIGHT

    snapshot = Snapshot.from_json(documents_of(dutch_customer()).invoice.snapshot)
    reference = "PO 4500012345 / Cost centre 410 / Attn. Sari Heikkinen, Finance " + "x" * 60
    street = "Keizersgracht 1 " + "very long street name " * 6
    snapshot = replace(
        snapshot,
        buyer_reference=reference,
        buyer=replace(snapshot.buyer, name="Voorbeeld " * 25 + "B.V.", street=street),
    )
    content = render_pdf(snapshot)
    runs = placed_text(content)
    assert max(right for _left, right, _y, _text in runs) <= RIGHT + 0.01
    labels = [run for run in runs if abs(run[0] - META_LEFT) < 0.01]
    reference_label = next(run for run in labels if run[3] == "Uw referentie")
    next_label = next(run for run in labels if run[2] < reference_label[2])
    # The reference's rows lie between its label and the next one, right of every label.
    rows = [run for run in runs if next_label[2] < run[2] <= reference_label[2]]
    rows = [run for run in rows if run is not reference_label]
    assert [text for _left, _right, _y, text in rows] == [
        "PO 4500012345 / Cost centre 410 /",
        "Attn. Sari Heikkinen, Finance",
        "x" * 31,  # a word wider than the column is cut where the column ends
        "x" * 29,
    ]
    assert min(left for left, _right, _y, _text in rows) > max(run[1] for run in labels)
    # Nothing is lost: the reference, the street and the name are all there.
    text = "".join(text_of(content).split())
    for whole in (reference, street, "Voorbeeld " * 25 + "B.V."):
        assert "".join(whole.split()) in text, whole
