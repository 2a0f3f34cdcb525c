"""PDF of an order confirmation, invoice or credit note (ReportLab), in the document's
language.

A pure function of the snapshot: ``render_pdf(snapshot) -> bytes``. ReportLab's invariant
mode leaves out creation dates and random document ids, so the same snapshot always gives
the same bytes. Built-in Helvetica covers €, ä, ö, å and ×; no font files are needed.
"""

from __future__ import annotations

import io
import re
from decimal import Decimal

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from abonnement.invoicing import texts
from abonnement.invoicing.documents import (
    KIND_CONFIRMATION,
    KIND_CREDIT_NOTE,
    Line,
    Party,
    Snapshot,
)
from abonnement.invoicing.reference import grouped

PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT = 20 * mm
RIGHT = PAGE_WIDTH - 20 * mm
TOP = PAGE_HEIGHT - 20 * mm
BOTTOM = 28 * mm
FONT = "Helvetica"
BOLD = "Helvetica-Bold"

# Column right edges (numbers are right-aligned), and the description's width.
COL_QUANTITY = LEFT + 108 * mm
COL_PRICE = LEFT + 132 * mm
COL_VAT = LEFT + 146 * mm
COL_AMOUNT = RIGHT
DESCRIPTION_WIDTH = 84 * mm
# The label-and-value block at the top right, and the seller's block beside it.
META_WIDTH = 85 * mm
META_LEFT = RIGHT - META_WIDTH
SELLER_WIDTH = META_LEFT - LEFT - 6 * mm

