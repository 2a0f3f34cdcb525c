"""Peppol BIS 3.0 UBL: reviewed golden files, the official rules, and broken documents.

Set ``UPDATE_GOLDEN=1`` to rewrite the golden files after a reviewed change of the output.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from abonnement.invoicing.documents import Snapshot
from abonnement.invoicing.services import credit_invoice, issue_invoice_for_order
from abonnement.invoicing.ubl import CAC, CBC, render_ubl
from abonnement.invoicing.validation import get_validator, rules_dir, validate_ubl
from abonnement.orders.models import Order
from abonnement.subscriptions.services import set_license_count
from tests.conftest import NOW, VENDOR, admin_of, make_organization
from tests.invoicing.conftest import (
    dutch_customer,
    finnish_customer,
    norwegian_customer,
    requires_rules,
)

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden"
NS = {"cac": CAC, "cbc": CBC}


def first_invoice(org: Any) -> Any:
    order = Order.objects.filter(organization=org).order_by("number").last()
    return issue_invoice_for_order(order_id=order.pk, now=NOW).invoice


def domestic() -> Any:
    return first_invoice(finnish_customer())


def reverse_charge() -> Any:
    return first_invoice(dutch_customer())


def outside_eu() -> Any:
    return first_invoice(norwegian_customer())


def pro_rata() -> Any:
    org = finnish_customer()
    set_license_count(organization=org, licenses=12, actor=admin_of(org), now=NOW)
    return first_invoice(org)


def credit_note() -> Any:
    invoice = domestic()
    return credit_invoice(invoice_id=invoice.pk, reason="Ordered by mistake", actor=VENDOR, now=NOW)


CASES: dict[str, Callable[[], Any]] = {
    "domestic-fi": domestic,
    "reverse-charge-nl": reverse_charge,
    "outside-eu-no": outside_eu,
    "pro-rata-licences": pro_rata,
    "credit-note": credit_note,
}


def ubl_of(invoice: Any) -> bytes:
    return render_ubl(Snapshot.from_json(invoice.snapshot))


@pytest.mark.parametrize("name", list(CASES))
def test_ubl_matches_the_reviewed_golden_file(catalog: None, name: str) -> None:
    document = ubl_of(CASES[name]())
    path = GOLDEN / f"{name}.xml"
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_bytes(document)
    assert document.decode() == path.read_text(encoding="utf-8")


@requires_rules
@pytest.mark.parametrize("name", list(CASES))
def test_golden_file_is_valid_under_xsd_cen_and_peppol_rules(name: str) -> None:
    report = validate_ubl((GOLDEN / f"{name}.xml").read_bytes())
    assert report.fatal == ()
    assert report.valid


class TestGoldenContent:
    """The facts a reviewer checks in each golden file, asserted so a regeneration that
    changes them fails loudly."""

    def read(self, name: str) -> Any:
        return etree.parse(str(GOLDEN / f"{name}.xml"))

    def text(self, tree: Any, path: str) -> list[str]:
        return [e.text for e in tree.xpath(path, namespaces=NS)]

    def test_domestic_finnish_invoice(self) -> None:
        tree = self.read("domestic-fi")
        assert self.text(tree, "/*/cbc:ID") == ["1"]
        assert self.text(tree, "//cac:TaxSubtotal/cac:TaxCategory/cbc:ID") == ["S"]
        assert self.text(tree, "//cac:TaxSubtotal/cac:TaxCategory/cbc:Percent") == ["25.5"]
        assert self.text(tree, "//cac:LegalMonetaryTotal/cbc:PayableAmount") == ["1506.00"]
        assert self.text(tree, "//cac:TaxTotal/cbc:TaxAmount") == ["306.00"]
        # Rule 1: 10 licences × 6 months = 60 licence-months.
        assert self.text(tree, "//cac:InvoiceLine/cbc:InvoicedQuantity") == ["60"]
        buyer = tree.xpath("//cac:AccountingCustomerParty//cbc:EndpointID", namespaces=NS)[0]
        assert (buyer.get("schemeID"), buyer.text) == ("0216", "003723327487")
        seller = tree.xpath("//cac:AccountingSupplierParty//cbc:EndpointID", namespaces=NS)[0]
        assert (seller.get("schemeID"), seller.text) == ("0216", "003723456780")
        # No buyer reference given: the order number is the order reference (R003).
        assert self.text(tree, "//cac:OrderReference/cbc:ID") == ["1"]
        assert self.text(tree, "//cac:PaymentMeans/cbc:PaymentID") == ["1012"]
        assert self.text(tree, "//cac:PayeeFinancialAccount/cbc:ID") == ["FI2112345600000785"]

    def test_reverse_charge_invoice(self) -> None:
        tree = self.read("reverse-charge-nl")
        assert self.text(tree, "//cac:TaxSubtotal/cac:TaxCategory/cbc:ID") == ["AE"]
        assert self.text(tree, "//cbc:TaxExemptionReasonCode") == ["VATEX-EU-AE"]
        assert self.text(tree, "//cac:TaxTotal/cbc:TaxAmount") == ["0.00"]
        assert self.text(tree, "//cac:LegalMonetaryTotal/cbc:PayableAmount") == ["600.00"]
        assert self.text(tree, "/*/cbc:BuyerReference") == ["PO-4711"]
        assert self.text(tree, "/*/cbc:Note")[0].startswith("Btw verlegd")
        assert self.text(
            tree, "//cac:AccountingCustomerParty//cac:PartyTaxScheme/cbc:CompanyID"
        ) == ["NL004495445B01"]
        buyer = tree.xpath("//cac:AccountingCustomerParty//cbc:EndpointID", namespaces=NS)[0]
        assert (buyer.get("schemeID"), buyer.text) == ("0106", "12345678")
        assert self.text(tree, "//cac:PaymentMeans/cbc:PaymentID")[0].startswith("RF")

    def test_outside_eu_invoice(self) -> None:
        tree = self.read("outside-eu-no")
        assert self.text(tree, "//cac:TaxSubtotal/cac:TaxCategory/cbc:ID") == ["O"]
        assert self.text(tree, "//cac:PartyTaxScheme/cbc:CompanyID") == []
        assert self.text(tree, "//cac:LegalMonetaryTotal/cbc:PayableAmount") == ["105.00"]

    def test_pro_rata_invoice_shows_its_days(self) -> None:
        tree = self.read("pro-rata-licences")
        # 2 licences × 167 of 181 days at 6 × 20.00 per licence and period.
        quantity = tree.xpath("//cac:InvoiceLine/cbc:InvoicedQuantity", namespaces=NS)[0]
        assert (quantity.text, quantity.get("unitCode")) == ("334", "DAY")
        assert self.text(tree, "//cac:InvoiceLine/cac:Price/cbc:PriceAmount") == ["120.00"]
        assert self.text(tree, "//cac:InvoiceLine/cac:Price/cbc:BaseQuantity") == ["181"]
        assert self.text(tree, "//cac:InvoiceLine/cbc:LineExtensionAmount") == ["221.44"]
        assert self.text(tree, "//cac:InvoiceLine/cac:InvoicePeriod/cbc:StartDate") == [
            "2027-01-15"
        ]
        assert self.text(tree, "//cac:TaxTotal/cbc:TaxAmount") == ["56.47"]
        assert self.text(tree, "//cac:LegalMonetaryTotal/cbc:PayableAmount") == ["277.91"]

    def test_credit_note_references_the_invoice(self) -> None:
        tree = self.read("credit-note")
        assert etree.QName(tree.getroot()).localname == "CreditNote"
        assert self.text(tree, "/*/cbc:ID") == ["2"]
        assert self.text(tree, "/*/cbc:CreditNoteTypeCode") == ["381"]
        assert self.text(tree, "//cac:BillingReference//cbc:ID") == ["1"]
        assert self.text(tree, "//cac:LegalMonetaryTotal/cbc:PayableAmount") == ["1506.00"]


@requires_rules
@pytest.mark.parametrize(
    "path", sorted((rules_dir() / "examples").glob("*.xml")), ids=lambda p: p.name
)
def test_official_examples_pass_the_validator(path: Path) -> None:
    report = validate_ubl(path.read_bytes())
    assert report.fatal == (), report.fatal_rule_ids


def _break(name: str, edit: Callable[[Any], None]) -> bytes:
    tree = etree.parse(str(GOLDEN / f"{name}.xml"))
    edit(tree.getroot())
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))


def _set(xpath: str, value: str) -> Callable[[Any], None]:
    def edit(root: Any) -> None:
        for element in root.xpath(xpath, namespaces=NS):
            element.text = value

    return edit


def _remove(*xpaths: str) -> Callable[[Any], None]:
    def edit(root: Any) -> None:
        for xpath in xpaths:
            for element in root.xpath(xpath, namespaces=NS):
                element.getparent().remove(element)

    return edit


def _set_attribute(xpath: str, name: str, value: str) -> Callable[[Any], None]:
    def edit(root: Any) -> None:
        for element in root.xpath(xpath, namespaces=NS):
            element.set(name, value)

    return edit


def _move_issue_date_to_the_end(root: Any) -> None:
    root.append(root.find(f"{{{CBC}}}IssueDate"))


BUYER = "//cac:AccountingCustomerParty"
BROKEN: list[tuple[str, str, Callable[[Any], None], str]] = [
    (
        "total with VAT is not total without VAT + VAT",
        "domestic-fi",
        _set("//cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount", "1500.00"),
        "BR-CO-15",
    ),
    (
        "neither a buyer reference nor an order reference",
        "domestic-fi",
        _remove("/*/cac:OrderReference", "/*/cbc:BuyerReference"),
        "PEPPOL-EN16931-R003",
    ),
    (
        "reverse charge without the buyer's VAT identifier",
        "reverse-charge-nl",
        _remove(f"{BUYER}//cac:PartyTaxScheme"),
        "BR-AE-02",
    ),
    (
        "a category's VAT is not its taxable amount × rate",
        "domestic-fi",
        _set("//cac:TaxSubtotal/cbc:TaxAmount", "300.00"),
        "BR-CO-17",
    ),
    (
        "line amount is not quantity × price ÷ base quantity",
        "pro-rata-licences",
        _set("//cac:InvoiceLine/cac:Price/cbc:BaseQuantity", "167"),
        "PEPPOL-EN16931-R120",
    ),
    (
        "Finland's retired endpoint scheme 0037",
        "domestic-fi",
        _set_attribute(f"{BUYER}//cbc:EndpointID", "schemeID", "0037"),
        "PEPPOL-EN16931-CL008",
    ),
    (
        "no buyer electronic address",
        "outside-eu-no",
        _remove(f"{BUYER}//cbc:EndpointID"),
        "PEPPOL-EN16931-R010",
    ),
    (
        "elements out of the schema's order",
        "domestic-fi",
        _move_issue_date_to_the_end,
        "XSD",
    ),
]


@requires_rules
@pytest.mark.parametrize(
    ("case", "name", "edit", "rule"), BROKEN, ids=[rule for *_, rule in BROKEN]
)
def test_broken_documents_fail_on_their_rule(
    case: str, name: str, edit: Callable[[Any], None], rule: str
) -> None:
    report = validate_ubl(_break(name, edit))
    assert not report.valid, case
    assert rule in report.fatal_rule_ids, (case, report.fatal_rule_ids)


@requires_rules
def test_stylesheets_are_compiled_once_per_process() -> None:
    assert get_validator() is get_validator()


@requires_rules
def test_invoice_of_a_freshly_provisioned_organisation_is_valid(catalog: None) -> None:
    """Provisioned, then only the invoice address given (no e-invoice address): the buyer's
    endpoint comes from its VAT number. (Before the address there is no invoice at all.)"""
    org = make_organization(invoice_address=True)
    document = ubl_of(first_invoice(org))
    tree = etree.fromstring(document)
    endpoint = tree.xpath("//cac:AccountingCustomerParty//cbc:EndpointID", namespaces=NS)[0]
    assert (endpoint.get("schemeID"), endpoint.text) == ("0216", "003723456780")
    assert validate_ubl(document).fatal == ()
