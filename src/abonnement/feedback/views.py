"""The help panel's "Was this helpful?" answers."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from abonnement.accounts.portal import Portal, portal_page
from abonnement.core import clock
from abonnement.core.errors import DomainError
from abonnement.core.redirects import back_to
from abonnement.feedback.services import submit_feedback


@require_POST
@portal_page()
def submit(request: HttpRequest, portal: Portal) -> HttpResponse:
    answer = request.POST.get("helpful")
    error = ""
    try:
        submit_feedback(
            page=request.POST.get("page", ""),
            helpful={"yes": True, "no": False}.get(answer or ""),
            text=request.POST.get("text", ""),
            language=get_language() or "",
            actor=portal.actor,
            now=clock.now(),
        )
    except DomainError as refusal:
        error = refusal.errors[0].message if refusal.errors else refusal.message
    if getattr(request, "htmx", False):
        return render(
            request,
            "portal/_feedback.html",
            {"feedback_sent": not error, "feedback_error": error},
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Thank you. Your feedback goes to our customer service."))
    return back_to(request, request.POST.get("next"), "/")
