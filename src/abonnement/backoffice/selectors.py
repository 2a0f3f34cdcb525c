"""Reads of the back office. Each one first asks ``accounts.permissions`` whether the actor
is staff (both roles read everything), then composes the domain apps' selectors."""

from __future__ import annotations

import contextlib
import copy
import re
import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.core.paginator import Page, Paginator
from django.db.models import F, Func, Prefetch, Q, Value
from django.db.models.functions import Replace, Upper
from django.utils.translation import gettext as _

from abonnement.accounts import permissions
from abonnement.accounts.models import User
from abonnement.billing.selectors import BillingDetailsView, billing_details_view
from abonnement.catalog.models import Edition
from abonnement.catalog.selectors import get_edition
from abonnement.core.actor import Actor
from abonnement.core.errors import DomainError, NotFound
from abonnement.features.selectors import FeatureState, feature_states
from abonnement.feedback.models import Feedback
from abonnement.history.models import HistoryKind
from abonnement.history.rows import EntryRow, entry_rows
from abonnement.history.selectors import HistoryPage, history_page, stored_references
from abonnement.invoicing.models import Delivery, OrderConfirmation
from abonnement.invoicing.selectors import (
    DocumentFile,
    InvoiceView,
    confirmations_for,
    delivery_failures,
    get_invoice,
    invoice_pdf,
    invoice_ubl,
    invoice_view,
    invoice_views,
    order_confirmation_pdf,
)
from abonnement.orders.models import Order
from abonnement.orders.selectors import order_page
from abonnement.organizations.models import Organization, VatNumberChange
from abonnement.organizations.selectors import all_organizations, get_organization
from abonnement.subscriptions.models import EditionChangeRequest, EditionRequestStatus
from abonnement.subscriptions.selectors import (
    SubscriptionOverview,
    build_overview,
    edition_requests_of,
    get_subscription,
)

# --------------------------------------------------------------------------- search


@dataclass(frozen=True)
class OrganizationSearch:
    query: str
    page: Page[Any]  # organisations, each with ``administrators``


def _compact(text: str) -> str:
    return re.sub(r"[\s.\-]", "", text).upper()


def _compacted(column: str) -> Func:
    """``_compact`` in SQL (spaces, dots and hyphens out; upper case)."""
    expression: Any = F(column)
    for character in (" ", ".", "-"):
        expression = Replace(expression, Value(character), Value(""))
    return Upper(expression)


def find_organizations(
    *, actor: Actor, query: str = "", page: int | str = 1, per_page: int = 25
) -> OrganizationSearch:
    """Organisations by name, VAT number, id or a user's (administrator's) e-mail address.

    Each result carries its subscription's editions and its active administrators
    (``administrators``), in a fixed number of queries whatever the page size.
    """
    organizations = all_organizations(actor=actor)
    text = query.strip()[:200]
    if text:
        compact = _compact(text)
        condition = Q(name__icontains=text) | Q(users__email__icontains=text)
        if compact:
            # VAT numbers compared without spaces, dots and hyphens on both sides: EU numbers
            # are stored compact, others as given ("CHE-116.281.710 MWST"); a number the
            # organisation had before a recorded transfer finds it too.
            condition |= Q(vat_compact__contains=compact) | Q(old_vat_compact__contains=compact)
        with contextlib.suppress(ValueError):
            condition |= Q(pk=uuid.UUID(text))
        matching = (
            Organization.objects.annotate(
                vat_compact=_compacted("vat_number"),
                old_vat_compact=_compacted("vat_number_changes__old_vat_number"),
            )
            .filter(condition)
            .values("pk")
        )
        organizations = organizations.filter(pk__in=matching).order_by("name", "id")
    organizations = organizations.select_related(
        "subscription__edition", "subscription__next_edition"
    ).prefetch_related(
        Prefetch(
            "users",
            queryset=User.objects.filter(is_active=True, manage_subscription=True).order_by(
                "name", "email"
            ),
            to_attr="administrators",
        )
    )
    return OrganizationSearch(query=text, page=Paginator(organizations, per_page).get_page(page))


# --------------------------------------------------------------------------- organisation


