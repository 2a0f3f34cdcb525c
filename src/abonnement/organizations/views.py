"""Settings › Company settings: the company name (with its history) and the VAT number."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from abonnement.accounts.models import Permission
from abonnement.accounts.portal import Portal, add_domain_error, portal_page
from abonnement.core import clock
from abonnement.core.errors import DomainError
from abonnement.history.selectors import name_changes
from abonnement.organizations import services
from abonnement.organizations.forms import CompanyNameForm


@portal_page(Permission.MANAGE_SUBSCRIPTION)
def company_settings(request: HttpRequest, portal: Portal) -> HttpResponse:
    form = CompanyNameForm(
        request.POST if request.method == "POST" else None,
        initial={"name": portal.organization.name},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.rename_organization(
                organization=portal.organization,
                name=form.cleaned_data["name"],
                actor=portal.actor,
                now=clock.now(),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("The company name has been saved."))
            return redirect("portal:company")
    return render(
        request,
        "organizations/company.html",
        {"form": form, "changes": name_changes(organization_id=portal.organization.pk)},
    )
