"""The demo's portal-session link is made through the API and signs its user in once."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from abonnement.demo.links import portal_session_link

pytestmark = pytest.mark.django_db


def test_the_link_signs_the_administrator_in_once(org: Any, settings: Any) -> None:
    settings.PUBLIC_URL = "http://demo.example:8000"
    settings.SIMULATED_CLOCK = False
    link = portal_session_link(email="admin@testi.example")
    assert link.startswith("http://demo.example:8000/portal-session/")
    path = link.removeprefix("http://demo.example:8000")

    browser = Client()
    first = browser.get(path)
    assert (first.status_code, first["Location"]) == (302, "/settings/subscription/")
    assert browser.get("/settings/subscription/").status_code == 200
    again = Client().get(path)
    assert again.status_code == 410


def test_a_refusal_says_what_the_api_answered(org: Any) -> None:
    from abonnement.accounts.models import User

    User.objects.filter(email="admin@testi.example").update(is_active=False)
    with pytest.raises(RuntimeError, match="portal-sessions answered 409"):
        portal_session_link(email="admin@testi.example")
