"""A form left open across a sign-out and a new sign-in (issue 18, item 2): signing in again
gives the browser a new CSRF token, so the old form's submission is refused. The refusal is
a page in the portal's (or the back office's) layout that says what happened and leads back
to the form, with status 403, never Django's technical "CSRF verification failed" page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from abonnement.subscriptions.models import Subscription
from tests.backoffice.conftest import make_staff
from tests.conftest import make_organization

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery 7"
STAFF_PASSWORD = "staff-password-2026"
EXPIRED = (
    "This form was open from an earlier sign-in, so it was not accepted and nothing was "
    "changed. Open the form again and make your changes once more."
)


def form_token(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match is not None
    return match.group(1)


def technical_page_absent(page: str) -> None:
    assert "DEBUG" not in page
    assert "CSRF verification failed" not in page


@pytest.fixture
def customer(catalog: None, clock_at_now: None, settings: Any) -> Any:
    settings.DEBUG = True  # Django's own page would then show its DEBUG help text
    return make_organization(admin_password=PASSWORD)


def portal_sign_in(client: Client) -> None:
    page = client.get("/sign-in/").content.decode()
    response = client.post(
        "/sign-in/",
        {
            "username": "admin@testi.example",
            "password": PASSWORD,
            "csrfmiddlewaretoken": form_token(page),
        },
    )
    assert response.status_code == 302


def test_a_stale_portal_form_after_signing_in_again(customer: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    portal_sign_in(client)
    form = client.get("/settings/subscription/licences/").content.decode()
    stale = form_token(form)
    # Another tab: sign out and in again, which rotates the CSRF token.
    settings_page = client.get("/settings/").content.decode()
    assert (
        client.post("/sign-out/", {"csrfmiddlewaretoken": form_token(settings_page)}).status_code
        == 302
    )
    portal_sign_in(client)
    before = Subscription.objects.values_list("licenses", "licenses_next").get()

    response = client.post(
        "/settings/subscription/licences/",
        {"licenses": "12", "csrfmiddlewaretoken": stale},
        HTTP_REFERER="http://testserver/settings/subscription/licences/",
    )

    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>This form has expired</h1>" in page
    assert EXPIRED in page
    assert '<a class="button" href="/settings/subscription/licences/">Back to the form</a>' in page
    assert 'class="topbar"' in page  # the portal's layout, with its top bar
    technical_page_absent(page)
    assert Subscription.objects.values_list("licenses", "licenses_next").get() == before


def test_the_page_is_translated(customer: Any) -> None:
    client = Client(enforce_csrf_checks=True, headers={"accept-language": "fi"})
    client.get("/sign-in/")
    response = client.post(
        "/sign-in/", {"username": "x", "password": "y", "csrfmiddlewaretoken": "0" * 64}
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert '<html lang="fi">' in page
    technical_page_absent(page)


@pytest.mark.parametrize(
    "referer",
    ["https://evil.example/settings/", "javascript:alert(1)", "//evil.example/", ""],
)
def test_a_referer_elsewhere_leads_to_the_start_page(customer: Any, referer: str) -> None:
    client = Client(enforce_csrf_checks=True)
    portal_sign_in(client)
    headers = {"referer": referer} if referer else {}
    response = client.post("/settings/subscription/licences/", {"licenses": "12"}, headers=headers)
    assert response.status_code == 403
    page = response.content.decode()
    assert '<a class="button" href="/">Back to the start page</a>' in page
    technical_page_absent(page)


def test_a_stale_back_office_form_after_signing_in_again(customer: Any, settings: Any) -> None:
    settings.STAFF_MFA = False
    make_staff("billing")
    client = Client(enforce_csrf_checks=True)

    def sign_in() -> None:
        page = client.get("/backoffice/sign-in/").content.decode()
        response = client.post(
            "/backoffice/sign-in/",
            {
                "username": "billing@vendor.example",
                "password": STAFF_PASSWORD,
                "csrfmiddlewaretoken": form_token(page),
            },
        )
        assert response.status_code == 302

    sign_in()
    path = f"/backoffice/organizations/{customer.pk}/"
    stale = form_token(client.get(path).content.decode())
    assert client.post("/backoffice/sign-out/", {"csrfmiddlewaretoken": stale}).status_code == 302
    sign_in()
    before = Subscription.objects.values_list("next_edition_id").get()

    response = client.post(
        f"{path}edition/",
        {"edition": "enterprise", "csrfmiddlewaretoken": stale},
        HTTP_REFERER=f"http://testserver{path}",
    )

    assert response.status_code == 403
    page = response.content.decode()
    assert "<h1>This form has expired</h1>" in page
    assert EXPIRED in page
    assert f'<a class="button" href="{path}">Back to the form</a>' in page
    assert "Back office" in page and 'class="bar"' in page  # the back office's layout
    technical_page_absent(page)
    assert Subscription.objects.values_list("next_edition_id").get() == before


def test_a_form_sent_without_the_cookie_says_so(customer: Any) -> None:
    response = Client(enforce_csrf_checks=True).post(
        "/sign-in/", {"username": "admin@testi.example", "password": PASSWORD}
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert "Your browser did not send this site's cookie with the form" in page
    technical_page_absent(page)
