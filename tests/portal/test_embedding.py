"""The portal inside the vendor's product: the Content-Security-Policy of every page, who may
frame which page (ABONNEMENT_FRAME_ANCESTORS), cookies that work in a third-party frame,
and the chrome's branding (ABONNEMENT_PRODUCT_NAME, ABONNEMENT_ACCENT_COLOR)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from abonnement.accounts.portal_sessions import create_portal_session
from abonnement.config.settings import _embedding, _frame_ancestors
from abonnement.core.colours import accent_color, accent_shades, contrast
from tests.conftest import NOW, VENDOR
from tests.portal.conftest import client_for

SRC = Path(__file__).resolve().parents[2] / "src" / "abonnement"
POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "form-action": "'self'",
    "base-uri": "'self'",
    "object-src": "'none'",
}
VENDOR_APP = "https://app.vendor.example"


def directives(ancestors: list[str]) -> dict[str, Any]:
    return {
        "DIRECTIVES": {
            "default-src": ["'self'"],
            "script-src": ["'self'"],
            "style-src": ["'self'"],
            "img-src": ["'self'", "data:"],
            "font-src": ["'self'"],
            "connect-src": ["'self'"],
            "form-action": ["'self'"],
            "base-uri": ["'self'"],
            "object-src": ["'none'"],
            "frame-ancestors": ancestors,
        }
    }


def policy(ancestors: str) -> dict[str, str]:
    return {**POLICY, "frame-ancestors": ancestors}


def header(response: Any) -> dict[str, str]:
    """The Content-Security-Policy header as directive → sources (in any order)."""
    parts = [part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")]
    return {name: value for name, value in parts}


# --------------------------------------------------------------------------- the settings


def test_by_default_nobody_frames_the_portal() -> None:
    assert _embedding("'none'", secure_cookies=False) == {
        "FRAME_ANCESTORS": ["'none'"],
        "CONTENT_SECURITY_POLICY": directives(["'none'"]),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
    }
    assert _embedding("", secure_cookies=True)["SESSION_COOKIE_SECURE"] is True
    assert _embedding("  ", secure_cookies=False)["FRAME_ANCESTORS"] == ["'none'"]


def test_a_vendor_that_frames_the_portal_gets_third_party_cookies() -> None:
    assert _embedding(f"{VENDOR_APP}, https://*.vendor.example:8443", secure_cookies=False) == {
        "FRAME_ANCESTORS": [VENDOR_APP, "https://*.vendor.example:8443"],
        "CONTENT_SECURITY_POLICY": directives([VENDOR_APP, "https://*.vendor.example:8443"]),
        "SESSION_COOKIE_SAMESITE": "None",
        "CSRF_COOKIE_SAMESITE": "None",
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
    }


def test_framing_by_the_portal_itself_keeps_first_party_cookies() -> None:
    settings = _embedding("self", secure_cookies=False)
    assert settings["FRAME_ANCESTORS"] == ["'self'"]
    assert (settings["SESSION_COOKIE_SAMESITE"], settings["SESSION_COOKIE_SECURE"]) == (
        "Lax",
        False,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'none'", ["'none'"]),
        ("NONE", ["'none'"]),
        ("'self' https://app.vendor.example/", ["'self'", VENDOR_APP]),
        ("https:", ["https:"]),
        ("app.vendor.example", ["app.vendor.example"]),
    ],
)
def test_frame_ancestor_sources(text: str, expected: list[str]) -> None:
    assert _frame_ancestors(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "'none' https://app.vendor.example",
        "*",
        "https://app.vendor.example/settings",
        "https://app.vendor.example; script-src *",
        "'unsafe-inline'",
        "javascript:",
    ],
)
def test_a_frame_ancestor_that_is_not_a_source_stops_the_start(text: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="ABONNEMENT_FRAME_ANCESTORS"):
        _frame_ancestors(text)


# --------------------------------------------------------------------------- the headers


@pytest.fixture
def framed(settings: Any) -> None:
    """ABONNEMENT_FRAME_ANCESTORS=https://app.vendor.example, as the settings compute it."""
    for name, value in _embedding(VENDOR_APP, secure_cookies=False).items():
        setattr(settings, name, value)


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["/sign-in/", "/backoffice/sign-in/", "/admin/login/"])
def test_every_page_has_the_policy_and_refuses_frames_by_default(address: str) -> None:
    response = Client().get(address)
    assert response.status_code == 200
    assert header(response) == policy("'none'")
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_a_signed_in_portal_page_has_the_policy(portal: Client) -> None:
    response = portal.get("/settings/subscription/")
    assert header(response) == policy("'none'")
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.django_db
def test_by_default_cookies_are_lax(org: Any, clock_at_now: None) -> None:
    client = Client()
    client.get("/sign-in/")
    assert client.cookies["csrftoken"]["samesite"] == "Lax"
    assert client.cookies["csrftoken"]["secure"] == ""


@pytest.mark.django_db
def test_the_vendor_may_frame_the_portal(framed: None, org: Any, admin_user: Any) -> None:
    client = Client()
    response = client.get("/sign-in/")
    assert header(response) == policy(VENDOR_APP)
    assert "X-Frame-Options" not in response
    assert (client.cookies["csrftoken"]["samesite"], client.cookies["csrftoken"]["secure"]) == (
        "None",
        True,
    )
    issued = create_portal_session(
        organization=org, user_id=str(admin_user.pk), actor=VENDOR, now=NOW
    )
    client.get(issued.url.removeprefix("http://127.0.0.1:8000"))
    session = client.cookies["sessionid"]
    assert (session["samesite"], session["secure"], session["httponly"]) == ("None", True, True)
    page = client.get("/settings/subscription/")
    assert page.status_code == 200
    assert header(page) == policy(VENDOR_APP)
    assert "X-Frame-Options" not in page


