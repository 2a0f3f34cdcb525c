"""Settings › Miscellaneous › Subscription: overview, licences and storage, edition."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from abonnement.accounts.models import Permission
from abonnement.accounts.portal import Portal, add_domain_error, portal_page
from abonnement.core import clock
from abonnement.core.errors import DomainError
from abonnement.core.templatetags.portal import day, money, number
from abonnement.invoicing.holds import held_order_numbers
from abonnement.orders.selectors import ordered_for_period
from abonnement.subscriptions import selectors, services
from abonnement.subscriptions.forms import EditionRequestForm, LicenseForm, StorageForm
from abonnement.subscriptions.models import EditionRequestStatus

SUBSCRIPTION = Permission.MANAGE_SUBSCRIPTION


def _template(request: HttpRequest, page: str, partial: str) -> str:
    return partial if getattr(request, "htmx", False) else page


@portal_page(SUBSCRIPTION)
def overview(request: HttpRequest, portal: Portal) -> HttpResponse:
    data = selectors.subscription_overview(organization_id=portal.organization.pk)
    return render(
        request,
        "subscriptions/overview.html",
        {
            "overview": data,
            "price_changes": price_changes(data),
            # Orders whose invoices wait for the invoice address (a notice says so).
            "held_orders": held_order_numbers(organization_id=portal.organization.pk),
            "ordered": ordered_for_period(
                organization_id=portal.organization.pk,
                start=data.current.period.start,
                end=data.current.period.end,
            ),
            # Edition-change requests still waiting for customer service's answer.
            "open_requests": list(
                selectors.edition_requests_of(organization_id=portal.organization.pk).filter(
                    status=EditionRequestStatus.OPEN
                )
            ),
            "section": "overview",
        },
    )


@dataclass(frozen=True)
class PriceChange:
    name: str
    old: Decimal  # a month, this period
    new: Decimal  # a month, from the next period


def price_changes(data: selectors.SubscriptionOverview) -> list[PriceChange]:
    """The monthly prices of what the subscription keeps that differ in the next period.

    A period keeps the prices it started with; a new price list applies from the next one
    (Rule 7), so the next column can cost more with nothing scheduled. A licence's price
    that differs because the edition changes is the edition change, listed on its own.
    """
    current, following = data.current, data.next
    changes = []
    if (
        following.edition.pk == current.edition.pk
        and following.licenses
        and following.license_unit_price != current.license_unit_price
    ):
        changes.append(
            PriceChange(_("User licence"), current.license_unit_price, following.license_unit_price)
        )
    if following.storage_packs and following.storage_unit_price != current.storage_unit_price:
        changes.append(
            PriceChange(_("Storage pack"), current.storage_unit_price, following.storage_unit_price)
        )
    now_paid = {add_on.code: add_on for add_on in current.add_ons}
    for add_on in following.add_ons:
        before = now_paid.get(add_on.code)
        if before is not None and before.monthly_price != add_on.monthly_price:
            changes.append(
                PriceChange(add_on.display_name, before.monthly_price, add_on.monthly_price)
            )
    return changes


# --------------------------------------------------------------------------- licences, storage


class _Quantity:
    """The licences and the storage packs work alike; this holds what differs."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.field = "licenses" if kind == "licenses" else "extra_packs"
        self.form_class = LicenseForm if kind == "licenses" else StorageForm

    def preview(self, portal: Portal, value: int) -> services.ChangePreview:
        if self.kind == "licenses":
            return services.preview_license_change(
                organization=portal.organization,
                licenses=value,
                actor=portal.actor,
                now=clock.now(),
            )
        return services.preview_storage_change(
            organization=portal.organization, extra_packs=value, actor=portal.actor, now=clock.now()
        )

    def change(self, portal: Portal, value: int) -> services.ChangeResult:
        if self.kind == "licenses":
            return services.set_license_count(
                organization=portal.organization,
                licenses=value,
                actor=portal.actor,
                now=clock.now(),
            )
        return services.set_storage_packs(
            organization=portal.organization, extra_packs=value, actor=portal.actor, now=clock.now()
        )


LICENSES = _Quantity("licenses")
STORAGE = _Quantity("storage")


def _quantity_page(
    request: HttpRequest,
    portal: Portal,
    *,
    license_form: LicenseForm | None = None,
    storage_form: StorageForm | None = None,
    status: int = 200,
) -> HttpResponse:
    data = selectors.subscription_overview(organization_id=portal.organization.pk)
    subscription = data.subscription
    return render(
        request,
        "subscriptions/licenses.html",
        {
            "overview": data,
            "section": "licenses",
            "license_form": license_form
            or LicenseForm(initial={"licenses": subscription.licenses_next}),
            "storage_form": storage_form
            or StorageForm(initial={"extra_packs": subscription.storage_packs_next}),
        },
        status=status,
    )


