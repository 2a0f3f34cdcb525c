"""Portal pages for choosing a password through a link: the invitation, "Forgot your
password?" and the reset link it sends.

A link's token moves into the session at once and the browser is redirected to the same
address with ``set-password`` in its place (as Django's ``PasswordResetConfirmView`` does),
so the token never stays in the address bar, the history or a ``Referer`` header.
"""

from __future__ import annotations

from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from abonnement.accounts import passwords, ratelimit
from abonnement.accounts.errors import LinkExpired, RateLimited
from abonnement.accounts.forms import ChoosePasswordForm, PasswordResetRequestForm
from abonnement.accounts.portal import add_domain_error
from abonnement.core import clock
from abonnement.core.errors import DomainError

# What stands in the address instead of the token once it is in the session.
TOKEN_PLACEHOLDER = "set-password"
SESSION_TOKEN_KEY = "accounts:password-link:{kind}"
SESSION_RESET_EMAIL_KEY = "accounts:password-reset-email"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def invitation(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    return choose_password(request, uidb64, token, kind="invitation")


def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    return choose_password(request, uidb64, token, kind="reset")


def choose_password(
    request: HttpRequest, uidb64: str, token: str, *, kind: passwords.LinkKind
) -> HttpResponse:
    session_key = SESSION_TOKEN_KEY.format(kind=kind)
    if token != TOKEN_PLACEHOLDER:
        request.session[session_key] = token
        assert request.resolver_match is not None
        return redirect(
            reverse(
                request.resolver_match.view_name,
                kwargs={"uidb64": uidb64, "token": TOKEN_PLACEHOLDER},
            )
        )
    token = str(request.session.get(session_key, ""))
    user = passwords.check_link(uidb64=uidb64, token=token, kind=kind, audience="portal")
    if user is None:
        return _dead_link(request, kind)
    # The page speaks the language the e-mail was written in.
    translation.activate(passwords.language_of(user))
    request.LANGUAGE_CODE = translation.get_language()
    form = ChoosePasswordForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = passwords.set_password_from_link(
                uidb64=uidb64,
                token=token,
                kind=kind,
                password=form.cleaned_data["password"],
                password_again=form.cleaned_data["password_again"],
                now=clock.now(),
                audience="portal",
            )
        except LinkExpired:
            return _dead_link(request, kind)
        except DomainError as error:
            add_domain_error(form, error)
        else:
            request.session.pop(session_key, None)
            # Choosing the password signs the user in (a new session key, as any sign-in).
            auth.login(request, user, backend=MODEL_BACKEND)
            messages.success(request, _("Your password has been saved. You are signed in."))
            return redirect("portal:home")
    return render(
        request,
        "accounts/set_password.html",
        {"form": form, "kind": kind, "subject": user},
    )


def _dead_link(request: HttpRequest, kind: passwords.LinkKind) -> HttpResponse:
    return render(request, "accounts/set_password_invalid.html", {"kind": kind}, status=410)


def password_reset(request: HttpRequest) -> HttpResponse:
    """The "Forgot your password?" page: the same answer whether or not the address is known."""
    form = PasswordResetRequestForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        try:
            passwords.request_password_reset(
                email=email,
                address=ratelimit.client_address(request),
                audience="portal",
                now=clock.now(),
            )
        except RateLimited as error:
            add_domain_error(form, error)
            status = 429
        else:
            request.session[SESSION_RESET_EMAIL_KEY] = email
            return redirect("portal:password_reset_sent")
    return render(request, "accounts/password_reset.html", {"form": form}, status=status)


def password_reset_sent(request: HttpRequest) -> HttpResponse:
    email = request.session.get(SESSION_RESET_EMAIL_KEY, "")
    return render(request, "accounts/password_reset_sent.html", {"email": email})