@dataclass(frozen=True)
class OrganizationPage:
    """Everything the customer's administrator sees, plus what only staff see."""

    organization: Organization
    overview: SubscriptionOverview
    features: list[FeatureState]
    billing: BillingDetailsView | None
    users: list[User]
    orders: Page[Order]
    history: HistoryPage
    edition_requests: list[EditionChangeRequest]
    vat_changes: list[VatNumberChange]
    invoices: list[InvoiceView]
    confirmations: dict[str, OrderConfirmation]
    failed_deliveries: list[Delivery]

    @property
    def order_rows(self) -> list[tuple[Order, OrderConfirmation | None]]:
        return [(o, self.confirmations.get(str(o.pk))) for o in self.orders.object_list]

    @property
    def credited_numbers(self) -> set[int]:
        return {i.credits_invoice_number for i in self.invoices if i.credits_invoice_number}

    @property
    def active_users(self) -> list[User]:
        return [u for u in self.users if u.is_active]

    @property
    def history_rows(self) -> list[EntryRow]:
        """The history as the customer's change log reads it (in the staff member's
        language), read once per page."""
        references = stored_references(
            organization_id=self.organization.pk,
            currency=self.organization.currency,
            page=self.history,
        )
        return entry_rows(self.history, references)

    @property
    def history_kinds(self) -> list[tuple[str, str]]:
        return list(HistoryKind.choices)

    @property
    def open_requests(self) -> list[EditionChangeRequest]:
        return [r for r in self.edition_requests if r.status == EditionRequestStatus.OPEN]


def organization_page(
    *,
    organization_id: UUID,
    actor: Actor,
    orders_page: int | str = 1,
    history_kind: str | None = None,
    history_page_number: int | str = 1,
) -> OrganizationPage:
    organization = get_organization(organization_id=organization_id, actor=actor)
    overview = build_overview(get_subscription(organization.pk))
    try:
        billing: BillingDetailsView | None = billing_details_view(organization_id=organization.pk)
    except NotFound:
        billing = None
    return OrganizationPage(
        organization=organization,
        overview=overview,
        features=feature_states(subscription=overview.subscription),
        billing=billing,
        users=list(User.objects.filter(organization=organization).order_by("name", "email")),
        orders=order_page(organization_id=organization.pk, page=orders_page, per_page=10),
        history=history_page(
            organization_id=organization.pk,
            kind=history_kind,
            page=history_page_number,
            per_page=25,
        ),
        edition_requests=list(edition_requests_of(organization_id=organization.pk)[:20]),
        vat_changes=list(
            VatNumberChange.objects.filter(organization=organization)
            .defer("document")
            .order_by("-recorded_at", "-id")
        ),
        invoices=invoice_views(organization_id=organization.pk),
        confirmations=confirmations_for(organization_id=organization.pk),
        failed_deliveries=list(delivery_failures(organization_id=organization.pk)[:50]),
    )


def vat_change_document(*, organization_id: UUID, change_id: int, actor: Actor) -> VatNumberChange:
    """A recorded VAT-number change of this organisation, with its document."""
    organization = get_organization(organization_id=organization_id, actor=actor)
    change = VatNumberChange.objects.filter(organization=organization, pk=change_id).first()
    if change is None:
        raise NotFound(_("Document not found."))
    return change


# --------------------------------------------------------------------------- documents


def delivery_failure_list(
    *, actor: Actor, page: int | str = 1, per_page: int = 50
) -> Page[Delivery]:
    """Failed deliveries across all organisations, newest first."""
    permissions.require_vendor_or_staff(actor)
    return Paginator(delivery_failures(), per_page).get_page(page)


def get_delivery(*, delivery_id: UUID, actor: Actor) -> Delivery:
    permissions.require_vendor_or_staff(actor)
    delivery = Delivery.objects.select_related("organization").filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound(_("Delivery not found."))
    return delivery


def document_file(
    *,
    organization_id: UUID,
    actor: Actor,
    invoice_id: object = None,
    order_id: object = None,
    fmt: str = "pdf",
) -> DocumentFile:
    """An invoice's PDF or UBL, or an order confirmation's PDF, of this organisation."""
    permissions.require_vendor_or_staff(actor)
    if invoice_id is not None:
        if fmt == "xml":
            return invoice_ubl(organization_id=organization_id, invoice_id=invoice_id)
        return invoice_pdf(organization_id=organization_id, invoice_id=invoice_id)
    return order_confirmation_pdf(organization_id=organization_id, order_id=order_id)


@dataclass(frozen=True)
class CreditPage:
    """An invoice offered for crediting; ``credit_notes`` are those already issued for it."""

    organization: Organization
    invoice: InvoiceView
    credit_notes: list[int]


def credit_page(*, organization_id: UUID, invoice_id: object, actor: Actor) -> CreditPage:
    organization = get_organization(organization_id=organization_id, actor=actor)
    invoice = get_invoice(organization_id=organization.pk, invoice_id=invoice_id)
    return CreditPage(
        organization=organization,
        invoice=invoice_view(invoice),
        credit_notes=list(invoice.credit_notes.values_list("number", flat=True)),
    )


