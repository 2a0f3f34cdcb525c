"""Catalogue texts in Dutch and Finnish: the shape ``clean`` accepts, and the fallback to the
English fields."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from abonnement.catalog.models import Feature, StoragePack, localized_names

pytestmark = pytest.mark.django_db


def refusal(entry: Any) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as raised:
        entry.full_clean()
    return raised.value.message_dict


@pytest.mark.parametrize(
    ("translations", "messages"),
    [
        (
            ["Projektit"],
            [
                'Give an object keyed by language ("fi", "nl"), each holding the texts: '
                "name, description."
            ],
        ),
        ({"sv": {"name": "Projekt"}}, ["Unknown language “sv”: translations are for fi and nl."]),
        ({"fi": "Projektit"}, ["fi: give an object with the texts (name, description)."]),
        (
            {"fi": {"title": "Projektit"}},
            ["fi: unknown text “title”; the texts are name, description."],
        ),
        ({"nl": {"name": 7}}, ["nl › name: must be text."]),
        ({"fi": {"name": "x" * 101}}, ["fi › name: 101 characters; at most 100."]),
        ({"fi": {"description": "x" * 301}}, ["fi › description: 301 characters; at most 300."]),
        (
            {"fi": {"name": None}, "en": {"name": "Projects"}},
            ["fi › name: must be text.", "Unknown language “en”: translations are for fi and nl."],
        ),
    ],
)
def test_feature_refuses_a_wrong_shape(
    catalog: None, translations: Any, messages: list[str]
) -> None:
    feature = Feature.objects.get(code="reports")
    feature.translations = translations
    errors = refusal(feature)
    assert sorted(errors["translations"]) == sorted(messages)
    feature.refresh_from_db()
    assert feature.translations == {}


def test_a_storage_pack_has_a_name_only(catalog: None) -> None:
    pack = StoragePack.objects.get()
    pack.translations = {"fi": {"name": "50 Gt:n paketti", "description": "Lisätilaa"}}
    assert refusal(pack) == {
        "translations": ["fi: unknown text “description”; the texts are name."]
    }
    pack.translations = {"fi": {"name": "x" * 101}}
    assert refusal(pack) == {"translations": ["fi › name: 101 characters; at most 100."]}
    pack.refresh_from_db()
    assert pack.translations == {}


def test_the_right_shape_passes_and_none_reads_as_empty(catalog: None) -> None:
    feature = Feature.objects.get(code="reports")
    feature.translations = {
        "fi": {"name": "Raportit", "description": "x" * 300},
        "nl": {"name": "x" * 100},
    }
    feature.full_clean()
    feature.translations = None
    feature.full_clean()
    assert feature.translations == {}


def test_missing_or_blank_texts_fall_back_to_english(catalog: None) -> None:
    feature = Feature.objects.get(code="reports")
    feature.description = "Reports on hours"
    feature.translations = {"fi": {"name": "Raportit"}, "nl": {"name": "  ", "description": ""}}
    feature.save()
    assert feature.name_in("fi") == "Raportit"
    assert feature.name_in("fi-FI") == "Raportit"
    assert feature.description_in("fi") == "Reports on hours"
    assert feature.name_in("nl") == "Reports"
    assert feature.description_in("nl") == "Reports on hours"
    assert feature.name_in("en") == "Reports"
    assert feature.name_in("sv") == "Reports"
    assert feature.name_in(None) == "Reports"
    with translation.override("fi"):
        assert feature.display_name == "Raportit"
        assert feature.display_description == "Reports on hours"
        assert localized_names(Feature.objects.filter(code__in=["reports", "api"])) == {
            "reports": "Raportit",
            "api": "API access",
        }
    assert feature.display_name == "Reports"
    assert str(feature) == "Reports"


def test_the_demo_catalogue_is_translated_in_full(db: Any) -> None:
    from abonnement.demo.loader import load_catalog

    load_catalog()
    entries = [*Feature.objects.all(), *StoragePack.objects.all()]
    for entry in entries:
        entry.full_clean()
        for language in ("fi", "nl"):
            assert entry.translated("name", language), (entry.code, language)
    for feature in Feature.objects.all():
        assert feature.description
        for language in ("fi", "nl"):
            assert feature.translated("description", language), (feature.code, language)
    projects = Feature.objects.get(code="projects")
    assert (projects.name_in("fi"), projects.name_in("nl")) == ("Projektit", "Projecten")
    pack = StoragePack.objects.get(code="storage-100")
    assert (pack.name_in("fi"), pack.name_in("nl")) == (
        "100 Gt:n tallennustilapaketti",
        "Opslagpakket van 100 GB",
    )
