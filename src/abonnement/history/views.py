"""Settings › Subscription › History: order confirmations, invoices and credit notes, the
action history of features and integrations, and the subscription's change log.

The documents' files and resending them are in ``abonnement.invoicing.views``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from abonnement.accounts.models import Permission
from abonnement.accounts.portal import Portal, portal_page
from abonnement.core.templatetags.portal import number
from abonnement.history.rows import entry_rows
from abonnement.history.selectors import history_page, order_documents_page, stored_references
from abonnement.history.texts import system_actor_name
from abonnement.invoicing.models import OrderConfirmation
from abonnement.invoicing.selectors import DeliveryView, delivery_view, invoice_page
from abonnement.orders.models import Order, OrderLine

FILTERS = [
    ("orders", gettext_lazy("Order confirmations")),
    ("invoices", gettext_lazy("Invoices")),
    ("features", gettext_lazy("Features and integrations")),
    ("licenses", gettext_lazy("Licences and storage")),
    ("billing", gettext_lazy("Billing details")),
    ("edition", gettext_lazy("Edition")),
    ("users", gettext_lazy("Users")),
    ("organization", gettext_lazy("Organisation")),
    ("period", gettext_lazy("Billing periods")),
    ("all", gettext_lazy("All changes")),
]


@portal_page(Permission.MANAGE_SUBSCRIPTION)
def history(request: HttpRequest, portal: Portal) -> HttpResponse:
    show = request.GET.get("show", "orders")
    if show not in dict(FILTERS):
        show = "orders"
    context: dict[str, Any] = {"section": "history", "show": show, "filters": FILTERS}
    if show == "orders":
        found = order_documents_page(
            organization_id=portal.organization.pk, page=request.GET.get("page")
        )
        context["orders"] = found.orders.page
        context["order_rows"] = [
            _order_row(order, found.orders, found.confirmations.get(str(order.pk)))
            for order in found.orders.page
        ]
    elif show == "invoices":
        context["invoices"] = invoice_page(
            organization_id=portal.organization.pk, page=request.GET.get("page")
        )
    else:
        page = history_page(
            organization_id=portal.organization.pk,
            kind=None if show == "all" else show,
            page=request.GET.get("page"),
        )
        references = stored_references(
            organization_id=portal.organization.pk,
            currency=portal.organization.currency,
            page=page,
        )
        context["entries"] = page.page
        context["entry_rows"] = entry_rows(page, references)
    template = (
        "history/_results.html" if getattr(request, "htmx", False) else "history/history.html"
    )
    return render(request, template, context)


@dataclass(frozen=True)
class OrderRow:
    order: Order
    lines: list[str]
    actor: str  # who placed it, a system's name in the reader's language
    issued: bool  # False while the background worker has not issued the documents yet
    delivery: DeliveryView | None  # the confirmation's latest delivery


def _order_row(order: Order, names: Any, confirmation: OrderConfirmation | None) -> OrderRow:
    deliveries = list(confirmation.deliveries.all()) if confirmation is not None else []
    return OrderRow(
        order=order,
        lines=[_line_text(line, order, names) for line in order.lines.all()],
        actor=system_actor_name(order.actor_name),
        issued=confirmation is not None,
        delivery=delivery_view(deliveries[0]) if deliveries else None,
    )


def _line_text(line: OrderLine, order: Order, names: Any) -> str:
    kind, _sep, code = line.product.partition(":")
    if kind == "license":
        label = _("User licences, %(edition)s") % {"edition": names.edition_names.get(code, code)}
    elif kind == "storage":
        label = _("File storage, %(pack)s") % {"pack": names.pack_names.get(code, code)}
    elif kind == "add_on":
        label = _("Add-on, %(name)s") % {"name": names.feature_names.get(code, code)}
    else:
        label = line.description
    quantity = number(line.quantity.normalize())
    if line.days is not None and line.period_days is not None:
        return _("%(label)s × %(quantity)s, %(days)d of %(period_days)d days") % {
            "label": label,
            "quantity": quantity,
            "days": line.days,
            "period_days": line.period_days,
        }
    if order.kind == "renewal":
        return _("%(label)s × %(quantity)s (quantity × months)") % {
            "label": label,
            "quantity": quantity,
        }
    return f"{label} × {quantity}"
