"""What a page shows when it cannot do what was asked: a rule's refusal the page did not
expect is shown with its status and message; an unknown page is a 404 in the portal's
layout; a server error is a page of our own that says nothing was changed."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from abonnement.catalog.models import Price
from tests.backoffice.conftest import make_staff, signed_in
from tests.conftest import admin_of, make_organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def unpriced(catalog: None, clock_at_now: None) -> Any:
    """A Swedish organisation whose next period the catalogue cannot price any more."""
    org = make_organization(
        name="Svensk AB",
        vat_number="SE556036079301",
        country="SE",
        currency="SEK",
        admin_email="admin@svensk.example",
    )
    Price.objects.filter(product="license:pro", currency="SEK").delete()
    return org


def test_the_portal_shows_a_refusal_it_did_not_expect(unpriced: Any) -> None:
    client = Client()
    client.force_login(admin_of(unpriced).user)
    response = client.get("/settings/subscription/")
    assert response.status_code == 422
    page = response.content.decode()
    assert "<h1>This could not be done</h1>" in page
    assert "The price list has no SEK price for license:pro." in page
    assert 'href="/"' in page


def test_the_back_office_shows_it_in_its_own_layout(unpriced: Any) -> None:
    client = signed_in(make_staff("support"))
    response = client.get(f"/backoffice/organizations/{unpriced.pk}/")
    assert response.status_code == 422
    page = response.content.decode()
    assert "The price list has no SEK price for license:pro." in page
    assert 'href="/backoffice/"' in page


@pytest.mark.parametrize(
    ("language", "title"),
    [("en", "Page not found"), ("nl", "Pagina niet gevonden"), ("fi", "Sivua ei löydy")],
)
def test_an_unknown_page_is_a_404_in_the_portals_layout(
    language: str, title: str, settings: Any, db: Any
) -> None:
    settings.DEBUG = False
    response = Client(headers={"accept-language": language}).get("/no/such/page/")
    assert response.status_code == 404
    assert f"<h1>{title}</h1>" in response.content.decode()


def test_a_server_error_is_our_own_page(settings: Any, db: Any) -> None:
    from django.test import RequestFactory
    from django.views.defaults import server_error

    request = RequestFactory().get("/")
    with translation.override("fi"):
        response = server_error(request)
    assert response.status_code == 500
    page = response.content.decode()
    assert "<h1>Jotain meni vikaan</h1>" in page
    assert "Mitään ei muutettu." in page


def test_a_form_only_address_opened_as_a_link_is_a_page(catalog: None) -> None:
    org = make_organization()
    client = Client()
    client.force_login(admin_of(org).user)
    response = client.get("/feedback/")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    page = response.content.decode()
    assert "<h1>This could not be done</h1>" in page
    assert "This address only takes a form&#x27;s submission." in page


def test_the_back_office_says_it_in_its_own_layout(catalog: None) -> None:
    import uuid

    client = signed_in(make_staff("billing"))
    response = client.get(f"/backoffice/deliveries/{uuid.uuid4()}/retry/")
    assert response.status_code == 405
    assert "This address only takes a form&#x27;s submission." in response.content.decode()


def test_the_api_keeps_its_own_405(catalog: None) -> None:
    response = Client().delete("/api/v1/catalog")
    assert response.status_code == 405
    assert response["Content-Type"] == "application/problem+json"