@pytest.mark.django_db
@pytest.mark.parametrize("address", ["/backoffice/sign-in/", "/admin/login/"])
def test_the_back_office_and_the_admin_are_never_framed(framed: None, address: str) -> None:
    response = Client().get(address)
    assert header(response) == policy("'none'")
    assert response["X-Frame-Options"] == "DENY"


def inline_code(text: str) -> list[str]:
    """Inline scripts, style elements and attributes, event handlers: what the policy
    refuses."""
    found = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text)
    found += re.findall(r"<style\b[^>]*>", text)
    found += re.findall(r"\sstyle=", text)
    found += re.findall(r"\son[a-z]+=", text)
    found += re.findall(r"\shx-on[:-]", text)
    found += re.findall(r"javascript:", text)
    return found


def test_no_template_has_inline_code() -> None:
    offenders = {}
    for template in SRC.rglob("templates/**/*.html"):
        found = inline_code(template.read_text())
        if found:
            offenders[str(template.relative_to(SRC))] = found
    assert offenders == {}


@pytest.mark.django_db
def test_rendered_pages_have_no_inline_code(portal: Client) -> None:
    for address in ("/settings/subscription/", "/settings/users/", "/account/profile/"):
        assert inline_code(portal.get(address).content.decode()) == [], address


@pytest.mark.django_db
def test_htmx_adds_no_style_element_of_its_own(portal: Client) -> None:
    page = portal.get("/settings/").content.decode()
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>""" in page


# --------------------------------------------------------------------------- branding


def test_an_accent_colour_must_be_dark_enough_for_text_on_white() -> None:
    assert accent_color("") == ""
    assert accent_color(" #7A1F5C ") == "#7a1f5c"
    with pytest.raises(ValueError, match=r"expected a colour as #rrggbb .*, not 'red'"):
        accent_color("red")
    with pytest.raises(ValueError, match="not '#7a1f5'"):
        accent_color("#7a1f5")
    with pytest.raises(
        ValueError,
        match=r"#ffcc00 has a contrast of 1\.\d\d:1 with white; links and button labels need "
        r"4\.5:1, so choose a darker shade",
    ):
        accent_color("#FFCC00")


def test_the_shades_of_an_accent() -> None:
    assert accent_shades("#7a1f5c") == {
        "accent": "#7a1f5c",
        "accent-dark": "#5f1848",
        "accent-soft": "#f2e9ef",
        "focus": "#7a1f5c",
    }
    # The darker shade keeps its contrast too.
    assert contrast(accent_shades("#0b57a4")["accent-dark"], "#ffffff") > 4.5


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("blue", "ABONNEMENT_ACCENT_COLOR: expected a colour as #rrggbb"),
        ("#eeeeee", "ABONNEMENT_ACCENT_COLOR: #eeeeee has a contrast of 1.16:1 with white"),
    ],
)
def test_a_bad_accent_colour_stops_the_start(tmp_path: Path, value: str, message: str) -> None:
    environment = {
        **os.environ,
        "ABONNEMENT_ACCENT_COLOR": value,
        "ABONNEMENT_DATA_DIR": str(tmp_path),
        "ABONNEMENT_SECRET_KEY": "x" * 50,
    }
    started = subprocess.run(
        [sys.executable, "-c", "import abonnement.config.settings"],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert started.returncode == 1
    assert f"django.core.exceptions.ImproperlyConfigured: {message}" in started.stderr


@pytest.mark.django_db
def test_the_accent_colour_is_served_as_a_stylesheet(portal: Client, settings: Any) -> None:
    settings.ACCENT_COLOR = "#7a1f5c"
    page = portal.get("/settings/subscription/").content.decode()
    assert '<link rel="stylesheet" href="/branding.css?v=' in page
    address = re.search(r'href="(/branding\.css\?v=[0-9a-f]{12})"', page)
    assert address is not None
    stylesheet = Client().get(address.group(1))
    assert stylesheet.status_code == 200
    assert stylesheet["Content-Type"] == "text/css"
    assert stylesheet["Cache-Control"] == "public, max-age=86400"
    assert stylesheet.content.decode() == (
        "/* ABONNEMENT_ACCENT_COLOR */\n"
        ":root { --accent: #7a1f5c; --accent-dark: #5f1848; --accent-soft: #f2e9ef; "
        "--focus: #7a1f5c; }\n"
    )
    # Another colour, another address: a cached stylesheet is never the wrong one.
    settings.ACCENT_COLOR = "#0b57a4"
    again = portal.get("/settings/subscription/").content.decode()
    assert address.group(1) not in again


@pytest.mark.django_db
def test_without_an_accent_colour_there_is_no_branding_stylesheet(portal: Client) -> None:
    assert "/branding.css" not in portal.get("/settings/subscription/").content.decode()
    assert Client().get("/branding.css").content.decode() == (
        "/* No ABONNEMENT_ACCENT_COLOR: the portal's own colours apply. */\n"
    )
    assert Client().post("/branding.css").status_code == 405


@pytest.mark.django_db
def test_the_product_name_brands_the_chrome(org: Any, clock_at_now: None, settings: Any) -> None:
    settings.PRODUCT_NAME = "Acme Books"
    page = Client().get("/sign-in/").content.decode()
    assert "<title>Sign in · Acme Books</title>" in page
    assert "<span>Acme Books</span>" in page
    settings.PRODUCT_NAME = "Abonnement"
    default = client_for(org.users.get()).get("/settings/").content.decode()
    assert "<span>Abonnement</span>" in default
