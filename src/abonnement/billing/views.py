"""Settings › Subscription › Billing details."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from abonnement.accounts.models import Permission
from abonnement.accounts.portal import Portal, add_domain_error, portal_page
from abonnement.billing import selectors, services
from abonnement.billing.forms import FIELDS, BillingDetailsForm
from abonnement.core import clock
from abonnement.core.errors import DomainError, FieldError


@portal_page(Permission.MANAGE_SUBSCRIPTION)
def billing_details(request: HttpRequest, portal: Portal) -> HttpResponse:
    page = selectors.billing_page(organization_id=portal.organization.pk)
    form = BillingDetailsForm(
        request.POST if request.method == "POST" else None,
        users=page.users,
        initial=BillingDetailsForm.initial_from(page.view.details),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_billing_details(
                organization=portal.organization,
                data=form.service_data(),
                actor=portal.actor,
                now=clock.now(),
            )
        except DomainError as error:
            add_domain_error(form, _with_cc_lines(error), FIELDS)
        else:
            messages.success(request, _("The billing details have been saved."))
            return redirect("portal:billing")
    return render(
        request,
        "billing/billing.html",
        {
            "page": page,
            "form": form,
            "section": "billing",
            # Rule 6: read-only, the service refuses changes (a stale form gets its message).
            "marketplace": portal.organization.managed_by_marketplace,
            # The name of the operator code the form shows: after a refused save, the typed
            # code's (none for an unknown code), not the saved one's.
            "operator_name": (
                selectors.operator_name(str(form["einvoice_operator"].value() or "")[:40].strip())
                if form.is_bound
                else page.view.operator_name
            ),
        },
    )


def _with_cc_lines(error: DomainError) -> DomainError:
    """``cc.2`` → the copy-recipients field, saying which line is wrong."""
    errors = []
    for field_error in error.errors:
        field, _dot, index = field_error.field.partition(".")
        if field == "cc" and index.isdigit():
            message = _("Line %(line)d: %(message)s") % {
                "line": int(index) + 1,
                "message": field_error.message,
            }
            errors.append(FieldError("cc", message))
        else:
            errors.append(field_error)
    error.errors = errors
    return error


@portal_page(Permission.MANAGE_SUBSCRIPTION)
def operator_name(request: HttpRequest, portal: Portal) -> HttpResponse:
    """The known operator's name for a typed code (htmx fills it in beside the field)."""
    name = selectors.operator_name(request.GET.get("einvoice_operator", "").strip()[:40])
    return render(request, "billing/_operator_name.html", {"operator_name": name})
