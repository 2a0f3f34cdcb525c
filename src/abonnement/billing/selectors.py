"""Billing details as shown to the administrator, and where documents actually go."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from abonnement.accounts.models import User
from abonnement.billing.models import BillingDetails, EInvoiceOperator
from abonnement.core.errors import NotFound


@dataclass(frozen=True)
class BillingDetailsView:
    details: BillingDetails
    company_name: str
    vat_number: str
    contact_name: str
    contact_email: str
    contact_inactive: bool
    operator_name: str | None


def get_billing_details(organization_id: UUID) -> BillingDetails:
    try:
        return BillingDetails.objects.select_related("organization", "contact_user").get(
            organization_id=organization_id
        )
    except BillingDetails.DoesNotExist:
        raise NotFound("Billing details not found.") from None


def operator_name(code: str) -> str | None:
    """The operator's name, for its code as given: OVT, BIC, or in Peppol form
    (``0216:003721291126``: the table holds the identifier without the scheme)."""
    if not code:
        return None
    identifier = code.rpartition(":")[2].upper()
    return EInvoiceOperator.objects.filter(code=identifier).values_list("name", flat=True).first()


def billing_details_view(*, organization_id: UUID) -> BillingDetailsView:
    details = get_billing_details(organization_id)
    contact = details.contact_user
    return BillingDetailsView(
        details=details,
        company_name=details.organization.name,
        vat_number=details.organization.vat_number,
        contact_name=contact.display_name if contact else details.contact_name,
        contact_email=contact.email if contact else details.contact_email,
        contact_inactive=bool(contact and not contact.is_active),
        operator_name=operator_name(details.einvoice_operator),
    )


def mail_recipients(*, organization_id: UUID) -> list[str]:
    """Where e-mailed documents go: the contact and copies; a deactivated contact user falls
    back to the subscription administrators, never to a dead address."""
    details = get_billing_details(organization_id)
    contact = details.contact_user
    recipients: list[str] = []
    if contact is not None and contact.is_active:
        recipients.append(contact.email)
    elif contact is None and details.contact_email:
        recipients.append(details.contact_email)
    else:
        recipients.extend(
            User.objects.filter(
                organization_id=organization_id, is_active=True, manage_subscription=True
            )
            .order_by("pk")
            .values_list("email", flat=True)
        )
    seen = {address.casefold() for address in recipients}
    for address in details.cc:  # one message per mailbox, however its address is spelt
        if address.casefold() not in seen:
            seen.add(address.casefold())
            recipients.append(address)
    return recipients


@dataclass(frozen=True)
class BillingPage:
    """Billing details with what the form offers: the users to pick a contact from and the
    known e-invoicing operators."""

    view: BillingDetailsView
    users: list[User]
    operators: list[EInvoiceOperator]


def billing_page(*, organization_id: UUID) -> BillingPage:
    return BillingPage(
        view=billing_details_view(organization_id=organization_id),
        users=list(
            User.objects.filter(organization_id=organization_id, is_active=True).order_by(
                "name", "email"
            )
        ),
        operators=list(EInvoiceOperator.objects.order_by("name")),
    )


def is_billing_contact(*, organization_id: UUID, user_id: int) -> bool:
    """Whether the user is the organisation's chosen billing contact."""
    return BillingDetails.objects.filter(
        organization_id=organization_id, contact_user_id=user_id
    ).exists()
