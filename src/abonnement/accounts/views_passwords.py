"""Portal pages for choosing a password through a link: the invitation, "Forgot your
password?" and the reset link it sends (the steps themselves: ``accounts.password_pages``).
"""

from __future__ import annotations

from django.contrib import auth, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from abonnement.accounts import password_pages
from abonnement.accounts.models import User
from abonnement.accounts.portal import add_domain_error

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _password_chosen(request: HttpRequest, user: User) -> HttpResponse:
    # Choosing the password signs the user in (a new session key, as any sign-in).
    auth.login(request, user, backend=MODEL_BACKEND)
    messages.success(request, _("Your password has been saved. You are signed in."))
    return redirect("portal:home")


PAGES = password_pages.PasswordPages(
    audience="portal",
    choose_template="accounts/set_password.html",
    dead_link_template="accounts/set_password_invalid.html",
    reset_template="accounts/password_reset.html",
    reset_sent_template="accounts/password_reset_sent.html",
    reset_sent_url="portal:password_reset_sent",
    add_error=add_domain_error,
    chosen=_password_chosen,
    speaks_users_language=True,
)


@never_cache
def invitation(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    return password_pages.choose_password(request, uidb64, token, kind="invitation", pages=PAGES)


@never_cache
def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    return password_pages.choose_password(request, uidb64, token, kind="reset", pages=PAGES)


def password_reset(request: HttpRequest) -> HttpResponse:
    """The "Forgot your password?" page: the same answer whether or not the address is known."""
    return password_pages.request_reset(request, pages=PAGES)


def password_reset_sent(request: HttpRequest) -> HttpResponse:
    return password_pages.reset_sent(request, pages=PAGES)
