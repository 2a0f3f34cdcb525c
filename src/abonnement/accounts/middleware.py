"""Speak the signed-in user's chosen language; otherwise the browser's (LocaleMiddleware).

A portal-session link may name a language for its session (``views_portal_session.py``):
that one wins for the session, until the user saves another language in their profile.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from abonnement.core.embedding import SESSION_LANGUAGE


class UserLanguageMiddleware:
    """Runs after AuthenticationMiddleware: a user's profile language wins over the browser,
    and a portal session's language over the profile's."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.languages = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            language = self._session_language(request, user) or getattr(user, "language", "")
            if language in self.languages:
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)

    def _session_language(self, request: HttpRequest, user: Any) -> str:
        """The portal session's language, while the profile's is still the one it was made
        over (saving a language in the profile ends it)."""
        chosen = request.session.get(SESSION_LANGUAGE)
        if not isinstance(chosen, dict):
            return ""
        language = chosen.get("language")
        if chosen.get("profile") != getattr(user, "language", "") or language not in self.languages:
            request.session.pop(SESSION_LANGUAGE, None)
            return ""
        return str(language)
