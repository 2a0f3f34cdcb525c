"""Catalogue editing for staff (Django's admin; roles from ``backoffice.admin``).

Rule 7: a price list applies to each subscription from its first period that starts on or
after the list's date; a period that has started keeps the unit prices it was billed with
(the subscription's snapshot), so editing even the list in force changes only next periods.
A list need only hold what changes: what it leaves out keeps the earlier list's price.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.core.validators import MinValueValidator
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from abonnement.backoffice.admin import StaffRoleAdmin, StaffRoleTabularInline
from abonnement.catalog.models import (
    Availability,
    Edition,
    Feature,
    FeatureAvailability,
    Price,
    PriceList,
    StoragePack,
    add_on_product,
    license_product,
    storage_product,
)


def product_choices(current: str = "") -> list[tuple[str, str]]:
    """Every product a price can be for: licences per edition, add-ons, storage packs."""
    choices = [
        (license_product(e.code), f"User licence — {e.name}")
        for e in Edition.objects.order_by("position", "code")
    ]
    add_ons = Feature.objects.filter(availabilities__availability=Availability.ADD_ON).distinct()
    choices += [
        (add_on_product(f.code), f"Add-on — {f.name}") for f in add_ons.order_by("kind", "position")
    ]
    choices += [
        (storage_product(p.code), f"Storage pack — {p.name}")
        for p in StoragePack.objects.order_by("position", "code")
    ]
    if current and current not in {value for value, _label in choices}:
        choices.append((current, current))
    return choices


class PriceForm(forms.ModelForm):  # type: ignore[type-arg]
    monthly_amount = forms.DecimalField(
        label="Monthly price",
        max_digits=14,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0"))],
    )

    class Meta:
        model = Price
        fields = ["product", "currency", "monthly_amount"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.instance.product if self.instance.pk else ""
        self.fields["product"] = forms.ChoiceField(
            label="Product", choices=[("", "---------"), *product_choices(current)]
        )

    def clean_currency(self) -> str:
        value = str(self.cleaned_data.get("currency") or "").strip().upper()
        if len(value) != 3 or not value.isalpha():
            raise forms.ValidationError("Give a three-letter currency code such as EUR.")
        return value


class PriceInline(StaffRoleTabularInline):
    model = Price
    form = PriceForm
    extra = 1


@admin.register(PriceList)
class PriceListAdmin(StaffRoleAdmin):
    list_display = ["name", "effective_from", "price_count"]
    ordering = ["-effective_from"]
    inlines = [PriceInline]
    fields = ["name", "effective_from"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[PriceList]:
        return super().get_queryset(request).annotate(price_total=Count("prices"))

    @admin.display(description="Prices", ordering="price_total")
    def price_count(self, obj: Any) -> int:
        return int(getattr(obj, "price_total", 0))

    def get_form(
        self, request: HttpRequest, obj: Any | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if "effective_from" in form.base_fields:  # not when the staff member only reads
            form.base_fields["effective_from"].help_text = (
                "Each subscription gets these prices from its first billing period that starts "
                "on or after this day. A period that has started keeps the prices it was billed "
                "with. A product or currency this list leaves out keeps its price from the "
                "list before, so a list need only hold what changes."
            )
        return form


class FeatureAvailabilityInline(StaffRoleTabularInline):
    model = FeatureAvailability
    extra = 0
    fields = ["feature", "availability"]


@admin.register(Edition)
class EditionAdmin(StaffRoleAdmin):
    list_display = ["name", "code", "included_storage_gb", "position"]
    ordering = ["position", "code"]
    inlines = [FeatureAvailabilityInline]


class TranslationsField(forms.JSONField):
    """The translations as indented JSON, letters as they are (ä, ö), not escaped."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value if value is not None else {}, ensure_ascii=False, indent=2)


class TranslatedForm(forms.ModelForm):  # type: ignore[type-arg]
    """``translations`` checked by the model's ``clean`` (shape, languages, lengths)."""

    translations = TranslationsField(
        label="Translations",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
    )

    def clean_translations(self) -> Any:
        value = self.cleaned_data.get("translations")
        return {} if value in (None, "") else value


class TranslatedAdmin(StaffRoleAdmin):
    """A catalogue entry with Finnish and Dutch texts; ``translations_help`` shows its shape."""

    form = TranslatedForm
    translations_help = ""

    def get_form(
        self, request: HttpRequest, obj: Any | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if "translations" in form.base_fields:
            form.base_fields["translations"].help_text = (
                f"{self.translations_help} A text left out is shown in English. The REST API "
                "keeps the English name."
            )
        return form


@admin.register(Feature)
class FeatureAdmin(TranslatedAdmin):
    list_display = ["name", "code", "kind", "position"]
    list_filter = ["kind"]
    ordering = ["kind", "position", "code"]
    filter_horizontal = ["requires"]
    fields = ["code", "name", "kind", "description", "translations", "position", "requires"]
    translations_help = (
        'Finnish and Dutch name and description, e.g. {"fi": {"name": "Projektit", '
        '"description": "…"}, "nl": {"name": "Projecten", "description": "…"}}.'
    )


@admin.register(StoragePack)
class StoragePackAdmin(TranslatedAdmin):
    list_display = ["name", "code", "gb", "position"]
    ordering = ["position", "code"]
    fields = ["code", "name", "translations", "gb", "position"]
    translations_help = (
        'Finnish and Dutch name, e.g. {"fi": {"name": "100 Gt:n tallennustilapaketti"}, '
        '"nl": {"name": "Opslagpakket van 100 GB"}}.'
    )
