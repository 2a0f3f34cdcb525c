"""The steps the portal and the back office share for a password link (an invitation or a
reset) and for "Forgot your password?". Each interface says only what differs: its
templates, how it shows a refusal and where a chosen password leads (the portal signs the
user in; the back office goes on to the second factor).

A link's token moves into the session at once and the browser is redirected to the same
address with ``set-password`` in its place (as Django's ``PasswordResetConfirmView`` does),
so the token never stays in the address bar, the history or a ``Referer`` header.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation

from abonnement.accounts import passwords, ratelimit
from abonnement.accounts.errors import LinkExpired, RateLimited
from abonnement.accounts.forms import ChoosePasswordForm, PasswordResetRequestForm
from abonnement.accounts.models import User
from abonnement.core import clock
from abonnement.core.errors import DomainError

# What stands in the address instead of the token once it is in the session.
TOKEN_PLACEHOLDER = "set-password"
SESSION_TOKEN_KEY = "accounts:password-link:{audience}:{kind}"
SESSION_RESET_EMAIL_KEY = "accounts:password-reset-email:{audience}"


@dataclass(frozen=True)
class PasswordPages:
    audience: passwords.Audience
    choose_template: str
    dead_link_template: str
    reset_template: str
    reset_sent_template: str
    reset_sent_url: str
    add_error: Callable[[forms.Form, DomainError], None]
    # Where a chosen password leads: the response, the user already has the new password.
    chosen: Callable[[HttpRequest, User], HttpResponse]
    # The status of a form sent back with errors (the back office answers 422).
    invalid_status: int = 200
    # Whether the set-password page speaks the language the e-mail was written in.
    speaks_users_language: bool = False


def choose_password(
    request: HttpRequest, uidb64: str, token: str, *, kind: passwords.LinkKind, pages: PasswordPages
) -> HttpResponse:
    session_key = SESSION_TOKEN_KEY.format(audience=pages.audience, kind=kind)
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
    user = passwords.check_link(uidb64=uidb64, token=token, kind=kind, audience=pages.audience)
    if user is None:
        return dead_link(request, kind, pages)
    if pages.speaks_users_language:
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
                audience=pages.audience,
            )
        except LinkExpired:
            return dead_link(request, kind, pages)
        except DomainError as error:
            pages.add_error(form, error)
        else:
            request.session.pop(session_key, None)
            return pages.chosen(request, user)
    context: dict[str, Any] = {"form": form, "kind": kind, "subject": user}
    status = pages.invalid_status if form.errors else 200
    return render(request, pages.choose_template, context, status=status)


def dead_link(request: HttpRequest, kind: passwords.LinkKind, pages: PasswordPages) -> HttpResponse:
    context = {"kind": kind, "dead": True}
    return render(request, pages.dead_link_template, context, status=410)


def request_reset(request: HttpRequest, *, pages: PasswordPages) -> HttpResponse:
    """The same answer whether or not the address is known (the task looks it up)."""
    form = PasswordResetRequestForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            email = form.cleaned_data["email"]
            try:
                passwords.request_password_reset(
                    email=email,
                    address=ratelimit.client_address(request),
                    audience=pages.audience,
                    now=clock.now(),
                )
            except RateLimited as error:
                pages.add_error(form, error)
                status = 429
            else:
                request.session[SESSION_RESET_EMAIL_KEY.format(audience=pages.audience)] = email
                return redirect(pages.reset_sent_url)
        else:
            status = pages.invalid_status
    return render(request, pages.reset_template, {"form": form}, status=status)


def reset_sent(request: HttpRequest, *, pages: PasswordPages) -> HttpResponse:
    email = request.session.get(SESSION_RESET_EMAIL_KEY.format(audience=pages.audience), "")
    return render(request, pages.reset_sent_template, {"email": email})
