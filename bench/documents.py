"""Documents benchmark: UBL and PDF invoices per second on one core, against a baseline.

    python bench/documents.py [--n 2000] [--validate 200]

It builds N varied invoice snapshots in memory (domestic, reverse charge and outside-EU;
one to five lines; renewals and pro rata purchases; en/nl/fi), pins itself to one CPU, and
measures in the same run:

- baseline: serialising one prebuilt lxml tree of the same size N times (what lxml costs
  with no document logic at all);
- UBL: building and serialising each invoice's Peppol BIS 3.0 document;
- UBL + validation: the same plus XSD + CEN + Peppol rules (saxonche) on a sample, after
  the one-off compilation of the stylesheets (reported separately);
- PDF: rendering each invoice with ReportLab.

No database is touched: the renderers are pure functions of the snapshot. Targets (issue
5): UBL at least 1,000 invoices/s/core, PDF at least 100/s/core.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def _setup() -> None:
    os.environ.setdefault("ABONNEMENT_DATA_DIR", tempfile.mkdtemp(prefix="abonnement-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "abonnement.config.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def _snapshots(n: int, seed: int = 5) -> list[Any]:
    from abonnement.core.money import quantize
    from abonnement.invoicing.documents import (
        KIND_INVOICE,
        Line,
        Party,
        Snapshot,
        VatLine,
        vat_notes,
    )
    from abonnement.invoicing.reference import payment_reference
    from abonnement.invoicing.vat import VatTreatment, compute_totals

    rng = random.Random(seed)
    seller = Party(
        "Abonnement Demo Oy", "FI23456780", "Mannerheimintie 1", "00100", "Helsinki", "FI",
        "0216", "003723456780", "2345678-0", "", "billing@abonnement.example",
    )  # fmt: skip
    buyers = [
        (Party("Asiakas Oy", "FI23327487", "Asiakaskatu 5", "00510", "Helsinki", "FI",
               "0216", "003723327487", "", "Tiina Talous", "talous@asiakas.example"),
         VatTreatment("S", Decimal("25.5")), "fi"),
        (Party("Voorbeeld B.V.", "NL004495445B01", "Keizersgracht 1", "1015 CJ", "Amsterdam",
               "NL", "0106", "12345678", "", "Femke", "finance@voorbeeld.example"),
         VatTreatment("AE", Decimal("0"), "VATEX-EU-AE"), "nl"),
        (Party("Nordmann AS", "", "Karl Johans gate 1", "0154", "Oslo", "NO", "0192",
               "987654325", "", "Ola", "okonomi@nordmann.example"),
         VatTreatment("O", Decimal("0"), "VATEX-EU-O"), "en"),
    ]  # fmt: skip
    start, end = date(2027, 1, 1), date(2027, 6, 30)
    period_days = (end - start).days + 1
    snapshots = []
    for number in range(1, n + 1):
        buyer, treatment, language = rng.choice(buyers)
        lines = []
        for position in range(1, rng.randint(1, 5) + 1):
            quantity = rng.randint(1, 500)
            price = Decimal(rng.randint(100, 5000)) / 100
            if rng.random() < 0.4:
                days = rng.randint(1, period_days)
                amount = quantize(quantity * price * 6 * days / period_days)
                line_start = end - timedelta(days=days - 1)
                ubl = (Decimal(quantity * days), "DAY", price * 6, Decimal(period_days))
                text = f"User licences, Pro × {quantity} ({days}/{period_days} days)"
                q, d, pd = Decimal(quantity), days, period_days
            else:
                amount = quantize(quantity * 6 * price)
                line_start = start
                ubl = (Decimal(quantity * 6), "MON", price, None)
                text = f"User licences, Pro × {quantity} × 6 months"
                q, d, pd = Decimal(quantity * 6), None, None
            lines.append(
                Line(position, "license:pro", text, q, price, amount, line_start, end, d, pd,
                     treatment.category, treatment.rate, *ubl)
            )  # fmt: skip
        totals = compute_totals((line.amount, treatment) for line in lines)
        vat = tuple(
            VatLine(s.category, s.rate, s.taxable, s.tax, s.exemption_code)
            for s in totals.subtotals
        )
        reference = payment_reference(number, buyer_country=buyer.country)
        snapshots.append(
            Snapshot(
                kind=KIND_INVOICE, number=str(number), issue_date=date(2027, 1, 15),
                due_date=date(2027, 1, 29), currency="EUR", language=language,
                seller=seller if treatment.category != "O" else Party(**{
                    **seller.__dict__, "vat_number": ""}),
                seller_iban="FI2112345600000785", seller_bic="NDEAFIHH", buyer=buyer,
                buyer_reference="PO-4711" if rng.random() < 0.5 else "",
                order_number=str(number), payment_reference=reference,
                period_start=start, period_end=end, lines=tuple(lines), vat=vat,
                net_total=totals.net, vat_total=totals.vat, total=totals.total,
                notes=vat_notes(treatment, language),
            )
        )  # fmt: skip
    return snapshots


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="invoices to render")
    parser.add_argument("--validate", type=int, default=200, help="invoices to validate")
    args = parser.parse_args()

    cpu = sorted(os.sched_getaffinity(0))[0] if hasattr(os, "sched_getaffinity") else None
    if cpu is not None:
        os.sched_setaffinity(0, {cpu})
    _setup()
    from lxml import etree

    from abonnement.invoicing.pdf import render_pdf
    from abonnement.invoicing.ubl import build_tree, render_ubl, serialise
    from abonnement.invoicing.validation import get_validator, rules_missing_reason

    snapshots = _snapshots(args.n)
    prebuilt = build_tree(snapshots[0])
    elements = sum(1 for _ in prebuilt.iter())

    started = time.perf_counter()
    for _ in snapshots:
        serialise(prebuilt)
    baseline = _rate(len(snapshots), time.perf_counter() - started)

    started = time.perf_counter()
    documents = [render_ubl(s) for s in snapshots]
    ubl = _rate(len(snapshots), time.perf_counter() - started)
    average_elements = sum(len(etree.fromstring(d).xpath("//*")) for d in documents[:200]) / min(
        200, len(documents)
    )

    validated: str
    compile_seconds = 0.0
    reason = rules_missing_reason()
    if reason is None:
        started = time.perf_counter()
        validator = get_validator()
        compile_seconds = time.perf_counter() - started
        sample = documents[: args.validate]
        started = time.perf_counter()
        fatal = 0
        for document in sample:
            fatal += len(validator.validate(document).fatal)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        for snapshot in snapshots[: args.validate]:
            validator.validate(render_ubl(snapshot))
        both = _rate(len(sample), time.perf_counter() - started)
        validated = (
            f"{_rate(len(sample), seconds):,.0f}/s validation only, {both:,.0f}/s rendered and "
            f"validated ({len(sample)} invoices, {fatal} fatal findings; stylesheets compiled "
            f"once in {compile_seconds:.2f} s)"
        )
    else:
        validated = f"skipped: {reason}"

    pdf_count = min(len(snapshots), max(200, args.n // 4))
    started = time.perf_counter()
    sizes = 0
    for snapshot in snapshots[:pdf_count]:
        sizes += len(render_pdf(snapshot))
    pdf = _rate(pdf_count, time.perf_counter() - started)

    print(f"machine: {platform.machine()}, Python {platform.python_version()}, CPU {cpu}")
    print(f"invoices: {len(snapshots)} (UBL of ~{average_elements:.0f} elements; baseline tree "
          f"{elements} elements)")  # fmt: skip
    print(f"baseline (serialise a prebuilt lxml tree): {baseline:,.0f}/s")
    print(f"UBL (build + serialise):                   {ubl:,.0f}/s  "
          f"({ubl / baseline:.0%} of baseline; target 1,000/s)")  # fmt: skip
    print(f"UBL validation (XSD + CEN + Peppol):       {validated}")
    size = sizes / pdf_count / 1024
    print(f"PDF (ReportLab):                           {pdf:,.0f}/s  "
          f"({pdf_count} invoices, {size:.1f} KiB each; target 100/s)")  # fmt: skip


if __name__ == "__main__":
    main()
