"""Back-office pages. Each view: parse, authorise (``staff_page``), call one service or
selector, present. Every action writes history through its service, with the staff member
as actor and ``back_office`` as channel."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.views import LoginView, LogoutView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from abonnement.backoffice import selectors
from abonnement.backoffice.access import Staff, add_domain_error, signed_in_staff, staff_page
from abonnement.backoffice.forms import (
    CreditForm,
    DecisionForm,
    EditionForm,
    NextForm,
    PurchaseChannelForm,
    SearchForm,
    StaffSignInForm,
    VatTransferForm,
)
from abonnement.backoffice.views_sign_in import after_password
from abonnement.core import clock
from abonnement.core.errors import DomainError, NotFound, PermissionDenied
from abonnement.core.redirects import back_to
from abonnement.invoicing import services as document_services
from abonnement.invoicing.holds import held_order_numbers
from abonnement.invoicing.selectors import invoice_numbers_issued_since
from abonnement.organizations import services as organization_services
from abonnement.organizations.services import MAX_DOCUMENT_BYTES
from abonnement.subscriptions import services as subscription_services

# --------------------------------------------------------------------------- sign-in


class SignInView(LoginView):
    """The staff sign-in. A customer's correct password still gets no further; with
    ``STAFF_MFA`` a staff member's goes on to the second factor (``views_sign_in``)."""

    template_name = "backoffice/sign_in.html"
    authentication_form = StaffSignInForm

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if signed_in_staff(request) is not None:
            return redirect(self.get_success_url())
        return super().get(request, *args, **kwargs)

    def get_default_redirect_url(self) -> str:
        return reverse("backoffice:home")

    def form_valid(self, form: Any) -> HttpResponse:
        return after_password(self.request, form.get_user(), next_url=self.get_success_url())

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error("__all__", "rate_limited"):
            response.status_code = 429
        return response


class SignOutView(LogoutView):
    http_method_names = ["post", "options"]
    next_page = "backoffice:sign_in"


# --------------------------------------------------------------------------- organisations


@require_GET
@staff_page()
def home(request: HttpRequest, staff: Staff) -> HttpResponse:
    """Organisation search (all organisations, newest first, without a query)."""
    form = SearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    search = selectors.find_organizations(
        actor=staff.actor, query=query, page=request.GET.get("p", 1)
    )
    return render(request, "backoffice/home.html", {"form": form, "search": search})


@require_GET
@staff_page()
def organization(request: HttpRequest, staff: Staff, organization_id: UUID) -> HttpResponse:
    page = selectors.organization_page(
        organization_id=organization_id,
        actor=staff.actor,
        orders_page=request.GET.get("orders", 1),
        history_kind=request.GET.get("kind") or None,
        history_page_number=request.GET.get("history", 1),
    )
    # Orders whose invoices wait for the customer's invoice address, as the admin is told.
    held = held_order_numbers(organization_id=page.organization.pk)
    return render(
        request,
        "backoffice/organization.html",
        {"page": page, "staff": staff, "held_orders": held},
    )


@require_GET
@staff_page()
def vat_document(
    request: HttpRequest, staff: Staff, organization_id: UUID, change_id: int
) -> HttpResponse:
    """The stored contract-transfer document, downloaded as the PDF it was checked to be."""
    change = selectors.vat_change_document(
        organization_id=organization_id, change_id=change_id, actor=staff.actor
    )
    response = HttpResponse(bytes(change.document), content_type="application/pdf")
    response["Content-Disposition"] = (
        content_disposition_header(True, change.document_name or "contract-transfer.pdf")
        or "attachment"
    )
    return response


# --------------------------------------------------------------------------- edition


def _organization_url(organization_id: UUID) -> str:
    return reverse("backoffice:organization", args=[organization_id])


@require_http_methods(["GET", "POST"])
@staff_page(billing=True)
def edition(request: HttpRequest, staff: Staff, organization_id: UUID) -> HttpResponse:
    """Choose the next period's edition; GET ``?edition=`` previews, POST schedules."""
    if request.method == "POST":
        form = EditionForm(request.POST)
        if form.is_valid():
            try:
                subscription = subscription_services.schedule_edition_change(
                    organization=selectors.get_organization(
                        organization_id=organization_id, actor=staff.actor
                    ),
                    edition=form.cleaned_data["edition"],
                    actor=staff.actor,
                    now=clock.now(),
                )
            except (NotFound, PermissionDenied):
                raise
            except DomainError as error:
                add_domain_error(form, error)
            else:
                target = subscription.next_edition or subscription.edition
                messages.success(
                    request,
                    _("The next period will have the edition %(edition)s.")
                    % {"edition": target.name},
                )
                return redirect(_organization_url(organization_id))
        code = str(request.POST.get("edition") or "") or None
    else:
        form = EditionForm(request.GET or None)
        code = form.cleaned_data["edition"] if form.is_valid() else None
    change = selectors.edition_change(
        organization_id=organization_id, edition_code=code, actor=staff.actor
    )
    if change.problem is not None and not form.errors:
        add_domain_error(form, change.problem)
    if not form.is_bound:
        form = EditionForm(initial={"edition": change.overview.next.edition.code})
    status = 422 if form.errors else 200
    return render(
        request,
        "backoffice/edition.html",
        {"change": change, "form": form, "staff": staff},
        status=status,
    )


