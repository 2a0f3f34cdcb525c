"""The REST API keeps the catalogue's canonical English names, whatever the translations
and the caller's language."""

from __future__ import annotations

from typing import Any

from abonnement.catalog.models import Feature, StoragePack
from tests.api.conftest import Api

FINNISH = {"Accept-Language": "fi"}


def translate() -> None:
    Feature.objects.filter(code="sso").update(
        translations={"fi": {"name": "Kertakirjautuminen", "description": "Yksi tunnus."}}
    )
    StoragePack.objects.update(translations={"fi": {"name": "50 Gt:n paketti"}})


def test_features_keep_their_english_names(api: Api, org: Any, writer: str) -> None:
    translate()
    reply = api.get(f"/organizations/{org.pk}/features", writer, headers=FINNISH)
    assert reply.status == 200
    by_code = {f["code"]: f for f in reply.body["data"]}
    assert by_code["sso"]["name"] == "Single sign-on"
    assert "Kertakirjautuminen" not in reply.content.decode()


def test_the_catalogue_keeps_its_english_names(api: Api, org: Any, writer: str) -> None:
    translate()
    reply = api.get("/catalog", writer, headers=FINNISH)
    assert reply.status == 200
    names = {f["code"]: f["name"] for f in reply.body["features"]}
    assert names == {
        "reports": "Reports",
        "api": "API access",
        "sso": "Single sign-on",
        "scim": "SCIM",
        "slack": "Slack",
        "crm": "CRM sync",
    }
    text = reply.content.decode()
    assert "Kertakirjautuminen" not in text and "Gt:n" not in text and "translations" not in text
