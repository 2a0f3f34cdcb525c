"""The portal inside the vendor's product: who may frame which page, the chrome's branding,
and the way back to the product.

- ``ABONNEMENT_FRAME_ANCESTORS`` (settings ``_embedding``) sets the Content-Security-Policy's
  ``frame-ancestors`` for the portal. The back office and Django's admin are never framed:
  they keep ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY`` whatever the setting,
  since only the customers' portal belongs inside the vendor's product.
- ``ABONNEMENT_PRODUCT_NAME`` names the chrome; ``ABONNEMENT_ACCENT_COLOR`` is served as a
  small stylesheet (``/branding.css``), because the policy allows no inline style.
- A portal session (``accounts/portal_sessions.py``) keeps its ``return_url`` in the
  session; every portal page's top bar then links "Back to <product>" there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from abonnement.core.colours import accent_shades

# Session keys a portal session sets (``accounts/portal_sessions.py``).
SESSION_RETURN_URL = "abonnement_return_url"
SESSION_LANGUAGE = "abonnement_language"

# Pages that are never framed, whoever ABONNEMENT_FRAME_ANCESTORS allows.
UNFRAMED_PREFIXES = ("/backoffice/", "/admin/")


def portal_is_framed() -> bool:
    return list(settings.FRAME_ANCESTORS) != ["'none'"]


class FramingMiddleware:
    """Lets the portal be framed by the sources of ABONNEMENT_FRAME_ANCESTORS, and nothing
    else: with the default ``'none'`` every page keeps Django's ``X-Frame-Options: DENY``;
    otherwise portal pages drop it (older browsers would refuse the frame on it; CSP's
    ``frame-ancestors`` says who may) and the back office and the admin keep ``DENY`` and
    get ``frame-ancestors 'none'``. Runs inside ``XFrameOptionsMiddleware`` and
    ``CSPMiddleware``, which read the marks it leaves on the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not portal_is_framed():
            return response
        if request.path_info.startswith(UNFRAMED_PREFIXES):
            response._csp_replace = {"frame-ancestors": ["'none'"]}  # type: ignore[attr-defined]
        else:
            response.xframe_options_exempt = True  # type: ignore[attr-defined]
        return response


@dataclass(frozen=True)
class Branding:
    product_name: str
    # The branding stylesheet's address (versioned by the colour), or "" without an accent.
    stylesheet: str
    # Where "Back to <product>" leads: the portal session's return_url, or "".
    return_url: str


def branding(request: HttpRequest) -> dict[str, Any]:
    """Context processor: ``branding`` for the portal's chrome."""
    return_url = ""
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    if session is not None and user is not None and user.is_authenticated:
        stored = session.get(SESSION_RETURN_URL, "")
        return_url = stored if isinstance(stored, str) else ""
    stylesheet = ""
    if settings.ACCENT_COLOR:
        version = hashlib.sha256(settings.ACCENT_COLOR.encode()).hexdigest()[:12]
        stylesheet = f"{reverse('portal:branding_css')}?v={version}"
    return {
        "branding": Branding(
            product_name=settings.PRODUCT_NAME, stylesheet=stylesheet, return_url=return_url
        )
    }


def stylesheet_text(accent: str) -> str:
    if not accent:
        return "/* No ABONNEMENT_ACCENT_COLOR: the portal's own colours apply. */\n"
    shades = accent_shades(accent)
    properties = " ".join(f"--{name}: {value};" for name, value in shades.items())
    return f"/* ABONNEMENT_ACCENT_COLOR */\n:root {{ {properties} }}\n"


@require_safe
def branding_stylesheet(request: HttpRequest) -> HttpResponse:
    """``/branding.css``: the accent colour as the portal's custom properties. Its address
    carries a version of the colour, so it can be cached for a day."""
    response = HttpResponse(stylesheet_text(settings.ACCENT_COLOR), content_type="text/css")
    response["Cache-Control"] = "public, max-age=86400"
    return response
