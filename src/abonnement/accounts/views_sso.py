"""Single sign-on pages: the detour to the OpenID Connect provider and the way back.

Both answer 404 while single sign-on is not configured. A refusal or a provider failure
sends the browser back to the sign-in page with the reason as a message (so reloading
never re-submits a used code), and signs nobody in.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth, messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_GET

from abonnement.accounts import sso
from abonnement.core.errors import DomainError


def callback_url() -> str:
    """The redirect URI to register at the provider. Built from ``PUBLIC_URL``, not from
    the request: behind a TLS-terminating proxy the request looks like plain http, and the
    provider only accepts the exact address registered there."""
    return settings.PUBLIC_URL + reverse("portal:sso_callback")


@require_GET
def sso_start(request: HttpRequest) -> HttpResponse:
    if not sso.is_enabled():
        raise Http404()
    try:
        url = sso.begin(request, redirect_uri=callback_url(), next_url=request.GET.get("next", ""))
    except DomainError as error:
        messages.error(request, error.message)
        return redirect("portal:sign_in")
    return HttpResponseRedirect(url)


@require_GET
def sso_callback(request: HttpRequest) -> HttpResponse:
    if not sso.is_enabled():
        raise Http404()
    try:
        user = sso.finish(request)
    except DomainError as error:
        sso.take_next_url(request)
        messages.error(request, error.message)
        return redirect("portal:sign_in")
    next_url = sso.take_next_url(request)
    auth.login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(next_url or "portal:home")
