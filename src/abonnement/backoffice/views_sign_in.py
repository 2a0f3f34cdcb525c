"""The staff sign-in's second step: the TOTP code (or a recovery code), and the enrolment
of the authenticator at the first sign-in (``STAFF_MFA``, on unless the demo turns it off).

Between the password and the code nobody is signed in: the session only holds who passed
the password step (``PENDING``), bound to the account's session hash (a password change or
a deactivation voids it) and valid for ten minutes. Only a correct code calls Django's
``login`` and marks the session verified the way django-otp does (``django_otp.login``);
``staff_page`` and the admin site then require both. The same hand-over follows the admin's
own sign-in page and a set-password link.

The back office's pages for the links of ``accounts.passwords`` (the invitation of ``abonnement
staff create``, "Forgot your password?" and its reset link) live here too: choosing a
password is the sign-in's first step.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from abonnement.accounts import password_pages
from abonnement.accounts.models import User
from abonnement.backoffice import mfa
from abonnement.backoffice.access import Staff, add_domain_error, staff_of, staff_page
from abonnement.backoffice.forms import SecondFactorForm
from abonnement.core import clock

PENDING = "abonnement_staff_pending"
RECOVERY = "abonnement_staff_recovery_codes"
PENDING_SECONDS = 10 * 60
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _safe_next(request: HttpRequest, url: str) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse("backoffice:home")


def after_password(
    request: HttpRequest, user: User, *, next_url: str = "", backend: str = ""
) -> HttpResponse:
    """Where a staff member goes once their password is known to be right (a sign-in page,
    or a set-password link): signed in at once without ``STAFF_MFA``, otherwise on to the
    code (or to the enrolment, the first time)."""
    target = _safe_next(request, next_url)
    backend = backend or getattr(user, "backend", "") or MODEL_BACKEND
    if not settings.STAFF_MFA:
        login(request, user, backend=backend)
        return redirect(target)
    if request.user.is_authenticated:
        # Whoever was signed in in this browser (a customer, or this staff member signed in
        # to the portal with the password alone) is signed out: a new session starts.
        logout(request)
    else:
        request.session.cycle_key()
    request.session[PENDING] = {
        "user": user.pk,
        "hash": user.get_session_auth_hash(),
        "backend": backend,
        "next": target,
        "until": (clock.real_now() + timedelta(seconds=PENDING_SECONDS)).timestamp(),
    }
    return redirect("backoffice:mfa_verify" if mfa.is_enrolled(user) else "backoffice:mfa_enrol")


def _pending(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    """The staff member who passed the password step in this session, while it holds."""
    data = request.session.get(PENDING)
    if not isinstance(data, dict):
        return None
    user = User.objects.filter(pk=int(data.get("user") or 0)).first()
    if (
        user is None
        or staff_of(user) is None
        or float(data.get("until", 0)) < clock.real_now().timestamp()
        or not constant_time_compare(str(data.get("hash", "")), user.get_session_auth_hash())
    ):
        del request.session[PENDING]
        return None
    return user, data


def _start_again(request: HttpRequest) -> HttpResponse:
    return cast(HttpResponse, redirect_to_login(reverse("backoffice:home"), _sign_in_url()))


def _sign_in_url() -> str:
    return reverse("backoffice:sign_in")


def _complete(request: HttpRequest, user: User, data: dict[str, Any], device: Any) -> None:
    """Signed in, and verified: Django's session first (a new key), then django-otp's mark."""
    login(request, user, backend=str(data.get("backend") or MODEL_BACKEND))
    django_otp.login(request, device)
    request.session.pop(PENDING, None)


@never_cache
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """First sign-in: scan the QR code (or type the secret), confirm with a code, and get
    the recovery codes."""
    if not settings.STAFF_MFA:
        return redirect(_sign_in_url())
    pending = _pending(request)
    if pending is None:
        return _start_again(request)
    user, data = pending
    if mfa.is_enrolled(user):
        return redirect("backoffice:mfa_verify")
    form = SecondFactorForm(request, user=user, enrolment=True, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        enrolment = form.enrolment
        assert enrolment is not None
        _complete(request, user, data, enrolment.device)
        request.session[RECOVERY] = {
            "codes": enrolment.recovery_codes,
            "next": str(data.get("next") or ""),
        }
        return redirect("backoffice:recovery_codes")
    device = mfa.enrolment_device(user=user)
    return render(
        request,
        "backoffice/mfa_enrol.html",
        {
            "form": form,
            "qr_code": mfa.qr_code_svg(device),
            "secret": mfa.secret(device),
            "account": user.email,
        },
        status=_status(form),
    )


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Every later sign-in: the authenticator's code, or a recovery code."""
    if not settings.STAFF_MFA:
        return redirect(_sign_in_url())
    pending = _pending(request)
    if pending is None:
        return _start_again(request)
    user, data = pending
    if not mfa.is_enrolled(user):
        return redirect("backoffice:mfa_enrol")
    form = SecondFactorForm(request, user=user, enrolment=False, data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        _complete(request, user, data, form.device)
        return redirect(_safe_next(request, str(data.get("next") or "")))
    return render(
        request,
        "backoffice/mfa_verify.html",
        {"form": form, "account": user.email},
        status=_status(form),
    )


def _status(form: SecondFactorForm) -> int:
    if form.has_error("code", "rate_limited") or form.has_error("__all__", "rate_limited"):
        return 429
    return 422 if form.errors else 200


@never_cache
@require_GET
@staff_page()
def recovery_codes(request: HttpRequest, staff: Staff) -> HttpResponse:
    """The recovery codes, shown once, right after the enrolment."""
    shown = request.session.pop(RECOVERY, None)
    if not isinstance(shown, dict) or not shown.get("codes"):
        return redirect("backoffice:home")
    return render(
        request,
        "backoffice/recovery_codes.html",
        {"codes": shown["codes"], "next": _safe_next(request, str(shown.get("next") or ""))},
    )


# --------------------------------------------------------------------------- password links


def _password_chosen(request: HttpRequest, user: User) -> HttpResponse:
    # Choosing the password is the sign-in's first step; the second factor follows (the
    # enrolment, the first time).
    response = after_password(request, user, backend=MODEL_BACKEND)
    messages.success(
        request,
        _("Your password is saved. Now set up your authenticator.")
        if settings.STAFF_MFA and not mfa.is_enrolled(user)
        else _("Your password is saved."),
    )
    return response


PAGES = password_pages.PasswordPages(
    audience="backoffice",
    choose_template="backoffice/set_password.html",
    dead_link_template="backoffice/set_password.html",
    reset_template="backoffice/password_reset.html",
    reset_sent_template="backoffice/password_reset_sent.html",
    reset_sent_url="backoffice:password_reset_sent",
    add_error=add_domain_error,
    chosen=_password_chosen,
    invalid_status=422,
)


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The link of ``abonnement staff create``: choose a password, then the authenticator."""
    return password_pages.choose_password(request, uidb64, token, kind="invitation", pages=PAGES)


@never_cache
@require_http_methods(["GET", "POST"])
def password_reset_confirm(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    return password_pages.choose_password(request, uidb64, token, kind="reset", pages=PAGES)


@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    """ "Forgot your password?": the same answer whether or not the address is a staff
    member's (only an active staff account is e-mailed a link, by the task)."""
    return password_pages.request_reset(request, pages=PAGES)


@require_GET
def password_reset_sent(request: HttpRequest) -> HttpResponse:
    return password_pages.reset_sent(request, pages=PAGES)
