"""Peppol BIS Billing 3.0 (UBL 2.1, EN 16931) Invoice and CreditNote, built with lxml.

A pure function of the document snapshot: ``render_ubl(snapshot) -> bytes``. Elements are
written in the order of the UBL 2.1 schema (the XSD rejects any other), empty values are
left out (PEPPOL-EN16931-R008), and amounts carry two decimals.
"""

from __future__ import annotations

from decimal import Decimal

from lxml import etree

from abonnement.invoicing import texts
from abonnement.invoicing.documents import KIND_CREDIT_NOTE, Line, Party, Snapshot
from abonnement.invoicing.reference import grouped
from abonnement.invoicing.vat import OUTSIDE_SCOPE, REVERSE_CHARGE

CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

_CAC = f"{{{CAC}}}"
_CBC = f"{{{CBC}}}"

EXEMPTION_REASONS = {REVERSE_CHARGE: "Reverse charge", OUTSIDE_SCOPE: "Not subject to VAT"}

_CENT = Decimal("0.01")


def _amount(value: Decimal) -> str:
    return f"{value.quantize(_CENT):f}"


def _decimal(value: Decimal) -> str:
    """Quantities and rates without trailing zeros or exponent: 60, 25.5, 0."""
    return f"{value.normalize():f}"


def _price(value: Decimal) -> str:
    """Unit prices: at least two decimals, more only where the price has them."""
    normalized = value.normalize()
    if normalized.as_tuple().exponent >= -2:  # type: ignore[operator]
        return _amount(value)
    return f"{normalized:f}"


def _cbc(parent: etree._Element, tag: str, text: str, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, _CBC + tag, attributes)
    element.text = text
    return element


def _cac(parent: etree._Element, tag: str) -> etree._Element:
    return etree.SubElement(parent, _CAC + tag)


def _money(parent: etree._Element, name: str, value: Decimal, currency: str) -> None:
    _cbc(parent, name, _amount(value), currencyID=currency)


def _tax_scheme(parent: etree._Element) -> None:
    _cbc(_cac(parent, "TaxScheme"), "ID", "VAT")


def _address(parent: etree._Element, party: Party) -> None:
    address = _cac(parent, "PostalAddress")
    if party.street:
        _cbc(address, "StreetName", party.street)
    if party.city:
        _cbc(address, "CityName", party.city)
    if party.postal_code:
        _cbc(address, "PostalZone", party.postal_code)
    _cbc(_cac(address, "Country"), "IdentificationCode", party.country)


