from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar, Final

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import get_language

# The languages catalogue texts are translated into; English is the canonical text in the
# model's own fields (and what the REST API and webhooks speak).
TRANSLATION_LANGUAGES: Final = ("fi", "nl")


def translations_problems(value: Any, limits: dict[str, int]) -> list[str]:
    """What is wrong with a ``translations`` value shaped ``{"fi": {"name": "…"}, "nl": …}``
    whose texts may be the keys of ``limits`` (their maximum lengths)."""
    keys = ", ".join(limits)
    if not isinstance(value, dict):
        return [
            'Give an object keyed by language ("fi", "nl"), each holding the texts: ' + keys + "."
        ]
    problems = []
    for language, texts in value.items():
        if language not in TRANSLATION_LANGUAGES:
            problems.append(
                f"Unknown language “{language}”: translations are for "
                + " and ".join(TRANSLATION_LANGUAGES)
                + "."
            )
            continue
        if not isinstance(texts, dict):
            problems.append(f"{language}: give an object with the texts ({keys}).")
            continue
        for key, text in texts.items():
            if key not in limits:
                problems.append(f"{language}: unknown text “{key}”; the texts are {keys}.")
            elif not isinstance(text, str):
                problems.append(f"{language} › {key}: must be text.")
            elif len(text) > limits[key]:
                problems.append(
                    f"{language} › {key}: {len(text)} characters; at most {limits[key]}."
                )
    return problems


def translation_of(translations: Any, key: str, language: str | None) -> str:
    """The ``key`` text of ``translations`` in ``language`` ("fi", "fi-FI"), or "" when it
    has none there (English is the model's own field)."""
    code = (language or "").split("-")[0].lower()
    texts = translations.get(code) if isinstance(translations, dict) else None
    text = texts.get(key) if isinstance(texts, dict) else None
    return text.strip() if isinstance(text, str) else ""


def localized_names(items: Iterable[Translated], language: str | None = None) -> dict[str, str]:
    """code → name in ``language`` (by default the active one) for catalogue entries."""
    language = language or get_language()
    return {item.code: item.name_in(language) for item in items}


class Translated(models.Model):
    """Catalogue texts in Dutch and Finnish next to the English fields. A text left out (or
    blank) falls back to the English field."""

    TRANSLATED: ClassVar[tuple[str, ...]] = ("name",)
    # The subclasses' own fields.
    code: str
    name: str

    translations = models.JSONField(
        default=dict,
        blank=True,
        help_text=(
            'Dutch and Finnish texts, e.g. {"fi": {"name": "…"}, "nl": {"name": "…"}}. '
            "A text left out is shown in English."
        ),
    )

    class Meta:
        abstract = True

    def translated(self, key: str, language: str | None) -> str:
        """The ``key`` text in ``language``, or "" when it has no translation there."""
        return translation_of(self.translations, key, language)

    def name_in(self, language: str | None) -> str:
        return self.translated("name", language) or self.name

    @property
    def display_name(self) -> str:
        """The name in the active language (the portal's reader's)."""
        return self.name_in(get_language())

    def clean(self) -> None:
        super().clean()
        if self.translations is None:
            self.translations = {}
        limits = {
            key: getattr(self._meta.get_field(key), "max_length", None) or 0
            for key in self.TRANSLATED
        }
        problems = translations_problems(self.translations, limits)
        if problems:
            raise ValidationError({"translations": problems})


class Edition(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    included_storage_gb = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class FeatureKind(models.TextChoices):
    FEATURE = "feature", "Feature"
    INTEGRATION = "integration", "Integration"


class Feature(Translated):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=FeatureKind.choices)
    description = models.CharField(max_length=300, blank=True, default="")
    position = models.PositiveSmallIntegerField(default=0)
    requires = models.ManyToManyField(
        "self", symmetrical=False, blank=True, related_name="required_by"
    )

    TRANSLATED = ("name", "description")

    class Meta:
        ordering = ["kind", "position", "code"]

    def __str__(self) -> str:
        return self.name

    def description_in(self, language: str | None) -> str:
        return self.translated("description", language) or self.description

    @property
    def display_description(self) -> str:
        return self.description_in(get_language())


class Availability(models.TextChoices):
    INCLUDED = "included", "Included"
    ADD_ON = "add_on", "Paid add-on"
    UNAVAILABLE = "unavailable", "Not available"


class FeatureAvailability(models.Model):
    """How an edition offers a feature; a missing row means unavailable."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="availabilities")
    feature = models.ForeignKey(Feature, on_delete=models.CASCADE, related_name="availabilities")
    availability = models.CharField(max_length=12, choices=Availability.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["edition", "feature"], name="one_availability")
        ]


class StoragePack(Translated):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    gb = models.PositiveIntegerField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(gb__gt=0), name="pack_gb_positive")
        ]

    def __str__(self) -> str:
        return self.name


class PriceList(models.Model):
    """Monthly prices in force from ``effective_from`` until the next list (Rule 7)."""

    name = models.CharField(max_length=100)
    effective_from = models.DateField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_from"]

    def __str__(self) -> str:
        return f"{self.name} (from {self.effective_from})"


class Price(models.Model):
    """One monthly unit price. ``product`` is ``license:<edition>``, ``add_on:<feature>`` or
    ``storage:<pack>``."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="prices")
    product = models.CharField(max_length=90)
    currency = models.CharField(max_length=3)
    monthly_amount = models.DecimalField(max_digits=14, decimal_places=4)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["price_list", "product", "currency"], name="one_price_per_product"
            ),
            models.CheckConstraint(
                condition=models.Q(monthly_amount__gte=0), name="price_not_negative"
            ),
        ]


def license_product(edition_code: str) -> str:
    return f"license:{edition_code}"


def add_on_product(feature_code: str) -> str:
    return f"add_on:{feature_code}"


def storage_product(pack_code: str) -> str:
    return f"storage:{pack_code}"