@require_POST
@staff_page(billing=True)
def edition_cancel(request: HttpRequest, staff: Staff, organization_id: UUID) -> HttpResponse:
    try:
        subscription_services.cancel_edition_change(
            organization=selectors.get_organization(
                organization_id=organization_id, actor=staff.actor
            ),
            actor=staff.actor,
            now=clock.now(),
        )
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        messages.error(request, error.errors[0].message if error.errors else error.message)
    else:
        messages.success(request, _("The scheduled edition change has been cancelled."))
    return redirect(_organization_url(organization_id))


# --------------------------------------------------------------------------- requests


@require_GET
@staff_page()
def edition_requests(request: HttpRequest, staff: Staff) -> HttpResponse:
    inbox = selectors.edition_request_inbox(
        actor=staff.actor,
        status=request.GET.get("status", "open"),
        page=request.GET.get("p", 1),
    )
    return render(request, "backoffice/edition_requests.html", {"inbox": inbox})


@require_http_methods(["GET", "POST"])
@staff_page()
def edition_request(request: HttpRequest, staff: Staff, request_id: int) -> HttpResponse:
    """Answer a request: schedule it for the next period, or decline it with a message."""
    form = DecisionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        schedule = form.cleaned_data["decision"] == "schedule"
        try:
            answered = subscription_services.decide_edition_request(
                request_id=request_id,
                schedule=schedule,
                response=form.cleaned_data["response"],
                actor=staff.actor,
                now=clock.now(),
            )
        except (NotFound, PermissionDenied):
            raise
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if schedule:
                message = _("%(organization)s will have %(edition)s from the next period.")
            else:
                message = _("The request of %(organization)s for %(edition)s was declined.")
            messages.success(
                request,
                message
                % {"organization": answered.organization.name, "edition": answered.edition.name},
            )
            return redirect(reverse("backoffice:edition_requests"))
    view = selectors.edition_request(request_id=request_id, actor=staff.actor)
    return render(
        request,
        "backoffice/edition_request.html",
        {"view": view, "form": form},
        status=422 if form.errors else 200,
    )


# --------------------------------------------------------------------------- organisation


