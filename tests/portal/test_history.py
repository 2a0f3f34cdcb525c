"""History: order confirmations, action history, change log; filtered and paginated."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.test import Client

from abonnement.history.models import HistoryEntry
from abonnement.orders.models import Order
from tests.conftest import NOW, admin_of
from tests.portal.conftest import make_user

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
    # Before and after, labelled and formatted for the reader (not the stored JSON).
    assert "<dt>Next period</dt><dd>10</dd>" in body
    assert "<dt>Next period</dt><dd>8</dd>" in body
    assert "&quot;" not in body


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


# --------------------------------------------------------------------------- stored texts


@pytest.mark.parametrize(
    "language,texts",
    [
        ("en", ["Licence kept", "Licence removed from the next period", "Documents"]),
        (
            "nl",
            [
                "Licentie behouden",
                "Licentie verwijderd uit de volgende periode",
                "Documentverwerking",
            ],
        ),
        (
            "fi",
            ["Lisenssi säilytetty", "Lisenssi poistettu seuraavalta kaudelta", "Asiakirjapalvelu"],
        ),
    ],
)
def test_reasons_and_system_names_are_in_the_readers_language(
    portal: Client, org: Any, admin_user: Any, language: str, texts: list[str]
) -> None:
    from abonnement.invoicing.services import send_period_reminders

    keep, remove = make_user(org, "keep@testi.example"), make_user(org, "remove@testi.example")
    # Deactivated by a Finnish administrator: the history keeps the reason in English.
    _in_language(admin_user, "fi")
    portal.post(f"/settings/users/{keep.pk}/deactivate/", {"license": "keep"})
    portal.post(f"/settings/users/{remove.pk}/deactivate/", {"license": "remove"})
    assert sorted(
        HistoryEntry.objects.filter(action="user_deactivated").values_list("reason", flat=True)
    ) == ["Licence kept", "Licence removed from the next period"]
    send_period_reminders(now=datetime(2027, 6, 25, 10, 0, tzinfo=UTC), days=7)

    _in_language(admin_user, language)
    body = portal.get("/settings/subscription/history/?show=all").content.decode()
    reason, removed, documents = texts
    assert f'<td data-label="{WHY[language]}">{reason}</td>' in body
    assert f'<td data-label="{WHY[language]}">{removed}</td>' in body
    assert f'<td data-label="{WHO[language]}">{documents}</td>' in body


WHO = {"en": "Who", "nl": "Wie", "fi": "Kuka"}
WHY = {"en": "Why", "nl": "Waarom", "fi": "Miksi"}


def test_texts_stored_in_another_language_are_shown_in_the_readers(
    portal: Client, org: Any, admin_user: Any
) -> None:
    """Rows written before the system stored these texts in English hold them in the language
    of whoever triggered the change."""
    from abonnement.core.actor import Actor
    from abonnement.history.models import HistoryKind
    from abonnement.history.services import record

    record(
        organization_id=org.pk,
        actor=Actor.system("Overgang naar een nieuwe periode"),
        now=NOW,
        kind=HistoryKind.USERS,
        action="user_deactivated",
        subject="old@testi.example",
        reason="Lisenssi säilytetty",
    )
    record(
        organization_id=org.pk,
        actor=Actor.system("Kauden vaihto"),
        now=NOW,
        kind=HistoryKind.USERS,
        action="user_deactivated",
        subject="older@testi.example",
        reason="Licentie verwijderd uit de volgende periode",
    )
    _in_language(admin_user, "nl")
    body = portal.get("/settings/subscription/history/?show=users").content.decode()
    assert body.count('<td data-label="Wie">Periodeovergang</td>') == 2
    assert '<td data-label="Waarom">Licentie behouden</td>' in body
    assert '<td data-label="Waarom">Licentie verwijderd uit de volgende periode</td>' in body
    _in_language(admin_user, "en")
    body = portal.get("/settings/subscription/history/?show=users").content.decode()
    assert body.count('<td data-label="Who">Period rollover</td>') == 2
    assert '<td data-label="Why">Licence kept</td>' in body
    assert '<td data-label="Why">Licence removed from the next period</td>' in body


def test_a_persons_name_is_shown_as_written(portal: Client, org: Any) -> None:
    from abonnement.core.actor import Actor
    from abonnement.history.models import HistoryKind
    from abonnement.history.services import record

    documents = make_user(org, "documents@testi.example")
    documents.name = "Documents"
    documents.save(update_fields=["name"])
    record(
        organization_id=org.pk,
        actor=Actor.portal(documents),
        now=NOW,
        kind=HistoryKind.FEATURES,
        action="disabled",
        subject="slack",
    )
    type(documents).objects.filter(pk=portal.session["_auth_user_id"]).update(language="fi")
    body = portal.get("/settings/subscription/history/?show=features").content.decode()
    assert '<td data-label="Kuka">Documents</td>' in body


def test_the_marketplaces_own_changes_are_shown_as_the_marketplaces(
    catalog: None, clock_at_now: None
) -> None:
    """Rule 6 and 13: the vendor's call on a marketplace organisation is the marketplace's;
    the administrator's own switch stays the portal's."""
    from abonnement.accounts.services import create_vendor_token
    from abonnement.core.actor import Actor
    from tests.conftest import make_organization
    from tests.portal.conftest import client_for

    market = make_organization(
        name="Markt Oy",
        admin_email="admin@markt.example",
        purchase_channel={"type": "marketplace", "name": "PM", "url": "https://pm.example/"},
    )
    vendor = create_vendor_token(name="Vendor CRM", actor=Actor.cli(), now=NOW).secret
    bought = Client().put(
        f"/api/v1/organizations/{market.pk}/subscription/licenses",
        data='{"licenses": 12}',
        content_type="application/json",
        headers={"Authorization": f"Bearer {vendor}"},
    )
    assert bought.status_code == 200, bought.content
    portal = client_for(admin_of(market).user)
    portal.post("/settings/subscription/features/slack/", {"enabled": "off"})
    licences = portal.get("/settings/subscription/history/?show=licenses").content.decode()
    assert '<td data-label="Channel">Marketplace</td>' in licences
    features = portal.get("/settings/subscription/history/?show=features").content.decode()
    assert '<td data-label="Channel">Portal</td>' in features
    assert "Marketplace" not in features
