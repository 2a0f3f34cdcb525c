from __future__ import annotations

from django.db import models

# The buyer's postal address every invoice must name (VAT Directive art. 226(5)). A new
# organisation's billing details have only the country until someone gives the rest
# (``POST /organizations`` takes no address); its invoices wait until then.
INVOICE_ADDRESS_FIELDS = ("street", "postal_code", "city", "country")
# Billing details with a complete invoice address, as a filter (``has_invoice_address``).
WITH_INVOICE_ADDRESS = (
    ~models.Q(street="") & ~models.Q(postal_code="") & ~models.Q(city="") & ~models.Q(country="")
)


class EInvoiceOperator(models.Model):
    """An e-invoicing operator (intermediator) known by its routing code."""

    code = models.CharField(max_length=40, primary_key=True)
    name = models.CharField(max_length=150)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class BillingDetails(models.Model):
    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.CASCADE, related_name="billing_details"
    )
    contact_user = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact_name = models.CharField(max_length=200, blank=True, default="")
    contact_email = models.EmailField(blank=True, default="")
    cc = models.JSONField(default=list, blank=True)
    street = models.CharField(max_length=200)
    postal_code = models.CharField(max_length=20)
    city = models.CharField(max_length=100)
    country = models.CharField(max_length=2)
    reference = models.CharField(max_length=100, blank=True, default="")
    invoice_language = models.CharField(max_length=5, default="en")
    einvoice_enabled = models.BooleanField(default=False)
    einvoice_address = models.CharField(max_length=60, blank=True, default="")
    einvoice_operator = models.CharField(max_length=40, blank=True, default="")
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(einvoice_enabled=False)
                | (~models.Q(einvoice_address="") & ~models.Q(einvoice_operator="")),
                name="einvoicing_needs_address",
            )
        ]

    @property
    def has_invoice_address(self) -> bool:
        return all(getattr(self, name) for name in INVOICE_ADDRESS_FIELDS)
