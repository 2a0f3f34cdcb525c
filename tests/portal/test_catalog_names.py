"""Feature, integration and storage-pack names in the reader's language (the portal) and
in English (the REST API)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from abonnement.catalog.models import Feature, StoragePack
from abonnement.features.services import set_feature_enabled
from abonnement.subscriptions.services import set_storage_packs
from tests.conftest import NOW, admin_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def finnish(admin_user: Any) -> Any:
    """The catalogue in Finnish (SCIM left untranslated), and Anna reads Finnish."""
    Feature.objects.filter(code="sso").update(
        translations={
            "fi": {"name": "Kertakirjautuminen", "description": "Yksi tunnus kaikkialle."},
            "nl": {"name": "Eenmalig aanmelden"},
        }
    )
    Feature.objects.filter(code="slack").update(
        description="Messages in Slack.",
        translations={"fi": {"name": "Slack-viestit", "description": "Viestit Slackiin."}},
    )
    StoragePack.objects.update(translations={"fi": {"name": "50 Gt:n paketti"}})
    admin_user.language = "fi"
    admin_user.save(update_fields=["language"])
    return admin_user


def test_the_features_page_shows_finnish_names_and_descriptions(
    portal: Client, finnish: Any
) -> None:
    body = portal.get("/settings/subscription/features/").content.decode()
    assert '<h3 id="f-sso-name">Kertakirjautuminen</h3>' in body
    assert '<p class="muted small">Yksi tunnus kaikkialle.</p>' in body
    assert '<h3 id="f-slack-name">Slack-viestit</h3>' in body
    assert '<p class="muted small">Viestit Slackiin.</p>' in body
    assert '<h3 id="f-scim-name">SCIM</h3>' in body  # no Finnish name: the English one
    assert "Vaatii: Kertakirjautuminen" in body  # SCIM requires SSO
    assert "Single sign-on" not in body
    assert "Messages in Slack." not in body


def test_the_dialogs_and_messages_name_the_feature_in_finnish(portal: Client, finnish: Any) -> None:
    body = portal.get("/settings/subscription/features/sso/?enabled=on").content.decode()
    assert "Otetaanko Kertakirjautuminen käyttöön?" in body
    response = portal.post(
        "/settings/subscription/features/sso/", {"enabled": "on", "reason": ""}, follow=True
    )
    body = response.content.decode()
    assert "Kertakirjautuminen on nyt käytössä kaikilla organisaatiossasi." in body


def test_the_overview_history_and_orders_name_the_add_on_and_pack_in_finnish(
    portal: Client, finnish: Any, org: Any
) -> None:
    set_feature_enabled(organization=org, code="sso", enabled=True, actor=admin_of(org), now=NOW)
    set_storage_packs(organization=org, extra_packs=2, actor=admin_of(org), now=NOW)
    overview = portal.get("/settings/subscription/").content.decode()
    assert "Kertakirjautuminen" in overview
    assert "Single sign-on" not in overview
    history = portal.get("/settings/subscription/history/?show=features").content.decode()
    assert "Kertakirjautuminen otettu käyttöön" in history
    assert "Single sign-on" not in history
    orders = portal.get("/settings/subscription/history/?show=orders").content.decode()
    assert "Lisäosa, Kertakirjautuminen × 1" in orders
    assert "Tiedostotila, 50 Gt:n paketti × 2" in orders
    assert "Single sign-on" not in orders
    assert "50 GB pack" not in orders


def test_english_readers_keep_the_english_names(portal: Client, finnish: Any) -> None:
    finnish.language = "en"
    finnish.save(update_fields=["language"])
    body = portal.get("/settings/subscription/features/").content.decode()
    assert '<h3 id="f-sso-name">Single sign-on</h3>' in body
    assert "Kertakirjautuminen" not in body
