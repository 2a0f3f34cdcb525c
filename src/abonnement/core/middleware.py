"""A rule's refusal that a page did not handle itself is shown, never a server error."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

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
        response = self.get_response(request)
        if response.status_code == 405 and not response.content and _is_page(request):
            # An address that only takes a form's submission, opened as a link (a bookmark,
            # a reload after a redirect): a page saying so, not an empty answer.
            page = self._page(
                request,
                _(
                    "This address only takes a form's submission. Go back and use the "
                    "page's button."
                ),
                status=405,
            )
            page["Allow"] = response.get("Allow", "")
            return page
        return response

    @staticmethod
    def _page(request: HttpRequest, message: str, *, status: int) -> HttpResponse:
        template = (
            "backoffice/problem.html"
            if request.path.startswith("/backoffice/")
            else "portal/problem.html"
        )
        return render(request, template, {"message": message}, status=status)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        logger.warning(
            "%s %s refused: %s (%s)", request.method, request.path, exception, exception.code
        )
        return self._page(request, exception.message, status=exception.status)


def _is_page(request: HttpRequest) -> bool:
    """A portal or back-office page: the API and Django's admin answer for themselves."""
    return not request.path.startswith(("/api/", "/admin/", "/static/"))