# --------------------------------------------------------------------------- edition


@dataclass(frozen=True)
class EditionChange:
    """The subscription as it stands and, for ``target``, the next period it would get.

    ``problem`` is why no preview could be made (an unknown edition, a missing price).
    """

    organization: Organization
    editions: list[Edition]
    overview: SubscriptionOverview
    target: Edition | None
    proposed: SubscriptionOverview | None
    problem: DomainError | None = None


def edition_change(
    *, organization_id: UUID, edition_code: str | None, actor: Actor
) -> EditionChange:
    """Preview of the next period's price with another edition; changes nothing."""
    organization = get_organization(organization_id=organization_id, actor=actor)
    subscription = get_subscription(organization.pk)
    overview = build_overview(subscription)
    editions = list(Edition.objects.order_by("position", "code"))
    target = None
    proposed = None
    problem: DomainError | None = None
    if edition_code:
        try:
            target = get_edition(edition_code)
            changed = copy.copy(subscription)
            changed.next_edition = None if target.pk == subscription.edition_id else target
            proposed = build_overview(changed)
        except DomainError as error:
            problem = error
    return EditionChange(
        organization=organization,
        editions=editions,
        overview=overview,
        target=target,
        proposed=proposed,
        problem=problem,
    )


@dataclass(frozen=True)
class EditionRequestInbox:
    status: str
    page: Page[EditionChangeRequest]
    open_count: int


REQUEST_FILTERS = ("open", "scheduled", "declined", "all")


def edition_request_inbox(
    *, actor: Actor, status: str = "open", page: int | str = 1, per_page: int = 25
) -> EditionRequestInbox:
    """Customers' edition-change requests; open ones oldest first (answer in order)."""
    permissions.require_vendor_or_staff(actor)
    if status not in REQUEST_FILTERS:
        status = "open"
    requests = EditionChangeRequest.objects.select_related(
        "organization", "edition", "organization__subscription__edition"
    )
    if status == "open":
        requests = requests.filter(status=EditionRequestStatus.OPEN).order_by("created_at", "id")
    elif status != "all":
        requests = requests.filter(status=status).order_by("-decided_at", "-id")
    else:
        requests = requests.order_by("-created_at", "-id")
    return EditionRequestInbox(
        status=status,
        page=Paginator(requests, per_page).get_page(page),
        open_count=EditionChangeRequest.objects.filter(status=EditionRequestStatus.OPEN).count(),
    )


@dataclass(frozen=True)
class EditionRequestView:
    request: EditionChangeRequest
    change: EditionChange | None


def edition_request(*, request_id: int, actor: Actor) -> EditionRequestView:
    """One request; an open one comes with the preview of scheduling it."""
    permissions.require_vendor_or_staff(actor)
    found = (
        EditionChangeRequest.objects.select_related("organization", "edition")
        .filter(pk=request_id)
        .first()
    )
    if found is None:
        raise NotFound(_("Edition-change request not found."))
    change = None
    if found.status == EditionRequestStatus.OPEN:
        change = edition_change(
            organization_id=found.organization_id, edition_code=found.edition.code, actor=actor
        )
    return EditionRequestView(request=found, change=change)


# --------------------------------------------------------------------------- feedback

FEEDBACK_ANSWERS = {"yes": True, "no": False}


@dataclass(frozen=True)
class FeedbackInbox:
    page: Page[Feedback]
    pages: list[str]
    page_name: str
    answer: str
    helpful_count: int
    unhelpful_count: int


def feedback_inbox(
    *,
    actor: Actor,
    page_name: str = "",
    answer: str = "",
    page: int | str = 1,
    per_page: int = 50,
) -> FeedbackInbox:
    """Help-panel feedback, newest first, filtered by page and by answer (yes / no)."""
    permissions.require_vendor_or_staff(actor)
    entries = Feedback.objects.select_related("organization")
    name = page_name.strip()[:100]
    if name:
        entries = entries.filter(page=name)
    if answer in FEEDBACK_ANSWERS:
        filtered = entries.filter(helpful=FEEDBACK_ANSWERS[answer])
    else:
        answer = ""
        filtered = entries
    return FeedbackInbox(
        page=Paginator(filtered.order_by("-created_at", "-id"), per_page).get_page(page),
        pages=list(Feedback.objects.order_by("page").values_list("page", flat=True).distinct()),
        page_name=name,
        answer=answer,
        helpful_count=entries.filter(helpful=True).count(),
        unhelpful_count=entries.filter(helpful=False).count(),
    )
