"""Company settings, API tokens and the help panel's feedback."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from abonnement.accounts.models import ApiToken
from abonnement.feedback.models import Feedback
from abonnement.organizations.models import Organization

pytestmark = pytest.mark.django_db


class TestCompany:
    def test_rename_with_history(self, portal: Client, org: Any) -> None:
        response = portal.post("/settings/company/", {"name": "Testi Group Oy"}, follow=True)
        body = response.content.decode()
        assert "The company name has been saved." in body
        assert Organization.objects.get(pk=org.pk).name == "Testi Group Oy"
        assert '<td data-label="Before">Testi Oy</td>' in body
        assert "FI23456780" in body and "contract transfer document" in body

    def test_empty_name_is_refused(self, portal: Client, org: Any) -> None:
        body = portal.post("/settings/company/", {"name": "  "}).content.decode()
        assert "This field is required." in body
        assert Organization.objects.get(pk=org.pk).name == "Testi Oy"


class TestTokens:
    def test_created_token_is_shown_once(self, portal: Client, org: Any) -> None:
        response = portal.post(
            "/settings/api-tokens/", {"name": "Payroll sync", "scopes": ["read"]}, follow=True
        )
        body = response.content.decode()
        token = ApiToken.objects.get(organization=org)
        assert "shown only once" in body
        assert f'<p class="secret" aria-label="The new token">{token.prefix}' in body
        again = portal.get("/settings/api-tokens/").content.decode()
        assert "shown only once" not in again and "Payroll sync" in again

    def test_scopes_are_needed(self, portal: Client, org: Any) -> None:
        body = portal.post("/settings/api-tokens/", {"name": "X"}).content.decode()
        assert "Choose read, write or both." in body
        assert ApiToken.objects.count() == 0

    def test_revoke(self, portal: Client, org: Any) -> None:
        portal.post("/settings/api-tokens/", {"name": "Old", "scopes": ["read", "write"]})
        token = ApiToken.objects.get(organization=org)
        response = portal.post(f"/settings/api-tokens/{token.pk}/revoke/", follow=True)
        assert "has been revoked" in response.content.decode()
        token.refresh_from_db()
        assert token.revoked_at is not None
        assert portal.get(f"/settings/api-tokens/{token.pk}/revoke/").status_code == 405


class TestFeedback:
    def test_answer_is_stored_for_customer_service(self, portal: Client, org: Any) -> None:
        response = portal.post(
            "/feedback/",
            {
                "page": "portal:licenses",
                "helpful": "no",
                "text": "I could not find storage.",
                "next": "/settings/subscription/licences/",
            },
        )
        assert response["Location"] == "/settings/subscription/licences/"
        feedback = Feedback.objects.get()
        assert (feedback.page, feedback.helpful, feedback.text, feedback.user_name) == (
            "portal:licenses",
            False,
            "I could not find storage.",
            "Anna Admin",
        )
        assert feedback.organization_id == org.pk

    def test_htmx_swaps_in_the_thanks(self, portal: Client) -> None:
        body = portal.post(
            "/feedback/", {"page": "portal:overview", "helpful": "yes"}, HTTP_HX_REQUEST="true"
        ).content.decode()
        assert "Thank you." in body and "<html" not in body
        assert Feedback.objects.get().helpful is True

    def test_an_answer_is_needed(self, portal: Client) -> None:
        body = portal.post(
            "/feedback/", {"page": "portal:overview", "text": "hm"}, HTTP_HX_REQUEST="true"
        ).content.decode()
        assert "Choose Yes or No." in body
        assert Feedback.objects.count() == 0

    def test_next_must_stay_on_this_site(self, portal: Client) -> None:
        response = portal.post(
            "/feedback/",
            {"page": "portal:overview", "helpful": "yes", "next": "https://evil.example/"},
        )
        assert response["Location"] == "/"

    @pytest.mark.parametrize("target", ["portal", "settings", "//evil.example/x", "", "/users/"])
    def test_a_next_that_is_no_path_here_goes_home(self, portal: Client, target: str) -> None:
        # "portal" is no path: Django's redirect() would look it up as a URL name (a 500).
        response = portal.post(
            "/feedback/", {"page": "portal:overview", "helpful": "yes", "next": target}
        )
        assert response.status_code == 302
        assert response["Location"] == ("/users/" if target == "/users/" else "/")

    def test_anonymous_cannot_send(self, client: Client, db: Any) -> None:
        response = client.post("/feedback/", {"page": "x", "helpful": "yes"})
        assert response.status_code == 302
        assert Feedback.objects.count() == 0