# The end of a pro rata line's stored description, in any language: ", 2027-01-15–2027-06-30
# (167/181 days)". The PDF states the period and the days on a line of their own.
_PRO_RATA_TAIL = re.compile(r", \d{4}-\d{2}-\d{2}–\d{4}-\d{2}-\d{2} \(\d+/\d+ [^)]*\)$")


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` in rows no wider than ``width``: broken at spaces where it can be, inside a
    word only where the word alone is wider (a reference or a street typed without spaces)."""
    rows: list[str] = []
    for row in simpleSplit(text, font, size, width) or [""]:
        while stringWidth(row, font, size) > width and len(row) > 1:
            cut = len(row) - 1
            while cut > 1 and stringWidth(row[:cut], font, size) > width:
                cut -= 1
            rows.append(row[:cut])
            row = row[cut:]
        rows.append(row)
    return rows


def _title_key(snapshot: Snapshot) -> str:
    return snapshot.kind


def _party_lines(party: Party, language: str, *, with_ids: bool) -> list[str]:
    lines = [party.street, " ".join(p for p in (party.postal_code, party.city) if p)]
    lines.append(party.country)
    if with_ids and party.vat_number:
        lines.append(f"{texts.text(language, 'vat_number')} {party.vat_number}")
    if with_ids and party.business_id:
        lines.append(f"{texts.text(language, 'business_id')} {party.business_id}")
    return [line for line in lines if line]


class _Writer:
    def __init__(self, snapshot: Snapshot) -> None:
        self.snapshot = snapshot
        self.language = snapshot.language
        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=A4, invariant=1, pageCompression=1)
        title = texts.text(self.language, _title_key(snapshot))
        self.canvas.setTitle(f"{title} {snapshot.number}")
        self.canvas.setAuthor(snapshot.seller.name)
        self.page = 1
        self.sign = Decimal(-1) if snapshot.kind == KIND_CREDIT_NOTE else Decimal(1)

    def t(self, key: str) -> str:
        return texts.text(self.language, key)

    def money(self, amount: Decimal) -> str:
        # A credit note shows its amounts negative; zero stays zero (not "-0,00").
        signed = amount * self.sign if amount else Decimal(0)
        return texts.money(signed, self.snapshot.currency, self.language)

    def text(self, x: float, y: float, value: str, *, font: str = FONT, size: float = 9) -> None:
        self.canvas.setFont(font, size)
        self.canvas.drawString(x, y, value)

    def right(self, x: float, y: float, value: str, *, font: str = FONT, size: float = 9) -> None:
        self.canvas.setFont(font, size)
        self.canvas.drawRightString(x, y, value)

    def footer(self) -> None:
        snapshot = self.snapshot
        parts = [snapshot.seller.name]
        if snapshot.seller_iban:
            parts.append(f"{self.t('bank')} {snapshot.seller_iban}")
        if snapshot.seller_bic:
            parts.append(f"{self.t('bic')} {snapshot.seller_bic}")
        self.canvas.setLineWidth(0.5)
        self.canvas.line(LEFT, BOTTOM - 6 * mm, RIGHT, BOTTOM - 6 * mm)
        self.text(LEFT, BOTTOM - 11 * mm, " · ".join(parts), size=8)
        self.right(RIGHT, BOTTOM - 11 * mm, f"{self.t('page')} {self.page}", size=8)

    def new_page(self) -> float:
        self.footer()
        self.canvas.showPage()
        self.page += 1
        return self.table_header(TOP)

    def rows(
        self, x: float, y: float, value: str, width: float, *, font: str = FONT, size: float = 9
    ) -> float:
        """``value`` wrapped to ``width`` from ``y`` down; returns the last row's ``y``."""
        for index, row in enumerate(wrap(value, font, size, width)):
            if index:
                y -= size + 3
            self.text(x, y, row, font=font, size=size)
        return y

    def header(self) -> float:
        snapshot = self.snapshot
        seller = snapshot.seller
        title = self.t(_title_key(snapshot))
        self.right(RIGHT, TOP, title, font=BOLD, size=18)
        # The seller's name stays left of the title; its block, left of the labels below.
        name_width = RIGHT - stringWidth(title, BOLD, 18) - LEFT - 6 * mm
        y = self.rows(LEFT, TOP, seller.name, min(name_width, SELLER_WIDTH), font=BOLD, size=12)
        for line in _party_lines(seller, self.language, with_ids=True):
            y = self.rows(LEFT, y - 12, line, SELLER_WIDTH)

        meta: list[tuple[str, str]] = []
        if snapshot.kind == KIND_CONFIRMATION:
            meta.append((self.t("order_number"), snapshot.number))
        else:
            key = "credit_note_number" if snapshot.kind == KIND_CREDIT_NOTE else "invoice_number"
            meta.append((self.t(key), snapshot.number))
        meta.append((self.t("issue_date"), texts.day(snapshot.issue_date, self.language)))
        if snapshot.kind == KIND_CREDIT_NOTE:
            meta.append((self.t("credits_invoice"), snapshot.credited_number))
        elif snapshot.kind != KIND_CONFIRMATION and snapshot.due_date is not None:
            meta.append((self.t("due_date"), texts.day(snapshot.due_date, self.language)))
            meta.append((self.t("payment_reference"), grouped(snapshot.payment_reference)))
        if snapshot.kind != KIND_CONFIRMATION:
            meta.append((self.t("order_number"), snapshot.order_number))
        if snapshot.buyer_reference:
            meta.append((self.t("your_reference"), snapshot.buyer_reference))
        period = (
            f"{texts.day(snapshot.period_start, self.language)} – "
            f"{texts.day(snapshot.period_end, self.language)}"
        )
        meta.append((self.t("period"), period))
        # Values are right-aligned, wrapped where they would run into their label (a long
        # reference of the buyer's).
        label_width = max(stringWidth(label, FONT, 9) for label, _value in meta)
        value_width = META_WIDTH - label_width - 4 * mm
        my = TOP - 26
        for label, value in meta:
            self.text(META_LEFT, my, label, size=9)
            for index, row in enumerate(wrap(value, BOLD, 9, value_width)):
                if index:
                    my -= 11
                self.right(RIGHT, my, row, font=BOLD, size=9)
            my -= 12

        y = min(y, my) - 18
        self.text(LEFT, y, self.t("buyer"), font=BOLD, size=8)
        y = self.rows(LEFT, y - 13, snapshot.buyer.name, RIGHT - LEFT, font=BOLD, size=10)
        for line in _party_lines(snapshot.buyer, self.language, with_ids=True):
            y = self.rows(LEFT, y - 12, line, RIGHT - LEFT)
        return self.table_header(y - 26)

    def table_header(self, y: float) -> float:
        self.text(LEFT, y, self.t("description"), font=BOLD, size=8)
        self.right(COL_QUANTITY, y, self.t("quantity"), font=BOLD, size=8)
        self.right(COL_PRICE, y, self.t("unit_price"), font=BOLD, size=8)
        self.right(COL_VAT, y, self.t("vat_rate"), font=BOLD, size=8)
        self.right(COL_AMOUNT, y, self.t("amount"), font=BOLD, size=8)
        self.canvas.setLineWidth(0.5)
        self.canvas.line(LEFT, y - 4, RIGHT, y - 4)
        return y - 16

    def lines(self, y: float) -> float:
        snapshot = self.snapshot
        for line in snapshot.lines:
            extra = []
            text = line.description
            if line.days is not None and line.period_days:
                # The period and its days get a line of their own, with the calculation.
                text = _PRO_RATA_TAIL.sub("", text)
                extra.append(
                    f"{texts.day(line.period_start, self.language)} – "
                    f"{texts.day(line.period_end, self.language)}: {self.pro_rata(line)}"
                )
            description = wrap(text, FONT, 9, DESCRIPTION_WIDTH)
            needed = 12 * (len(description) + len(extra)) + 4
            if y - needed < BOTTOM:
                y = self.new_page()
            self.right(COL_QUANTITY, y, texts.quantity(line.quantity, self.language))
            self.right(COL_PRICE, y, texts.number(line.unit_price, self.language))
            self.right(COL_VAT, y, texts.quantity(line.vat_rate, self.language))
            self.right(COL_AMOUNT, y, self.money(line.amount))
            for row in description:
                self.text(LEFT, y, row)
                y -= 12
            for row in extra:
                self.text(LEFT, y, row, size=8)
                y -= 12
            y -= 4
        return y

    def pro_rata(self, line: Line) -> str:
        """Rule 3 as the reader can redo it: "2 × 19,00 € × 6 kk × 108/181 päivää"."""
        days = f"{line.days}/{line.period_days} {self.t('days')}"
        months = line.ubl_price / line.unit_price if line.unit_price else Decimal(0)
        if line.ubl_unit != "DAY" or months != months.to_integral_value() or months < 1:
            return days  # not Rule 3's formula (a hand-made line): its days only
        one, many = texts.MONTH_WORDS[texts.language_of(self.language)]
        return (
            f"{texts.quantity(line.quantity, self.language)} × {self.money(line.unit_price)} × "
            f"{int(months)} {one if months == 1 else many} × {days}"
        )

    def totals(self, y: float) -> float:
        snapshot = self.snapshot
        rows = 2 + len(snapshot.vat)
        if y - 14 * rows - 10 < BOTTOM:
            y = self.new_page()
        self.canvas.setLineWidth(0.5)
        self.canvas.line(COL_PRICE - 40 * mm, y + 6, RIGHT, y + 6)
        y -= 8
        label_x = COL_PRICE - 40 * mm
        self.text(label_x, y, self.t("net_total"))
        self.right(RIGHT, y, self.money(snapshot.net_total))
        for vat in snapshot.vat:
            y -= 14
            rate = texts.percent(vat.rate, self.language)
            self.text(label_x, y, f"{self.t('vat')} {rate} ({vat.category})")
            self.right(RIGHT, y, self.money(vat.tax))
        y -= 16
        if snapshot.kind == KIND_CREDIT_NOTE:
            key = "credited_total"
        elif snapshot.kind == KIND_CONFIRMATION:
            key = "total"
        else:
            key = "total_due"
        self.text(label_x, y, self.t(key), font=BOLD, size=11)
        self.right(RIGHT, y, self.money(snapshot.total), font=BOLD, size=11)
        return y - 24

    def notes(self, y: float) -> float:
        snapshot = self.snapshot
        paragraphs = [n for n in snapshot.notes if n]
        if snapshot.reason:
            paragraphs.append(f"{self.t('reason')}: {snapshot.reason}")
        for paragraph in paragraphs:
            rows = wrap(paragraph, FONT, 9, RIGHT - LEFT)
            if y - 12 * len(rows) < BOTTOM:
                y = self.new_page()
            for row in rows:
                self.text(LEFT, y, row)
                y -= 12
            y -= 4
        return y

    def render(self) -> bytes:
        y = self.header()
        y = self.lines(y)
        y = self.totals(y)
        self.notes(y)
        self.footer()
        self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()


def render_pdf(snapshot: Snapshot) -> bytes:
    return _Writer(snapshot).render()


def pdf_filename(snapshot: Snapshot) -> str:
    prefix = {
        KIND_CONFIRMATION: "order-confirmation",
        KIND_CREDIT_NOTE: "credit-note",
    }.get(snapshot.kind, "invoice")
    return f"{prefix}-{snapshot.number}.pdf"
