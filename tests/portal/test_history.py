"""History: order confirmations, action history, change log; filtered and paginated."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from abonnement.orders.models import Order
from tests.conftest import NOW, admin_of

pytestmark = pytest.mark.django_db


def test_order_confirmations_are_listed(portal: Client, org: Any) -> None:
    renewal = Order.objects.get(organization=org)
    body = portal.get("/settings/subscription/history/").content.decode()
    assert f"<strong>{renewal.number}</strong>" in body
    assert "User licences, Pro × 60 (quantity × months)" in body
    assert "€1,200.00" in body
    # The worker has not issued the documents yet: a status, no dead links.
    assert "Being prepared" in body
    assert "confirmation.pdf" not in body and "/resend/" not in body


def test_change_log_shows_who_when_channel_and_values(portal: Client, org: Any) -> None:
    from abonnement.subscriptions.services import set_license_count

    set_license_count(organization=org, licenses=8, actor=admin_of(org), now=NOW)
    body = portal.get("/settings/subscription/history/?show=licenses").content.decode()
    assert "User licences for the next period: 10 → 8" in body
    assert "15 Jan 2027 12:00" in body  # NOW in Helsinki
    assert "Anna Admin" in body and "Portal" in body
    assert "&quot;next&quot;: 8" in body


def test_filter_and_pagination(portal: Client, org: Any) -> None:
    from abonnement.features.services import set_feature_enabled

    actor = admin_of(org)
    for index in range(26):
        set_feature_enabled(
            organization=org, code="slack", enabled=index % 2 == 1, actor=actor, now=NOW
        )
    first = portal.get("/settings/subscription/history/?show=features").content.decode()
    assert "Page 1 of 2" in first
    assert first.count("Slack switched") == 25
    second = portal.get("/settings/subscription/history/?show=features&page=2").content.decode()
    assert "Page 2 of 2" in second and second.count("Slack switched") == 1
    assert "Order confirmations" not in second.split("<select")[0]
    licences = portal.get("/settings/subscription/history/?show=licenses").content.decode()
    assert "Slack switched" not in licences


def test_unknown_filter_falls_back_to_orders(portal: Client) -> None:
    body = portal.get("/settings/subscription/history/?show=secrets").content.decode()
    assert "Order confirmations" in body


def test_filter_as_fragment(portal: Client) -> None:
    body = portal.get(
        "/settings/subscription/history/?show=all", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in body and "Change log" in body


def test_query_count_does_not_grow_with_orders(
    portal: Client, org: Any, django_assert_max_num_queries: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from abonnement.subscriptions.services import set_license_count

    with CaptureQueriesContext(connection) as few:
        portal.get("/settings/subscription/history/")
    for count in range(11, 16):
        set_license_count(organization=org, licenses=count, actor=admin_of(org), now=NOW)
    with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as many:
        portal.get("/settings/subscription/history/")
    assert len(many) == len(few)


# --------------------------------------------------------------------------- formatting

ROLLOVER_AT = datetime(2027, 7, 1, 0, 30, tzinfo=UTC)  # 03:30 on 1 July in Helsinki


def _in_language(admin_user: Any, language: str) -> None:
    admin_user.language = language
    admin_user.save(update_fields=["language"])


@pytest.mark.parametrize(
    "language,texts",
    [
        (
            "en",
            [
                "Order 2 placed: €332.15",
                "New billing period 1 Jul 2027 – 31 Dec 2027: €1,638.00",
                "Reminder about the next period created: from 1 Jul 2027",
            ],
        ),
        (
            "nl",
            [
                "Order 2 geplaatst: €\xa0332,15",
                "Nieuwe factureringsperiode 1 jul 2027 – 31 dec 2027: €\xa01.638,00",
                "Herinnering over de volgende periode aangemaakt: vanaf 1 jul 2027",
            ],
        ),
        (
            "fi",
            [
                "Tilaus 2 tehty: 332,15\xa0€",
                "Uusi laskutuskausi 1.7.2027 – 31.12.2027: 1\xa0638,00\xa0€",
                "Muistutus seuraavasta kaudesta luotu: alkaa 1.7.2027",
            ],
        ),
    ],
)
def test_change_log_money_and_dates_are_in_the_users_language(
    portal: Client, org: Any, admin_user: Any, language: str, texts: list[str]
) -> None:
    from abonnement.invoicing.services import send_period_reminders
    from abonnement.subscriptions.rollover import roll_over_subscriptions
    from abonnement.subscriptions.services import set_license_count

    set_license_count(organization=org, licenses=13, actor=admin_of(org), now=NOW)
    assert send_period_reminders(now=datetime(2027, 6, 25, 10, 0, tzinfo=UTC), days=7) == 1
    assert roll_over_subscriptions(now=ROLLOVER_AT).transitions == 1
    _in_language(admin_user, language)
    body = portal.get("/settings/subscription/history/?show=all").content.decode()
    for text in texts:
        assert text in body


def test_change_log_counts_are_in_the_users_language(
    portal: Client, org: Any, admin_user: Any
) -> None:
    from abonnement.subscriptions.services import set_license_count

    set_license_count(organization=org, licenses=1200, actor=admin_of(org), now=NOW)
    set_license_count(organization=org, licenses=1000, actor=admin_of(org), now=NOW)
    set_license_count(organization=org, licenses=1200, actor=admin_of(org), now=NOW)
    _in_language(admin_user, "fi")
    body = portal.get("/settings/subscription/history/?show=licenses").content.decode()
    assert "Käyttäjälisenssejä ostettu: 10 → 1\xa0200" in body
    assert "Käyttäjälisenssit seuraavalle kaudelle: 1\xa0200 → 1\xa0000" in body
    assert "Ajastettu lisenssimuutos peruttu: 1\xa0200 lisenssiä" in body
    _in_language(admin_user, "en")
    body = portal.get("/settings/subscription/history/?show=licenses").content.decode()
    assert "User licences bought: 10 → 1,200" in body
    assert "Scheduled licence change cancelled: 1,200 licences" in body


def test_a_cancelled_change_to_one_pack_is_singular(portal: Client, org: Any) -> None:
    from abonnement.subscriptions.services import set_storage_packs

    for packs in (1, 0, 1):
        set_storage_packs(organization=org, extra_packs=packs, actor=admin_of(org), now=NOW)
    body = portal.get("/settings/subscription/history/?show=licenses").content.decode()
    assert "Scheduled storage change cancelled: 1 storage pack\n" in body
