"""Settings › Subscription › Features and integrations."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from abonnement.accounts.models import Permission
from abonnement.accounts.portal import Portal, portal_page
from abonnement.catalog.models import Availability
from abonnement.core import clock
from abonnement.core.errors import DomainError
from abonnement.core.templatetags.portal import money, number
from abonnement.features import selectors, services
from abonnement.features.forms import FeatureSwitchForm


def _page(
    request: HttpRequest, portal: Portal, *, error: str = "", code: str = "", status: int = 200
) -> HttpResponse:
    page = selectors.feature_page(organization_id=portal.organization.pk)
    return render(
        request,
        "features/features.html",
        {"page": page, "section": "features", "error": error, "error_code": code},
        status=status,
    )


@portal_page(Permission.MANAGE_SUBSCRIPTION)
def feature_list(request: HttpRequest, portal: Portal) -> HttpResponse:
    return _page(request, portal)


def _switch_form_error(form: FeatureSwitchForm) -> str:
    """What is wrong with a switch request, field by field (Rule 14)."""
    problems = []
    for name, errors in form.errors.items():
        if name == "enabled":
            problems.append(_("Choose on or off."))
        elif name == "reason":
            field = form.fields["reason"]
            assert isinstance(field, forms.CharField)
            # Counted as the field counts: without the surrounding white space.
            length = len(str(form.data.get("reason", "")).strip())
            problems.append(
                _("The reason can be at most %(max)s characters long; it has %(count)s.")
                % {"max": number(field.max_length), "count": number(length)}
            )
        else:
            problems.extend(str(error) for error in errors)
    return " ".join(problems)


@portal_page(Permission.MANAGE_SUBSCRIPTION)
def feature_switch(request: HttpRequest, portal: Portal, code: str) -> HttpResponse:
    """GET: the confirmation (with the purchase preview for a paid add-on); POST: switch."""
    if request.method == "POST":
        form = FeatureSwitchForm(request.POST)
        if not form.is_valid():
            return _page(request, portal, error=_switch_form_error(form), code=code)
        try:
            change = services.set_feature_enabled(
                organization=portal.organization,
                code=code,
                enabled=form.switch_on,
                reason=form.cleaned_data["reason"],
                actor=portal.actor,
                now=clock.now(),
            )
        except DomainError as error:
            if error.status == 404:
                raise Http404() from None
            return _page(request, portal, error=error.message, code=code)
        name = change.state.feature.display_name
        if change.state.enabled:
            text = _("%(name)s is now on for everybody in your organisation.") % {"name": name}
        else:
            text = _("%(name)s is now off for everybody in your organisation.") % {"name": name}
        if change.order is not None:
            text += " " + _("Order %(number)s placed: %(amount)s.") % {
                "number": change.order.number,
                "amount": money(change.order.total, change.order.currency),
            }
        messages.success(request, text)
        return redirect("portal:features")

    form = FeatureSwitchForm(request.GET)
    page = selectors.feature_page(organization_id=portal.organization.pk)
    state = next((s for s in page.states if s.feature.code == code), None)
    if state is None:
        raise Http404()
    switch_on = form.is_valid() and form.switch_on
    preview = None
    problem = ""
    try:
        if switch_on and state.availability == Availability.ADD_ON and not state.paid_this_period:
            preview = services.preview_feature_change(
                organization=portal.organization, code=code, actor=portal.actor, now=clock.now()
            )
        elif form.is_valid() and switch_on != state.enabled:
            # Said before anything is submitted: a feature another one requires, say.
            services.check_feature_switch(
                organization=portal.organization, code=code, enabled=switch_on, actor=portal.actor
            )
    except DomainError as refusal:
        problem = refusal.message
    partial = getattr(request, "htmx", False)
    return render(
        request,
        "features/_confirm.html" if partial else "features/confirm.html",
        {
            "state": state,
            "switch_on": switch_on,
            "preview": preview,
            "error": problem,
            "currency": portal.organization.currency,
            "section": "features",
        },
    )
