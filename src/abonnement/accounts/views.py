"""Portal pages of accounts: sign-in, profile, password, user management, API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.views import LoginView, LogoutView, PasswordChangeView
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from abonnement.accounts import passwords, selectors, services, sso
from abonnement.accounts.forms import (
    DeactivateForm,
    ProfileForm,
    ReactivateForm,
    SignInForm,
    TokenForm,
    UserEditForm,
    UserForm,
)
from abonnement.accounts.models import Permission
from abonnement.accounts.portal import Portal, add_domain_error, portal_page
from abonnement.billing.selectors import is_billing_contact
from abonnement.core import clock
from abonnement.core.actor import Actor
from abonnement.core.embedding import SESSION_LANGUAGE
from abonnement.core.errors import DomainError, NotFound
from abonnement.core.templatetags.portal import money, number

# --------------------------------------------------------------------------- sign-in


class SignInView(LoginView):
    template_name = "accounts/sign_in.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # "Sign in with <provider>" shows only when single sign-on is configured.
        context["single_sign_on"] = sso.provider_name() if sso.is_enabled() else ""
        return context

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        if form.has_error("__all__", "rate_limited"):
            response.status_code = 429
        return response


class SignOutView(LogoutView):
    http_method_names = ["post", "options"]


class PasswordView(PasswordChangeView):
    template_name = "accounts/password.html"
    success_url = reverse_lazy("portal:profile")

    def form_valid(self, form: Any) -> HttpResponse:
        # The form checked the old password and the validators; the service saves the new
        # one and ends every session of the user, then this one is kept.
        user = passwords.change_password(
            user_id=form.user.pk,
            password=form.cleaned_data["new_password1"],
            actor=Actor.portal(form.user),
            now=clock.now(),
        )
        update_session_auth_hash(self.request, user)
        messages.success(self.request, _("Your password has been changed."))
        return HttpResponseRedirect(self.get_success_url())


def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not user.is_authenticated:
        return redirect("portal:sign_in")
    if getattr(user, "manage_subscription", False):
        return redirect("portal:overview")
    return redirect("portal:settings")


@portal_page()
def settings_index(request: HttpRequest, portal: Portal) -> HttpResponse:
    return render(request, "accounts/settings.html")


@portal_page()
def profile(request: HttpRequest, portal: Portal) -> HttpResponse:
    form = ProfileForm(
        request.POST if request.method == "POST" else None,
        initial={"language": portal.user.language},
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.set_user_language(
                user_id=portal.user.pk,
                language=form.cleaned_data["language"],
                actor=portal.actor,
                now=clock.now(),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            # A portal-session link's language gives way to the one chosen here.
            request.session.pop(SESSION_LANGUAGE, None)
            if user.language:
                translation.activate(user.language)
            messages.success(request, _("Your language has been saved."))
            return redirect("portal:profile")
    return render(request, "accounts/profile.html", {"form": form})


# --------------------------------------------------------------------------- users


@portal_page(Permission.MANAGE_USERS)
def user_list(request: HttpRequest, portal: Portal) -> HttpResponse:
    directory = selectors.user_directory(
        organization_id=portal.organization.pk,
        query=request.GET.get("q", ""),
        status=request.GET.get("status", "active"),
        page=request.GET.get("page", 1),
    )
    return render(request, "accounts/users.html", {"directory": directory})


def _user_saved_message(request: HttpRequest, change: services.UserChange, text: str) -> None:
    order = change.order
    if order is not None:
        text += " " + _("Order %(number)s: one user licence, %(amount)s.") % {
            "number": order.number,
            "amount": money(order.total, order.currency),
        }
    if change.next_period_licenses is not None:
        before, after = change.next_period_licenses
        text += " " + _(
            "The scheduled licence removal is smaller now: the next billing period has "
            "%(after)s licences instead of %(before)s."
        ) % {"after": number(after), "before": number(before)}
    messages.success(request, text)


@portal_page(Permission.MANAGE_USERS)
def user_new(request: HttpRequest, portal: Portal) -> HttpResponse:
    form = UserForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            change = services.create_user(
                organization=portal.organization,
                email=form.cleaned_data["email"],
                name=form.cleaned_data["name"],
                permissions_granted=form.cleaned_data["permissions"],
                buy_license=form.cleaned_data["buy_license"],
                invite=form.cleaned_data["invite"],
                actor=portal.actor,
                now=clock.now(),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            text = _("%(name)s has been added.") % {"name": change.user.display_name}
            if form.cleaned_data["invite"]:
                text += " " + _("An invitation is on its way to %(email)s.") % {
                    "email": change.user.email
                }
            _user_saved_message(request, change, text)
            return redirect("portal:users")
    offer = selectors.license_offer(
        organization=portal.organization, actor=portal.actor, now=clock.now()
    )
    return render(
        request,
        "accounts/user_new.html",
        {
            "form": form,
            "offer": offer,
            "can_grant_subscription": portal.holds(Permission.MANAGE_SUBSCRIPTION),
        },
    )


@portal_page(Permission.MANAGE_USERS)
def user_edit(request: HttpRequest, portal: Portal, user_id: int) -> HttpResponse:
    user = selectors.get_user(organization_id=portal.organization.pk, user_id=user_id)
    form = UserEditForm(
        request.POST if request.method == "POST" else None,
        initial={"name": user.name, "permissions": user.permissions},
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.update_user(
                organization=portal.organization,
                user_id=user.pk,
                name=form.cleaned_data["name"],
                permissions_granted=form.cleaned_data["permissions"],
                actor=portal.actor,
                now=clock.now(),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            messages.success(request, _("%(name)s has been saved.") % {"name": saved.display_name})
            return redirect("portal:users")
    return render(
        request,
        "accounts/user_edit.html",
        {
            "form": form,
            "subject": user,
            "can_grant_subscription": portal.holds(Permission.MANAGE_SUBSCRIPTION),
        },
    )


def _partial(request: HttpRequest, page: str, partial: str) -> str:
    return partial if request.htmx else page  # type: ignore[attr-defined]


@portal_page(Permission.MANAGE_USERS)
def user_deactivate(request: HttpRequest, portal: Portal, user_id: int) -> HttpResponse:
    user = selectors.get_user(organization_id=portal.organization.pk, user_id=user_id)
    form = DeactivateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.deactivate_user(
                organization=portal.organization,
                user_id=user.pk,
                license=form.cleaned_data["license"],
                actor=portal.actor,
                now=clock.now(),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            if form.cleaned_data["license"] == "remove":
                text = _(
                    "%(name)s has been deactivated. The licence leaves the subscription "
                    "when the next period starts."
                )
            else:
                text = _("%(name)s has been deactivated. The licence is now free.")
            messages.success(request, text % {"name": user.display_name})
            return redirect("portal:users")
    counter = selectors.license_counter(organization_id=portal.organization.pk)
    return render(
        request,
        _partial(request, "accounts/user_deactivate.html", "accounts/_deactivate_form.html"),
        {
            "form": form,
            "subject": user,
            "counter": counter,
            "can_remove": portal.holds(Permission.MANAGE_SUBSCRIPTION)
            and not portal.organization.managed_by_marketplace,
            # Mail to a deactivated billing contact goes to the administrators instead.
            "billing_contact": is_billing_contact(
                organization_id=portal.organization.pk, user_id=user.pk
            ),
        },
    )


@require_POST
@portal_page(Permission.MANAGE_USERS)
def user_invite(request: HttpRequest, portal: Portal, user_id: int) -> HttpResponse:
    """Resend the invitation (the earlier link stops working)."""
    try:
        invitation = passwords.send_invitation(
            organization=portal.organization,
            user_id=user_id,
            actor=portal.actor,
            now=clock.now(),
        )
    except NotFound:
        raise
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("A new invitation is on its way to %(email)s. The earlier link no longer works.")
            % {"email": invitation.user.email},
        )
    return redirect(_users_return(request))


def _users_return(request: HttpRequest) -> str:
    """Back to the user list as it was (search, filter, page)."""
    kept = {key: request.POST.get(key, "")[:200] for key in ("q", "status", "page")}
    query = urlencode({key: value for key, value in kept.items() if value})
    return reverse("portal:users") + (f"?{query}" if query else "")


@portal_page(Permission.MANAGE_USERS)
def user_reactivate(request: HttpRequest, portal: Portal, user_id: int) -> HttpResponse:
    user = selectors.get_user(organization_id=portal.organization.pk, user_id=user_id)
    form = ReactivateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            change = services.reactivate_user(
                organization=portal.organization,
                user_id=user.pk,
                buy_license=form.cleaned_data["buy_license"],
                actor=portal.actor,
                now=clock.now(),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            _user_saved_message(
                request,
                change,
                _("%(name)s has been reactivated.") % {"name": change.user.display_name},
            )
            return redirect("portal:users")
    offer = selectors.license_offer(
        organization=portal.organization, actor=portal.actor, now=clock.now()
    )
    return render(
        request,
        _partial(request, "accounts/user_reactivate.html", "accounts/_reactivate_form.html"),
        {"form": form, "subject": user, "offer": offer},
    )


# --------------------------------------------------------------------------- API tokens

NEW_TOKEN_SESSION_KEY = "portal:new-token"


@portal_page(Permission.MANAGE_SUBSCRIPTION)
def token_list(request: HttpRequest, portal: Portal) -> HttpResponse:
    form = TokenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            issued = services.create_organization_token(
                organization=portal.organization,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
                actor=portal.actor,
                now=clock.now(),
            )
        except DomainError as error:
            add_domain_error(form, error)
        else:
            # Shown once, on the page the redirect lands on; never stored in clear.
            request.session[NEW_TOKEN_SESSION_KEY] = {
                "name": issued.token.name,
                "secret": issued.secret,
            }
            return redirect("portal:tokens")
    new_token = request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    tokens = selectors.organization_tokens(organization_id=portal.organization.pk)
    return render(
        request,
        "accounts/tokens.html",
        {"form": form, "tokens": tokens, "new_token": new_token},
    )


@require_POST
@portal_page(Permission.MANAGE_SUBSCRIPTION)
def token_revoke(request: HttpRequest, portal: Portal, token_id: int) -> HttpResponse:
    token = services.revoke_token(
        token_id=token_id, organization=portal.organization, actor=portal.actor, now=clock.now()
    )
    messages.success(request, _("The token “%(name)s” has been revoked.") % {"name": token.name})
    return redirect(reverse("portal:tokens"))
