"""Features and integrations (PRODUCT.md section 3)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from abonnement.features.models import FeatureSwitch
from abonnement.history.models import HistoryEntry
from abonnement.orders.models import Order
from tests.conftest import NOW, admin_of, make_organization
from tests.portal.conftest import client_for

pytestmark = pytest.mark.django_db


def enabled(org: Any) -> set[str]:
    return set(
        FeatureSwitch.objects.filter(organization=org, enabled=True).values_list(
            "feature__code", flat=True
        )
    )


def test_list_shows_each_state_in_two_groups(portal: Client) -> None:
    body = portal.get("/settings/subscription/features/").content.decode()
    assert body.index(">Features<") < body.index(">Integrations<")
    assert "Included in your edition" in body
    assert "Paid add-on, €8.00 a month" in body  # sso in Pro
    assert 'role="switch" aria-checked="true" aria-labelledby="f-reports-name"' in body
    assert 'role="switch" aria-checked="false" aria-labelledby="f-sso-name"' in body
    assert "Requires Single sign-on" in body  # scim requires sso


def test_unavailable_feature_says_where_it_is(portal: Client, catalog: None) -> None:
    other = make_organization(name="Basic Oy", admin_email="b@basic.example", edition="basic")
    body = client_for(admin_of(other).user).get("/settings/subscription/features/").content.decode()
    assert "Not in your edition" in body
    assert "Available in Pro, Enterprise" in body


def test_switching_off_asks_first_and_says_it_affects_everybody(portal: Client, org: Any) -> None:
    body = portal.get("/settings/subscription/features/slack/?enabled=off").content.decode()
    assert "Switch Slack off?" in body
    assert "This affects everybody in your organisation" in body
    assert "slack" in enabled(org)


def test_switch_off_and_see_it_in_the_action_history(portal: Client, org: Any) -> None:
    response = portal.post(
        "/settings/subscription/features/slack/",
        {"enabled": "off", "reason": "We use Teams"},
        follow=True,
    )
    assert "Slack is now off for everybody in your organisation." in response.content.decode()
    assert "slack" not in enabled(org)
    entry = HistoryEntry.objects.get(organization=org, kind="features")
    assert (entry.action, entry.subject, entry.reason, entry.channel) == (
        "disabled",
        "slack",
        "We use Teams",
        "portal",
    )
    history = portal.get("/settings/subscription/history/?show=features").content.decode()
    assert "Slack switched off" in history
    assert "We use Teams" in history and "Anna Admin" in history and "Portal" in history


def test_paid_add_on_shows_the_preview_then_buys(portal: Client, org: Any) -> None:
    body = portal.get("/settings/subscription/features/sso/?enabled=on").content.decode()
    # 1 × 8.00 × 6 × 167 / 181 = 44.29
    assert "€44.29" in body and "Switch on and pay €44.29" in body
    assert Order.objects.filter(organization=org, kind="add_on").count() == 0
    portal.post("/settings/subscription/features/sso/", {"enabled": "on"})
    order = Order.objects.get(organization=org, kind="add_on")
    assert order.total == Decimal("44.29")
    assert "sso" in enabled(org)


def test_required_feature_refusal_names_the_dependant(portal: Client, org: Any) -> None:
    from abonnement.features.services import set_feature_enabled

    for code in ("sso", "scim"):
        set_feature_enabled(organization=org, code=code, enabled=True, actor=admin_of(org), now=NOW)
    before = HistoryEntry.objects.count()
    response = portal.post("/settings/subscription/features/sso/", {"enabled": "off"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "SCIM needs Single sign-on; switch that off first." in body
    assert {"sso", "scim"} <= enabled(org)
    assert HistoryEntry.objects.count() == before


def test_the_confirmation_says_at_once_that_a_required_feature_stays_on(
    portal: Client, org: Any
) -> None:
    from abonnement.features.services import set_feature_enabled

    for code in ("sso", "scim"):
        set_feature_enabled(organization=org, code=code, enabled=True, actor=admin_of(org), now=NOW)
    before = HistoryEntry.objects.count()
    body = portal.get(
        "/settings/subscription/features/sso/?enabled=off", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "SCIM needs Single sign-on; switch that off first." in body
    assert 'method="post"' not in body  # nothing to confirm
    assert {"sso", "scim"} <= enabled(org)
    assert HistoryEntry.objects.count() == before
    # Switching SCIM off first is offered as usual.
    body = portal.get(
        "/settings/subscription/features/scim/?enabled=off", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'method="post"' in body and "switch that off first" not in body


def test_switching_on_needs_its_requirement(portal: Client, org: Any) -> None:
    body = portal.get("/settings/subscription/features/scim/?enabled=on").content.decode()
    assert "SCIM needs Single sign-on; switch that on first." in body


def test_confirmation_as_dialog_fragment(portal: Client) -> None:
    body = portal.get(
        "/settings/subscription/features/slack/?enabled=off", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in body and 'id="dialog-title"' in body


class TestMarketplace:
    @pytest.fixture
    def market(self, catalog: None, clock_at_now: None) -> Any:
        return make_organization(
            name="Markt Oy",
            admin_email="m@markt.example",
            purchase_channel={"type": "marketplace", "name": "PM", "url": "https://pm.example/"},
        )

    def test_included_features_still_switch(self, market: Any) -> None:
        client = client_for(admin_of(market).user)
        client.post("/settings/subscription/features/slack/", {"enabled": "off"})
        assert "slack" not in enabled(market)

    def test_paid_add_ons_are_read_only(self, market: Any) -> None:
        client = client_for(admin_of(market).user)
        body = client.get("/settings/subscription/features/").content.decode()
        assert 'aria-describedby="f-sso-state" disabled' in body
        response = client.post("/settings/subscription/features/sso/", {"enabled": "on"})
        assert "bought through PM" in response.content.decode()
        assert "sso" not in enabled(market)
        assert Order.objects.filter(organization=market, kind="add_on").count() == 0


def test_a_too_long_reason_is_named_as_the_problem(
    portal: Client, org: Any, admin_user: Any
) -> None:
    response = portal.post(
        "/settings/subscription/features/slack/", {"enabled": "off", "reason": "x" * 501}
    )
    body = response.content.decode()
    assert (
        '<div class="notice notice-error" role="alert"><p>The reason can be at most 500 characters'
        " long; it has 501.</p></div>" in body
    )
    assert "Choose on or off." not in body
    assert "slack" in enabled(org)

    admin_user.language = "nl"
    admin_user.save(update_fields=["language"])
    body = portal.post(
        "/settings/subscription/features/slack/", {"enabled": "off", "reason": "x" * 1500}
    ).content.decode()
    assert "De reden mag hoogstens 500 tekens lang zijn; deze heeft er 1.500." in body


def test_a_missing_switch_position_is_named_as_the_problem(portal: Client, org: Any) -> None:
    body = portal.post("/settings/subscription/features/slack/", {"reason": "ok"}).content.decode()
    assert '<div class="notice notice-error" role="alert"><p>Choose on or off.</p></div>' in body
    assert "slack" in enabled(org)