@require_http_methods(["GET", "POST"])
@staff_page(billing=True)
def purchase_channel(request: HttpRequest, staff: Staff, organization_id: UUID) -> HttpResponse:
    organization = selectors.get_organization(organization_id=organization_id, actor=staff.actor)
    if request.method == "POST":
        form = PurchaseChannelForm(request.POST)
        if form.is_valid():
            try:
                changed = organization_services.set_purchase_channel(
                    organization=organization,
                    channel=form.channel(),
                    actor=staff.actor,
                    now=clock.now(),
                )
            except (NotFound, PermissionDenied):
                raise
            except DomainError as error:
                add_domain_error(form, error, PurchaseChannelForm.FIELDS)
            else:
                if changed.managed_by_marketplace:
                    message = _("%(organization)s now buys through %(marketplace)s.") % {
                        "organization": changed.name,
                        "marketplace": changed.marketplace_name,
                    }
                else:
                    message = _("%(organization)s now buys directly.") % {
                        "organization": changed.name
                    }
                messages.success(request, message)
                return redirect(_organization_url(organization_id))
    else:
        form = PurchaseChannelForm(
            initial={
                "type": organization.purchase_channel,
                "name": organization.marketplace_name,
                "url": organization.marketplace_url,
            }
        )
    return render(
        request,
        "backoffice/purchase_channel.html",
        {"organization": organization, "form": form},
        status=422 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_page(billing=True)
def vat_number(request: HttpRequest, staff: Staff, organization_id: UUID) -> HttpResponse:
    """Record a VAT-number transfer with its contract-transfer document."""
    organization = selectors.get_organization(organization_id=organization_id, actor=staff.actor)
    if request.method == "POST":
        form = VatTransferForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["document"]
            # One byte past the limit is enough for the service to refuse an oversized file
            # without this view reading all of it.
            document = upload.read(MAX_DOCUMENT_BYTES + 1) if upload else b""
            try:
                change = organization_services.transfer_vat_number(
                    organization=organization,
                    vat_number=form.cleaned_data["vat_number"],
                    effective_date=form.cleaned_data["effective_date"],
                    document=document,
                    document_name=upload.name if upload else "",
                    actor=staff.actor,
                    now=clock.now(),
                )
            except (NotFound, PermissionDenied):
                raise
            except DomainError as error:
                add_domain_error(form, error, VatTransferForm.FIELDS)
            else:
                messages.success(
                    request,
                    _("The VAT number %(new)s applies from %(day)s (it was %(old)s).")
                    % {
                        "new": change.new_vat_number,
                        "old": change.old_vat_number,
                        "day": change.effective_date.isoformat(),
                    },
                )
                # A back-dated transfer: invoices already issued from that day keep the
                # number they were issued with (an issued document never changes).
                issued = invoice_numbers_issued_since(
                    organization_id=organization.pk, day=change.effective_date
                )
                if issued:
                    messages.warning(
                        request,
                        ngettext(
                            "Invoice %(numbers)s was issued from %(day)s with the old number "
                            "and keeps it: an issued invoice never changes.",
                            "Invoices %(numbers)s were issued from %(day)s with the old number "
                            "and keep it: an issued invoice never changes.",
                            len(issued),
                        )
                        % {
                            "numbers": ", ".join(str(n) for n in issued),
                            "day": change.effective_date.isoformat(),
                        },
                    )
                return redirect(_organization_url(organization_id))
    else:
        form = VatTransferForm()
    return render(
        request,
        "backoffice/vat_number.html",
        {"organization": organization, "form": form},
        status=422 if form.errors else 200,
    )


# --------------------------------------------------------------------------- feedback


@require_GET
@staff_page()
def feedback(request: HttpRequest, staff: Staff) -> HttpResponse:
    inbox = selectors.feedback_inbox(
        actor=staff.actor,
        page_name=request.GET.get("on", ""),
        answer=request.GET.get("answer", ""),
        page=request.GET.get("p", 1),
    )
    return render(request, "backoffice/feedback.html", {"inbox": inbox})


# --------------------------------------------------------------------------- documents


def _file_response(filename: str, content_type: str, content: bytes) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(False, filename) or "inline"
    return response


@require_GET
@staff_page()
def invoice_file(
    request: HttpRequest, staff: Staff, organization_id: UUID, invoice_id: UUID, fmt: str
) -> HttpResponse:
    """An invoice or credit note as PDF, or as its e-invoice XML (``fmt`` "xml")."""
    document = selectors.document_file(
        organization_id=organization_id, invoice_id=invoice_id, fmt=fmt, actor=staff.actor
    )
    return _file_response(document.filename, document.content_type, document.content)


@require_GET
@staff_page()
def confirmation_file(
    request: HttpRequest, staff: Staff, organization_id: UUID, order_id: UUID
) -> HttpResponse:
    document = selectors.document_file(
        organization_id=organization_id, order_id=order_id, actor=staff.actor
    )
    return _file_response(document.filename, document.content_type, document.content)


@require_http_methods(["GET", "POST"])
@staff_page(billing=True)
def invoice_credit(
    request: HttpRequest, staff: Staff, organization_id: UUID, invoice_id: UUID
) -> HttpResponse:
    """Reverse an invoice in full with a credit note, after saying what that does."""
    page = selectors.credit_page(
        organization_id=organization_id, invoice_id=invoice_id, actor=staff.actor
    )
    form = CreditForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            credit_note = document_services.credit_invoice(
                invoice_id=invoice_id,
                reason=form.cleaned_data["reason"],
                actor=staff.actor,
                now=clock.now(),
            )
        except (NotFound, PermissionDenied):
            raise
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(
                request,
                _("Credit note %(credit)s reverses invoice %(invoice)s; it is being delivered.")
                % {"credit": credit_note.number, "invoice": page.invoice.number},
            )
            return redirect(_organization_url(organization_id) + "#invoices")
    return render(
        request,
        "backoffice/credit.html",
        {"page": page, "form": form},
        status=422 if form.errors else 200,
    )


def _back(request: HttpRequest, default: str) -> HttpResponse:
    form = NextForm(request.POST)
    return back_to(request, form.cleaned_data["next"] if form.is_valid() else "", default)


@require_POST
@staff_page(billing=True)
def document_resend(
    request: HttpRequest,
    staff: Staff,
    organization_id: UUID,
    invoice_id: UUID | None = None,
    order_id: UUID | None = None,
) -> HttpResponse:
    """Deliver an invoice (the way the billing details say now) or an order confirmation
    again."""
    try:
        delivery = document_services.resend_document(
            organization=selectors.get_organization(
                organization_id=organization_id, actor=staff.actor
            ),
            invoice_id=invoice_id,
            order_id=order_id,
            actor=staff.actor,
            now=clock.now(),
        )
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("The document is on its way again (%(channel)s).")
            % {"channel": delivery.get_channel_display()},
        )
    anchor = "#invoices" if invoice_id is not None else "#orders"
    return redirect(_organization_url(organization_id) + anchor)


@require_GET
@staff_page()
def delivery_failures(request: HttpRequest, staff: Staff) -> HttpResponse:
    failures = selectors.delivery_failure_list(actor=staff.actor, page=request.GET.get("p", 1))
    return render(
        request, "backoffice/delivery_failures.html", {"failures": failures, "staff": staff}
    )


@require_POST
@staff_page(billing=True)
def delivery_retry(request: HttpRequest, staff: Staff, delivery_id: UUID) -> HttpResponse:
    delivery = selectors.get_delivery(delivery_id=delivery_id, actor=staff.actor)
    try:
        document_services.retry_delivery(
            delivery_id=delivery.pk, actor=staff.actor, now=clock.now()
        )
    except (NotFound, PermissionDenied):
        raise
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The delivery will be tried again now."))
    return _back(request, reverse("backoffice:delivery_failures"))
