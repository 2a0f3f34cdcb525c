"""Numbers, plurals and units in the user's language (PRODUCT.md: "all texts, dates, numbers
and money formatted for the user's language")."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from tests.conftest import NOW, admin_of

pytestmark = pytest.mark.django_db


def speak(user: Any, language: str) -> None:
    user.language = language
    user.save(update_fields=["language"])


@pytest.mark.parametrize(
    "language,heading,body",
    [
        (
            "en",
            "Buy user licences: 99,999 in total",
            "You are buying 99,989 more user licences.",
        ),
        (
            "nl",
            "Gebruikerslicenties kopen: 99.999 in totaal",
            "Je koopt 99.989 extra gebruikerslicenties.",
        ),
        ("fi", "yhteensä 99\xa0999", "Ostat 99\xa0989 käyttäjälisenssiä lisää."),
    ],
)
def test_the_purchase_preview_formats_the_numbers(
    portal: Client, admin_user: Any, language: str, heading: str, body: str
) -> None:
    speak(admin_user, language)
    page = portal.get("/settings/subscription/licences/confirm/?licenses=99999").content.decode()
    assert heading in page
    assert body in page


@pytest.mark.parametrize(
    "language,text",
    [
        ("en", "the subscription has 1 storage pack. The current period keeps its storage"),
        ("nl", "heeft het abonnement 1 opslagpakket. De huidige periode houdt haar opslag"),
        ("fi", "tilauksessa on 1 tallennustilapaketti. Nykyisen kauden tallennustila säilyy"),
    ],
)
def test_lowering_to_one_pack_is_singular(
    portal: Client, org: Any, admin_user: Any, language: str, text: str
) -> None:
    portal.post("/settings/subscription/storage/", {"extra_packs": "2"})
    speak(admin_user, language)
    page = portal.get("/settings/subscription/storage/confirm/?extra_packs=1").content.decode()
    assert text in page


@pytest.mark.parametrize(
    "language,text",
    [
        ("en", "the subscription has 1 licence. Until then you keep 10;"),
        ("nl", "heeft het abonnement 1 licentie. Tot dan houd je er 10;"),
        ("fi", "tilauksessa on 1 lisenssi. Siihen asti sinulla on 10;"),
    ],
)
def test_lowering_to_one_licence_is_singular(
    portal: Client, admin_user: Any, language: str, text: str
) -> None:
    speak(admin_user, language)
    page = portal.get("/settings/subscription/licences/confirm/?licenses=1").content.decode()
    assert text in page


def test_buying_one_pack_is_singular(portal: Client, admin_user: Any) -> None:
    speak(admin_user, "fi")
    page = portal.get("/settings/subscription/storage/confirm/?extra_packs=1").content.decode()
    assert "Ostat 1 tallennustilapaketin (50 Gt). Tallennustilasi kasvaa heti 150 " in page


def test_the_change_message_formats_the_count(portal: Client, org: Any, admin_user: Any) -> None:
    from abonnement.subscriptions.services import set_license_count

    set_license_count(organization=org, licenses=1500, actor=admin_of(org), now=NOW)
    speak(admin_user, "nl")
    response = portal.post("/settings/subscription/licences/", {"licenses": "1200"}, follow=True)
    assert "Vanaf 1 juli 2027 heeft het abonnement 1.200 gebruikerslicenties." in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    "language,text",
    [
        ("en", "Keep the feedback under 2,000 characters."),
        ("nl", "Houd de feedback onder de 2.000 tekens."),
        ("fi", "Pidä palaute alle 2\xa0000 merkin."),
    ],
)
def test_feedback_limit_in_the_users_language(
    portal: Client, admin_user: Any, language: str, text: str
) -> None:
    speak(admin_user, language)
    response = portal.post(
        "/feedback/",
        {"page": "portal:overview", "helpful": "no", "text": "x" * 10_000},
        HTTP_HX_REQUEST="true",
    )
    assert text in response.content.decode()


@pytest.mark.parametrize("url", ["/settings/subscription/", "/settings/subscription/licences/"])
def test_one_storage_unit_in_finnish(portal: Client, admin_user: Any, url: str) -> None:
    speak(admin_user, "fi")
    page = portal.get(url).content.decode()
    assert "100 Gt" in page
    # As a word: the page's random CSRF tokens contain "GB" now and then.
    assert re.search(r"\bGB\b", page) is None


def test_storage_unit_in_english(portal: Client) -> None:
    page = portal.get("/settings/subscription/licences/").content.decode()
    assert "Storage this period</dt><dd>100 GB <span" in page
    used = 'Used</dt><dd class="storage-used"><span class="muted">not reported yet</span></dd>'
    assert used in page