def _party(parent: etree._Element, role: str, party: Party, *, tax_ids: bool) -> None:
    node = _cac(_cac(parent, role), "Party")
    if party.endpoint_id:
        _cbc(node, "EndpointID", party.endpoint_id, schemeID=party.endpoint_scheme)
    _cbc(_cac(node, "PartyName"), "Name", party.name)
    _address(node, party)
    if tax_ids and party.vat_number:
        scheme = _cac(node, "PartyTaxScheme")
        _cbc(scheme, "CompanyID", party.vat_number)
        _tax_scheme(scheme)
    legal = _cac(node, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", party.name)
    if party.business_id:
        _cbc(legal, "CompanyID", party.business_id)
    if party.contact_name or party.contact_email:
        contact = _cac(node, "Contact")
        if party.contact_name:
            _cbc(contact, "Name", party.contact_name)
        if party.contact_email:
            _cbc(contact, "ElectronicMail", party.contact_email)


def _tax_category(parent: etree._Element, name: str, category: str, rate: Decimal) -> None:
    node = _cac(parent, name)
    _cbc(node, "ID", category)
    if category != OUTSIDE_SCOPE:
        _cbc(node, "Percent", _decimal(rate))
    if name == "TaxCategory" and category in EXEMPTION_REASONS:
        code = "VATEX-EU-AE" if category == REVERSE_CHARGE else "VATEX-EU-O"
        _cbc(node, "TaxExemptionReasonCode", code)
        _cbc(node, "TaxExemptionReason", EXEMPTION_REASONS[category])
    _tax_scheme(node)


def _line(root: etree._Element, snapshot: Snapshot, line: Line, *, credit: bool) -> None:
    node = _cac(root, "CreditNoteLine" if credit else "InvoiceLine")
    _cbc(node, "ID", str(line.position))
    _cbc(
        node,
        "CreditedQuantity" if credit else "InvoicedQuantity",
        _decimal(line.ubl_quantity),
        unitCode=line.ubl_unit,
    )
    _money(node, "LineExtensionAmount", line.amount, snapshot.currency)
    period = _cac(node, "InvoicePeriod")
    _cbc(period, "StartDate", line.period_start.isoformat())
    _cbc(period, "EndDate", line.period_end.isoformat())
    item = _cac(node, "Item")
    _cbc(item, "Name", line.description)
    _cbc(_cac(item, "SellersItemIdentification"), "ID", line.product)
    _tax_category(item, "ClassifiedTaxCategory", line.vat_category, line.vat_rate)
    price = _cac(node, "Price")
    _cbc(price, "PriceAmount", _price(line.ubl_price), currencyID=snapshot.currency)
    if line.ubl_base_quantity is not None:
        _cbc(price, "BaseQuantity", _decimal(line.ubl_base_quantity), unitCode=line.ubl_unit)


def build_tree(snapshot: Snapshot) -> etree._Element:
    credit = snapshot.kind == KIND_CREDIT_NOTE
    namespace = CREDIT_NOTE_NS if credit else INVOICE_NS
    root = etree.Element(
        f"{{{namespace}}}{'CreditNote' if credit else 'Invoice'}",
        nsmap={None: namespace, "cac": CAC, "cbc": CBC},
    )
    currency = snapshot.currency
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", snapshot.number)
    _cbc(root, "IssueDate", snapshot.issue_date.isoformat())
    if credit:
        _cbc(root, "CreditNoteTypeCode", "381")
    else:
        if snapshot.due_date is not None:
            _cbc(root, "DueDate", snapshot.due_date.isoformat())
        _cbc(root, "InvoiceTypeCode", "380")
    notes = [n for n in snapshot.notes if n]
    if credit and snapshot.reason:
        notes.append(f"{texts.text(snapshot.language, 'reason')}: {snapshot.reason}")
    if notes:
        _cbc(root, "Note", " ".join(notes))
    _cbc(root, "DocumentCurrencyCode", currency)
    if snapshot.buyer_reference:
        _cbc(root, "BuyerReference", snapshot.buyer_reference)
    period = _cac(root, "InvoicePeriod")
    _cbc(period, "StartDate", snapshot.period_start.isoformat())
    _cbc(period, "EndDate", snapshot.period_end.isoformat())
    if not snapshot.buyer_reference:
        # PEPPOL-EN16931-R003: a buyer reference or an order reference; ours is the order.
        _cbc(_cac(root, "OrderReference"), "ID", snapshot.order_number)
    if credit:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", snapshot.credited_number)
        if snapshot.credited_issue_date is not None:
            _cbc(reference, "IssueDate", snapshot.credited_issue_date.isoformat())
    # BR-O-02: an e-invoice outside the scope of VAT names no VAT identifiers (the PDF
    # still shows the seller's, as every invoice must).
    tax_ids = not snapshot.outside_scope
    _party(root, "AccountingSupplierParty", snapshot.seller, tax_ids=tax_ids)
    _party(root, "AccountingCustomerParty", snapshot.buyer, tax_ids=tax_ids)
    if not credit and snapshot.seller_iban:
        means = _cac(root, "PaymentMeans")
        # UNCL 4461: SEPA credit transfer (58) is for euros only; other currencies are paid
        # by plain credit transfer (30).
        if snapshot.currency == "EUR":
            _cbc(means, "PaymentMeansCode", "58", name="SEPA credit transfer")
        else:
            _cbc(means, "PaymentMeansCode", "30", name="Credit transfer")
        _cbc(means, "PaymentID", snapshot.payment_reference)
        account = _cac(means, "PayeeFinancialAccount")
        _cbc(account, "ID", snapshot.seller_iban)
        _cbc(account, "Name", snapshot.seller.name)
        if snapshot.seller_bic:
            _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", snapshot.seller_bic)
    terms = _cac(root, "PaymentTerms")
    language = snapshot.language
    if credit:
        terms_text = f"{texts.text(language, 'credits_invoice')} {snapshot.credited_number}"
    else:
        terms_text = (
            f"{texts.text(language, 'due_date')} {snapshot.due_date.isoformat()}, "
            f"{texts.text(language, 'payment_reference').lower()} "
            f"{grouped(snapshot.payment_reference)}"
            if snapshot.due_date
            else texts.text(language, "total_due")
        )
    _cbc(terms, "Note", terms_text)
    tax_total = _cac(root, "TaxTotal")
    _money(tax_total, "TaxAmount", snapshot.vat_total, currency)
    for vat in snapshot.vat:
        subtotal = _cac(tax_total, "TaxSubtotal")
        _money(subtotal, "TaxableAmount", vat.taxable, currency)
        _money(subtotal, "TaxAmount", vat.tax, currency)
        _tax_category(subtotal, "TaxCategory", vat.category, vat.rate)
    totals = _cac(root, "LegalMonetaryTotal")
    _money(totals, "LineExtensionAmount", snapshot.net_total, currency)
    _money(totals, "TaxExclusiveAmount", snapshot.net_total, currency)
    _money(totals, "TaxInclusiveAmount", snapshot.total, currency)
    _money(totals, "PayableAmount", snapshot.total, currency)
    for line in snapshot.lines:
        _line(root, snapshot, line, credit=credit)
    return root


def serialise(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def render_ubl(snapshot: Snapshot) -> bytes:
    return serialise(build_tree(snapshot))


def ubl_filename(snapshot: Snapshot) -> str:
    prefix = "credit-note" if snapshot.kind == KIND_CREDIT_NOTE else "invoice"
    return f"{prefix}-{snapshot.number}.xml"
