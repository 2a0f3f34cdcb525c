"""Where a form sends the browser back to, from a ``next`` value the browser sent."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme


def back_to(request: HttpRequest, target: object, default: str) -> HttpResponseRedirect:
    """A redirect to ``target`` if it is a path on this site ("/settings/…"), otherwise to
    ``default``: never to another site, and never a value Django's ``redirect()`` would
    take for a URL name to look up (a tampered "next" must not become a 500)."""
    text = target if isinstance(target, str) else ""
    if not (
        text.startswith("/")
        and url_has_allowed_host_and_scheme(
            text, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        text = default
    return HttpResponseRedirect(text)