def _forms_for(quantity: _Quantity, form: Any) -> dict[str, Any]:
    return {"license_form": form} if quantity is LICENSES else {"storage_form": form}


def _confirm(request: HttpRequest, portal: Portal, quantity: _Quantity) -> HttpResponse:
    form = quantity.form_class(request.GET)
    if form.is_valid():
        value = form.cleaned_data[quantity.field]
        try:
            preview = quantity.preview(portal, value)
        except DomainError as error:
            add_domain_error(form, error, field=quantity.field)
        else:
            return render(
                request,
                _template(
                    request,
                    "subscriptions/confirm_quantity.html",
                    "subscriptions/_confirm_quantity.html",
                ),
                {
                    "section": "licenses",
                    "kind": quantity.kind,
                    "value": value,
                    "preview": preview,
                    "currency": portal.organization.currency,
                },
            )
    if getattr(request, "htmx", False):
        return render(
            request,
            "subscriptions/_confirm_error.html",
            {"form": form, "kind": quantity.kind, "field": form[quantity.field]},
        )
    return _quantity_page(request, portal, **_forms_for(quantity, form))


def _change(request: HttpRequest, portal: Portal, quantity: _Quantity) -> HttpResponse:
    form = quantity.form_class(request.POST)
    if form.is_valid():
        try:
            result = quantity.change(portal, form.cleaned_data[quantity.field])
        except DomainError as error:
            add_domain_error(form, error, field=quantity.field)
        else:
            messages.success(request, _change_message(quantity, result, portal))
            return redirect("portal:licenses")
    return _quantity_page(request, portal, **_forms_for(quantity, form))


def _change_message(quantity: _Quantity, result: services.ChangeResult, portal: Portal) -> str:
    subscription = result.subscription
    order = result.order
    if order is not None:
        return _("Order %(number)s placed: %(amount)s. You can find it in History.") % {
            "number": order.number,
            "amount": money(order.total, order.currency),
        }
    nxt = selectors.next_period_of(subscription).start
    if quantity is LICENSES:
        current, scheduled = subscription.licenses, subscription.licenses_next
        if scheduled < current:
            return ngettext(
                "From %(date)s the subscription has %(count)s user licence.",
                "From %(date)s the subscription has %(count)s user licences.",
                scheduled,
            ) % {"date": day(nxt, "long"), "count": number(scheduled)}
        return ngettext(
            "The subscription keeps %(count)s user licence; nothing changes next period.",
            "The subscription keeps %(count)s user licences; nothing changes next period.",
            current,
        ) % {"count": number(current)}
    current, scheduled = subscription.storage_packs, subscription.storage_packs_next
    if scheduled < current:
        return ngettext(
            "From %(date)s the subscription has %(count)s storage pack.",
            "From %(date)s the subscription has %(count)s storage packs.",
            scheduled,
        ) % {"date": day(nxt, "long"), "count": number(scheduled)}
    return ngettext(
        "The subscription keeps %(count)s storage pack; nothing changes next period.",
        "The subscription keeps %(count)s storage packs; nothing changes next period.",
        current,
    ) % {"count": number(current)}


@portal_page(SUBSCRIPTION)
def licenses(request: HttpRequest, portal: Portal) -> HttpResponse:
    if request.method == "POST":
        return _change(request, portal, LICENSES)
    return _quantity_page(request, portal)


@portal_page(SUBSCRIPTION)
def licenses_confirm(request: HttpRequest, portal: Portal) -> HttpResponse:
    return _confirm(request, portal, LICENSES)


@require_POST
@portal_page(SUBSCRIPTION)
def storage(request: HttpRequest, portal: Portal) -> HttpResponse:
    return _change(request, portal, STORAGE)


@portal_page(SUBSCRIPTION)
def storage_confirm(request: HttpRequest, portal: Portal) -> HttpResponse:
    return _confirm(request, portal, STORAGE)


# --------------------------------------------------------------------------- edition


@portal_page(SUBSCRIPTION)
def edition(request: HttpRequest, portal: Portal) -> HttpResponse:
    page = selectors.edition_page(organization_id=portal.organization.pk)
    choices = [(e.code, e.name) for e in page.editions if e.pk != page.next_edition.pk]
    form = EditionRequestForm(request.POST if request.method == "POST" else None, editions=choices)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_edition_change(
                organization=portal.organization,
                edition=form.cleaned_data["edition"],
                message=form.cleaned_data["message"],
                actor=portal.actor,
                now=clock.now(),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("Your request has been sent. Customer service will answer it here."),
            )
            return redirect("portal:edition")
    return render(
        request, "subscriptions/edition.html", {"page": page, "form": form, "section": "overview"}
    )
