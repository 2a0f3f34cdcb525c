"""Opening a portal-session link (``accounts/portal_sessions.py``): the browser the vendor's
product redirected here is signed in as the link's user and lands on the section asked for.
"""

from __future__ import annotations

from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from abonnement.accounts.portal_sessions import (
    SECTIONS,
    PortalSessionRefused,
    redeem_portal_session,
)
from abonnement.core import clock
from abonnement.core.embedding import SESSION_LANGUAGE, SESSION_RETURN_URL

# A link signs in with the password backend's session, as a sign-in with a password does.
BACKEND = "django.contrib.auth.backends.ModelBackend"


@never_cache
@require_GET
def redeem(request: HttpRequest, secret: str) -> HttpResponse:
    """One GET uses the link (not HEAD: a link checker's look must not use it up).

    Whoever was signed in in this browser before is signed out first: the session is the
    link's user's alone, with a new key (``login`` rotates it)."""
    try:
        session = redeem_portal_session(secret=secret, now=clock.now())
    except PortalSessionRefused as refusal:
        return _refused(request, refusal)
    request.session.flush()
    login(request, session.user, backend=BACKEND)
    if session.return_url:
        request.session[SESSION_RETURN_URL] = session.return_url
    if session.language:
        # For this session only; the profile's language stays as the user chose it
        # (``accounts/middleware.py`` applies this while the profile's is unchanged).
        request.session[SESSION_LANGUAGE] = {
            "language": session.language,
            "profile": session.user.language,
        }
    return redirect(SECTIONS[session.section])


def _refused(request: HttpRequest, refusal: PortalSessionRefused) -> HttpResponse:
    with translation.override(refusal.language or translation.get_language()):
        response = render(
            request,
            "accounts/portal_session_refused.html",
            {"refusal": refusal, "return_url": refusal.return_url},
            status=refusal.status,
        )
        response["Content-Language"] = translation.get_language()
    # The page's links must not carry the link's address to another site.
    response["Referrer-Policy"] = "no-referrer"
    return response
