"""Refusals of the documents services (DomainError family; API.md codes)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from abonnement.core.errors import DomainError


class AlreadyCredited(DomainError):
    code = "already_credited"
    status = 409

    def __init__(self, number: int) -> None:
        super().__init__(_("Invoice %(number)s has already been credited.") % {"number": number})


class NotAnInvoice(DomainError):
    code = "not_an_invoice"
    status = 409

    def __init__(self) -> None:
        super().__init__(_("Only an invoice can be credited, not a credit note."))


class DeliveryNotFailed(DomainError):
    code = "delivery_not_failed"
    status = 409

    def __init__(self) -> None:
        super().__init__(_("Only a failed delivery can be retried."))
