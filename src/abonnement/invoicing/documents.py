"""The document snapshot: everything a confirmation, invoice or credit note says, frozen.

``build_*`` read the database once (order, organisation, billing details, seller settings)
and compute every figure; ``Snapshot.to_json`` / ``Snapshot.from_json`` store it. The PDF
and UBL renderers only ever see a ``Snapshot``, so they are pure functions and an issued
document renders the same forever, whatever later happens to prices, billing details or
settings.

Money in the JSON is a string (``"221.44"``), never a float.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings

from abonnement.billing.models import BillingDetails
from abonnement.catalog.models import (
    Feature,
    StoragePack,
    Translated,
    add_on_product,
    storage_product,
)
from abonnement.core.money import quantize
from abonnement.invoicing import texts
from abonnement.invoicing.vat import (
    OUTSIDE_SCOPE,
    REVERSE_CHARGE,
    VatTreatment,
    compute_totals,
    treatment_for,
)
from abonnement.orders.models import Order, OrderLine
from abonnement.organizations.models import Organization, VatNumberChange
from abonnement.organizations.services import vat_number_on

KIND_CONFIRMATION = "order_confirmation"
KIND_INVOICE = "invoice"
KIND_CREDIT_NOTE = "credit_note"

# Peppol electronic address schemes (EAS) for an organisation identified only by its VAT
# number, per country; Finland routes by OVT code (0216, "0037" + business ID digits).
VAT_ENDPOINT_SCHEMES = {
    "AT": "9914", "BE": "9925", "BG": "9926", "CY": "9928", "CZ": "9929", "DE": "9930",
    "EE": "9931", "ES": "9920", "GR": "9933", "HR": "9934", "HU": "9910", "IE": "9935",
    "LT": "9937", "LU": "9938", "LV": "9939", "MT": "9943", "NL": "9944", "PL": "9945",
    "PT": "9946", "RO": "9947", "SI": "9949", "SK": "9950", "FR": "9957", "GB": "9932",
    "CH": "9927",
}  # fmt: skip


@dataclass(frozen=True)
class Party:
    name: str
    vat_number: str
    street: str
    postal_code: str
    city: str
    country: str
    endpoint_scheme: str = ""
    endpoint_id: str = ""
    business_id: str = ""
    contact_name: str = ""
    contact_email: str = ""


@dataclass(frozen=True)
class Line:
    position: int
    product: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    period_start: date
    period_end: date
    days: int | None
    period_days: int | None
    vat_category: str
    vat_rate: Decimal
    # How the line is expressed in UBL so that quantity × price ÷ base quantity = amount
    # (PEPPOL-EN16931-R120): licence-months at the monthly price, or for pro rata lines
    # licence-days at the full-period price per ``period_days`` days (Rule 3 exactly).
    ubl_quantity: Decimal
    ubl_unit: str
    ubl_price: Decimal
    ubl_base_quantity: Decimal | None


@dataclass(frozen=True)
class VatLine:
    category: str
    rate: Decimal
    taxable: Decimal
    tax: Decimal
    exemption_code: str


@dataclass(frozen=True)
class Snapshot:
    kind: str
    number: str
    issue_date: date
    due_date: date | None
    currency: str
    language: str
    seller: Party
    seller_iban: str
    seller_bic: str
    buyer: Party
    buyer_reference: str
    order_number: str
    payment_reference: str
    period_start: date
    period_end: date
    lines: tuple[Line, ...]
    vat: tuple[VatLine, ...]
    net_total: Decimal
    vat_total: Decimal
    total: Decimal
    notes: tuple[str, ...] = ()
    credited_number: str = ""
    credited_issue_date: date | None = None
    reason: str = ""

    @property
    def vat_category(self) -> str:
        return self.vat[0].category if self.vat else ""

    @property
    def outside_scope(self) -> bool:
        return self.vat_category == OUTSIDE_SCOPE

    def to_json(self) -> dict[str, Any]:
        return _encode(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Snapshot:
        return _decode_snapshot(data)


# --------------------------------------------------------------------------- JSON


def _value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_value(v) for v in value]
    if hasattr(value, "__dataclass_fields__"):
        return _encode(value)
    return value


def _encode(obj: Any) -> dict[str, Any]:
    return {name: _value(getattr(obj, name)) for name in obj.__dataclass_fields__}


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


def _decode_snapshot(data: dict[str, Any]) -> Snapshot:
    lines = tuple(
        Line(
            position=int(line["position"]),
            product=line["product"],
            description=line["description"],
            quantity=Decimal(line["quantity"]),
            unit_price=Decimal(line["unit_price"]),
            amount=Decimal(line["amount"]),
            period_start=date.fromisoformat(line["period_start"]),
            period_end=date.fromisoformat(line["period_end"]),
            days=line["days"],
            period_days=line["period_days"],
            vat_category=line["vat_category"],
            vat_rate=Decimal(line["vat_rate"]),
            ubl_quantity=Decimal(line["ubl_quantity"]),
            ubl_unit=line["ubl_unit"],
            ubl_price=Decimal(line["ubl_price"]),
            ubl_base_quantity=_decimal(line["ubl_base_quantity"]),
        )
        for line in data["lines"]
    )
    vat = tuple(
        VatLine(
            category=v["category"],
            rate=Decimal(v["rate"]),
            taxable=Decimal(v["taxable"]),
            tax=Decimal(v["tax"]),
            exemption_code=v["exemption_code"],
        )
        for v in data["vat"]
    )
    return Snapshot(
        kind=data["kind"],
        number=data["number"],
        issue_date=date.fromisoformat(data["issue_date"]),
        due_date=_date(data["due_date"]),
        currency=data["currency"],
        language=data["language"],
        seller=Party(**data["seller"]),
        seller_iban=data["seller_iban"],
        seller_bic=data["seller_bic"],
        buyer=Party(**data["buyer"]),
        buyer_reference=data["buyer_reference"],
        order_number=data["order_number"],
        payment_reference=data["payment_reference"],
        period_start=date.fromisoformat(data["period_start"]),
        period_end=date.fromisoformat(data["period_end"]),
        lines=lines,
        vat=vat,
        net_total=Decimal(data["net_total"]),
        vat_total=Decimal(data["vat_total"]),
        total=Decimal(data["total"]),
        notes=tuple(data.get("notes", ())),
        credited_number=data.get("credited_number", ""),
        credited_issue_date=_date(data.get("credited_issue_date")),
        reason=data.get("reason", ""),
    )


# --------------------------------------------------------------------------- parties


def seller_party() -> tuple[Party, str, str]:
    """The vendor from ``settings.SELLER``, with its IBAN and BIC.

    A Finnish seller's business ID and OVT endpoint follow from its VAT number; other
    sellers give ``business_id`` and ``endpoint`` (``SCHEME:ID``) in the setting.
    """
    seller: dict[str, str] = settings.SELLER
    vat_number = seller["vat_number"].replace(" ", "").upper()
    country = seller["country"].upper()
    business_id = seller.get("business_id", "")
    scheme, _, identifier = seller.get("endpoint", "").partition(":")
    if country == "FI" and vat_number.startswith("FI") and len(vat_number) == 10:
        digits = vat_number[2:]
        business_id = business_id or f"{digits[:7]}-{digits[7]}"
        if not identifier:
            scheme, identifier = "0216", f"0037{digits}"
    if not identifier:
        scheme, identifier = vat_endpoint(vat_number, country)
    party = Party(
        name=seller["name"],
        vat_number=vat_number,
        street=seller.get("street", ""),
        postal_code=seller.get("postal_code", ""),
        city=seller.get("city", ""),
        country=country,
        endpoint_scheme=scheme,
        endpoint_id=identifier,
        business_id=business_id,
        contact_email=seller.get("email", "") or settings.DEFAULT_FROM_EMAIL,
    )
    return party, seller.get("iban", "").replace(" ", ""), seller.get("bic", "")


def vat_endpoint(vat_number: str, country: str) -> tuple[str, str]:
    """A Peppol endpoint derived from a VAT number, or ``("", "")`` when none is known."""
    compact = vat_number.replace(" ", "").upper()
    if not compact:
        return "", ""
    if country == "FI" and compact.startswith("FI") and compact[2:].isdigit():
        return "0216", f"0037{compact[2:]}"
    if country == "IT" and compact.startswith("IT"):
        return "0211", compact[2:]
    if country == "SE" and compact.startswith("SE") and len(compact) == 14:
        return "0007", compact[2:12]
    if country == "DK" and compact.startswith("DK"):
        return "0184", compact[2:]
    if country == "NO":
        digits = "".join(c for c in compact if c.isdigit())
        return ("0192", digits) if len(digits) == 9 else ("", "")
    scheme = VAT_ENDPOINT_SCHEMES.get(country)
    if scheme is None:
        return "", ""
    return scheme, compact


def einvoice_endpoint(address: str) -> tuple[str, str]:
    """The Peppol endpoint of a stored e-invoice address (see ``billing.validators``).

    ``SCHEME:ID`` as given, except that scheme 0037 (no longer an endpoint scheme) becomes
    0216 with the OVT code; a bare OVT code is 0216. An IBAN is no Peppol endpoint.
    """
    if ":" in address:
        scheme, _, identifier = address.partition(":")
        if scheme == "0037":
            return "0216", f"0037{identifier}"
        return scheme, identifier
    if address.startswith("0037"):
        return "0216", address
    return "", ""


def buyer_party(
    organization: Organization, details: BillingDetails | None, vat_number: str
) -> Party:
    country = (details.country if details and details.country else organization.country).upper()
    scheme, identifier = "", ""
    if details is not None and details.einvoice_address:
        scheme, identifier = einvoice_endpoint(details.einvoice_address)
    if not identifier:
        scheme, identifier = vat_endpoint(vat_number, organization.country.upper())
    contact_name = contact_email = ""
    if details is not None:
        contact = details.contact_user
        if contact is not None and contact.is_active:
            contact_name, contact_email = contact.display_name, contact.email
        elif contact is None:
            contact_name, contact_email = details.contact_name, details.contact_email
    return Party(
        name=organization.name,
        vat_number=vat_number,
        street=details.street if details else "",
        postal_code=details.postal_code if details else "",
        city=details.city if details else "",
        country=country,
        endpoint_scheme=scheme,
        endpoint_id=identifier,
        contact_name=contact_name,
        contact_email=contact_email,
    )


# --------------------------------------------------------------------------- lines


def months_between(start: date, end: date) -> int:
    """Whole months of a stored period (``end`` inclusive), from its start to the next."""
    after = end + timedelta(days=1)
    return (after.year * 12 + after.month) - (start.year * 12 + start.month)


def _ubl_form(line: OrderLine, months: int) -> tuple[Decimal, str, Decimal, Decimal | None]:
    if line.days is not None and line.period_days:
        quantity = line.quantity * line.days
        price = line.unit_price * months
        base = Decimal(line.period_days)
        if quantize(quantity * price / base) == line.amount:
            return quantity, "DAY", price, base
        # Not Rule 3's formula (a hand-made line): state the amount for the whole quantity.
        return line.quantity, "C62", line.amount, line.quantity
    if quantize(line.quantity * line.unit_price) == line.amount:
        return line.quantity, "MON", line.unit_price, None
    return line.quantity, "C62", line.amount, line.quantity


def catalogue_entries(order_lines: Iterable[OrderLine]) -> dict[str, Translated]:
    """product → its add-on feature or storage pack, for the lines that name one (at most
    two queries, however many lines)."""
    products = {line.product for line in order_lines}
    features = {p.removeprefix("add_on:") for p in products if p.startswith("add_on:")}
    packs = {p.removeprefix("storage:") for p in products if p.startswith("storage:")}
    entries: dict[str, Translated] = {}
    if features:
        for feature in Feature.objects.filter(code__in=features).only("code", "translations"):
            entries[add_on_product(feature.code)] = feature
    if packs:
        for pack in StoragePack.objects.filter(code__in=packs).only("code", "translations"):
            entries[storage_product(pack.code)] = pack
    return entries


def catalogue_names(entries: dict[str, Translated], language: str) -> dict[str, str]:
    """product → the catalogue name in ``language``, for those translated into it."""
    names = {product: entry.translated("name", language) for product, entry in entries.items()}
    return {product: name for product, name in names.items() if name}


def document_lines(
    order: Order,
    order_lines: list[OrderLine],
    treatment: VatTreatment,
    language: str,
    entries: dict[str, Translated] | None = None,
) -> tuple[Line, ...]:
    """The document's lines in ``language``, the add-on and storage-pack names too (from
    ``entries``, read here when not given). Once a document is issued its snapshot keeps
    these texts: a later catalogue change does not alter it."""
    names: dict[str, str] = {}
    if texts.language_of(language) != "en":
        if entries is None:
            entries = catalogue_entries(order_lines)
        names = catalogue_names(entries, language)
    months = max(1, months_between(order.period_start, order.period_end))
    lines = []
    for line in sorted(order_lines, key=lambda item: item.position):
        quantity, unit, price, base = _ubl_form(line, months)
        lines.append(
            Line(
                position=line.position,
                product=line.product,
                description=texts.describe(
                    line.description, language, name=names.get(line.product, "")
                ),
                quantity=line.quantity.normalize(),
                unit_price=line.unit_price,
                amount=line.amount,
                period_start=line.period_start,
                period_end=line.period_end,
                days=line.days,
                period_days=line.period_days,
                vat_category=treatment.category,
                vat_rate=treatment.rate,
                ubl_quantity=quantity.normalize(),
                ubl_unit=unit,
                ubl_price=price,
                ubl_base_quantity=base,
            )
        )
    return tuple(lines)


def vat_notes(treatment: VatTreatment, language: str) -> tuple[str, ...]:
    if treatment.category == REVERSE_CHARGE:
        return (texts.text(language, "reverse_charge_note"),)
    if treatment.category == OUTSIDE_SCOPE:
        return (texts.text(language, "outside_scope_note"),)
    return ()


# --------------------------------------------------------------------------- snapshots


@dataclass(frozen=True)
class OrderContext:
    """What a document of an order needs besides the order: read once."""

    organization: Organization
    details: BillingDetails | None
    language: str
    buyer: Party
    treatment: VatTreatment
    lines: tuple[Line, ...] = field(default=())


def context_for(
    order: Order,
    on: date,
    *,
    details: BillingDetails | None,
    vat_number: str,
    order_lines: list[OrderLine],
    entries: dict[str, Translated] | None = None,
) -> OrderContext:
    """The context of ``order`` from data read beforehand (one query per kind per batch)."""
    organization = order.organization
    language = texts.language_of(details.invoice_language if details else organization.language)
    buyer = buyer_party(organization, details, vat_number)
    seller, _, _ = seller_party()
    # Rule 11 follows where the buyer is established (the organisation's country, which its
    # VAT number belongs to), not where its invoices are posted.
    treatment = treatment_for(
        seller_country=seller.country,
        buyer_country=organization.country,
        buyer_vat_number=buyer.vat_number,
        on=on,
    )
    return OrderContext(
        organization=organization,
        details=details,
        language=language,
        buyer=buyer,
        treatment=treatment,
        lines=document_lines(order, order_lines, treatment, language, entries),
    )


def order_contexts(orders: list[Order], on: date) -> dict[Any, OrderContext]:
    """Contexts of many orders with at most six queries whatever their number."""
    organization_ids = {order.organization_id for order in orders}
    details = {
        d.organization_id: d
        for d in BillingDetails.objects.select_related("contact_user").filter(
            organization_id__in=organization_ids
        )
    }
    transferred = set(
        VatNumberChange.objects.filter(organization_id__in=organization_ids).values_list(
            "organization_id", flat=True
        )
    )
    lines: dict[Any, list[OrderLine]] = {order.pk: [] for order in orders}
    for line in OrderLine.objects.filter(order_id__in=list(lines)):
        lines[line.order_id].append(line)
    entries = catalogue_entries(line for order_lines in lines.values() for line in order_lines)
    contexts = {}
    for order in orders:
        organization = order.organization
        vat_number = (
            vat_number_on(organization, on)
            if organization.pk in transferred
            else organization.vat_number
        )
        contexts[order.pk] = context_for(
            order,
            on,
            details=details.get(order.organization_id),
            vat_number=vat_number,
            order_lines=lines[order.pk],
            entries=entries,
        )
    return contexts


def order_context(order: Order, on: date) -> OrderContext:
    return order_contexts([order], on)[order.pk]


def _totals(lines: tuple[Line, ...], treatment: VatTreatment) -> tuple[tuple[VatLine, ...], Any]:
    totals = compute_totals((line.amount, treatment) for line in lines)
    vat = tuple(
        VatLine(
            category=s.category,
            rate=s.rate,
            taxable=s.taxable,
            tax=s.tax,
            exemption_code=s.exemption_code,
        )
        for s in totals.subtotals
    )
    return vat, totals


def build_snapshot(
    *,
    kind: str,
    order: Order,
    context: OrderContext,
    number: str,
    issue_date: date,
    due_date: date | None,
    payment_reference: str,
) -> Snapshot:
    """The confirmation or invoice of ``order``."""
    seller, iban, bic = seller_party()
    vat, totals = _totals(context.lines, context.treatment)
    buyer = context.buyer
    reference = context.details.reference if context.details else ""
    notes = vat_notes(context.treatment, context.language)
    if kind == KIND_CONFIRMATION:
        notes = (texts.text(context.language, "confirmation_note"), *notes)
    return Snapshot(
        kind=kind,
        number=number,
        issue_date=issue_date,
        due_date=due_date,
        currency=order.currency,
        language=context.language,
        seller=seller,
        seller_iban=iban,
        seller_bic=bic,
        buyer=buyer,
        buyer_reference=reference,
        order_number=str(order.number),
        payment_reference=payment_reference,
        period_start=order.period_start,
        period_end=order.period_end,
        lines=context.lines,
        vat=vat,
        net_total=totals.net,
        vat_total=totals.vat,
        total=totals.total,
        notes=notes,
    )


def credit_note_snapshot(
    original: Snapshot,
    *,
    number: str,
    issue_date: date,
    payment_reference: str,
    reason: str,
) -> Snapshot:
    """A credit note reverses the original in full: same lines, same VAT, same buyer."""
    return replace(
        original,
        kind=KIND_CREDIT_NOTE,
        number=number,
        issue_date=issue_date,
        due_date=issue_date,
        payment_reference=payment_reference,
        credited_number=original.number,
        credited_issue_date=original.issue_date,
        reason=reason,
        notes=tuple(n for n in original.notes if n),
    )
