"""The e-invoicing operator table for staff (Django's admin; roles from ``backoffice.admin``)."""

from django.contrib import admin

from abonnement.backoffice.admin import StaffRoleAdmin
from abonnement.billing.models import EInvoiceOperator


@admin.register(EInvoiceOperator)
class EInvoiceOperatorAdmin(StaffRoleAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    ordering = ["name"]
