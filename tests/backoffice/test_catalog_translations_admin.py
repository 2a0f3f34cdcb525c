"""Staff edit the catalogue's Dutch and Finnish texts in Django's admin."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from abonnement.catalog.models import Feature, StoragePack
from tests.backoffice.test_catalog_admin import change_form_data

pytestmark = pytest.mark.django_db


def feature_url(catalog: None) -> str:
    return f"/admin/catalog/feature/{Feature.objects.get(code='sso').pk}/change/"


def test_billing_staff_save_translations(billing_client: Client, catalog: None) -> None:
    url = feature_url(catalog)
    data = change_form_data(billing_client.get(url))
    assert json.loads(data["translations"]) == {}
    texts = {"fi": {"name": "Kertakirjautuminen", "description": "Yksi tunnus kaikkialle"}}
    response = billing_client.post(url, {**data, "translations": json.dumps(texts)})
    assert response.status_code == 302
    assert Feature.objects.get(code="sso").translations == texts
    page = billing_client.get(url).content.decode()
    assert "Kertakirjautuminen" in page  # shown as typed, not escaped as \\u…


def test_a_wrong_shape_is_refused_on_the_field_and_nothing_saved(
    billing_client: Client, catalog: None
) -> None:
    url = feature_url(catalog)
    data = change_form_data(billing_client.get(url))
    response = billing_client.post(
        url, {**data, "name": "Renamed", "translations": json.dumps({"sv": {"name": "Inloggning"}})}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["translations"] == [
        "Unknown language “sv”: translations are for fi and nl."
    ]
    feature = Feature.objects.get(code="sso")
    assert (feature.name, feature.translations) == ("Single sign-on", {})


def test_an_empty_field_saves_no_translations(billing_client: Client, catalog: None) -> None:
    pack = StoragePack.objects.get()
    pack.translations = {"fi": {"name": "50 Gt:n paketti"}}
    pack.save()
    url = f"/admin/catalog/storagepack/{pack.pk}/change/"
    data = change_form_data(billing_client.get(url))
    assert json.loads(data["translations"]) == {"fi": {"name": "50 Gt:n paketti"}}
    assert billing_client.post(url, {**data, "translations": ""}).status_code == 302
    pack.refresh_from_db()
    assert pack.translations == {}


def test_support_reads_the_translations(support_client: Client, catalog: None) -> None:
    Feature.objects.filter(code="sso").update(translations={"nl": {"name": "Eenmalig aanmelden"}})
    page = support_client.get(feature_url(catalog)).content.decode()
    assert "Eenmalig aanmelden" in page


def test_translations_pass_through_the_admin_unchanged(
    billing_client: Client, catalog: None
) -> None:
    texts = {"fi": {"name": "Kertakirjautuminen"}, "nl": {"name": "Eenmalig aanmelden"}}
    Feature.objects.filter(code="sso").update(translations=texts)
    url = feature_url(catalog)
    data = change_form_data(billing_client.get(url))
    assert billing_client.post(url, data).status_code == 302
    assert Feature.objects.get(code="sso").translations == texts
