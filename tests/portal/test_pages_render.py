"""Every portal page renders for an administrator (a smoke test over the whole map)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PAGES = [
    "/settings/",
    "/settings/subscription/",
    "/settings/subscription/licences/",
    "/settings/subscription/licences/confirm/?licenses=13",
    "/settings/subscription/storage/confirm/?extra_packs=2",
    "/settings/subscription/edition/",
    "/settings/subscription/features/",
    "/settings/subscription/features/sso/?enabled=on",
    "/settings/subscription/features/reports/?enabled=off",
    "/settings/subscription/billing/",
    "/settings/subscription/history/",
    "/settings/subscription/history/?show=all",
    "/settings/subscription/history/?show=invoices",
    "/settings/subscription/history/?show=features",
    "/settings/users/",
    "/settings/users/new/",
    "/settings/company/",
    "/settings/api-tokens/",
    "/account/profile/",
    "/account/password/",
]


@pytest.mark.parametrize("url", PAGES)
def test_page_renders_for_an_administrator(portal: Client, url: str) -> None:
    response = portal.get(url)
    assert response.status_code == 200, response.content[:2000]
    body = response.content.decode()
    assert "Was this helpful?" in body
    # Nothing is loaded from another host: no absolute script, style or image addresses.
    assert re.findall(r'(?:src|href)="(?:https?:)?//[^"]*"', body) == []


@pytest.mark.parametrize("url", ["/settings/users/{id}/", "/settings/users/{id}/deactivate/"])
def test_user_pages_render(portal: Client, admin_user: Any, url: str) -> None:
    response = portal.get(url.format(id=admin_user.pk))
    assert response.status_code == 200
