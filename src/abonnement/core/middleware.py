"""A rule's refusal that a page did not handle itself is shown, never a server error."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from abonnement.core.errors import DomainError

logger = logging.getLogger("abonnement.pages")


class DomainErrorPage:
    """Pages catch the refusals they expect and show them beside the form; one they did not
    expect (a catalogue without a price for this organisation, say) becomes a page with the
    refusal's own status and message instead of a 500. The API has its own problem+json
    handler and is left to it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        logger.warning(
            "%s %s refused: %s (%s)", request.method, request.path, exception, exception.code
        )
        template = (
            "backoffice/problem.html"
            if request.path.startswith("/backoffice/")
            else "portal/problem.html"
        )
        return render(request, template, {"message": exception.message}, status=exception.status)
