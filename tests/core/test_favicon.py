"""The favicon: linked from the portal's and the back office's pages, and /favicon.ico, which
browsers ask for on their own, is no 404."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db

ICON = '<link rel="icon" href="/static/portal/favicon.svg" type="image/svg+xml">'


def test_favicon_ico_leads_to_the_svg_icon(client: Any) -> None:
    response = client.get("/favicon.ico")
    assert (response.status_code, response["Location"]) == (301, "/static/portal/favicon.svg")
    icon = client.get("/static/portal/favicon.svg")
    assert (icon.status_code, icon["Content-Type"]) == (200, "image/svg+xml")
    body = b"".join(icon.streaming_content)
    assert body.startswith(b'<svg xmlns="http://www.w3.org/2000/svg"')


@pytest.mark.parametrize("url", ["/sign-in/", "/backoffice/sign-in/"])
def test_the_portal_and_the_back_office_link_the_icon(client: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count(ICON) == 1
