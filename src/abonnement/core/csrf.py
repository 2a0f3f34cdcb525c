"""The page shown when a form's CSRF check fails (``CSRF_FAILURE_VIEW``).

The usual cause is a form left open across a sign-out and a new sign-in: signing in gives
the browser a new CSRF token, so the token in the old form no longer matches and Django
refuses the submission. Instead of Django's own technical page, the portal (or the back
office, for its paths) says what happened in its own layout and leads back to the form:
the page that sent it when that page is on this site, else the start page. Status 403;
nothing was changed.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

BACK_OFFICE_PATHS = ("/backoffice/", "/admin/")


def back_to_form(request: HttpRequest, *, home: str) -> str:
    """The Referer as a path on this site, or ``home`` when it is missing or elsewhere."""
    referer = request.headers.get("referer", "")
    if not referer or not url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return home
    parts = urlsplit(referer)
    if not parts.path.startswith("/"):
        return home
    return urlunsplit(("", "", parts.path, parts.query, "")) or home


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    back_office = request.path.startswith(BACK_OFFICE_PATHS)
    home = reverse("backoffice:home") if back_office else reverse("portal:home")
    back = back_to_form(request, home=home)
    template = "backoffice/csrf_failure.html" if back_office else "portal/csrf_failure.html"
    context = {
        "back": back,
        "back_is_form": back != home,
        "no_cookie": reason == REASON_NO_CSRF_COOKIE,
    }
    return render(request, template, context, status=403)
