"""Catalogue editing in Django's admin: staff only (support reads, billing edits), and a
price-list edit never changes a period that has started (Rule 7)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from abonnement.accounts.models import User
from abonnement.catalog.models import Price, PriceList
from abonnement.subscriptions.models import Subscription
from abonnement.subscriptions.rollover import roll_over_subscriptions
from abonnement.subscriptions.selectors import subscription_overview
from tests.backoffice.conftest import signed_in
from tests.conftest import make_organization

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "/admin/catalog/edition/",
    "/admin/catalog/feature/",
    "/admin/catalog/storagepack/",
    "/admin/catalog/pricelist/",
    "/admin/billing/einvoiceoperator/",
]


def change_form_data(response: Any) -> dict[str, Any]:
    """What the browser would post back from an admin change page, unchanged."""
    data: dict[str, Any] = {}
    form = response.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        if value is not None:
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
        for sub_form in formset.forms:
            for name in sub_form.fields:
                value = sub_form[name].value()
                if value is not None:
                    data[sub_form.add_prefix(name)] = value
    return data


def price_row(data: dict[str, Any], product: str, currency: str) -> str:
    for key, value in data.items():
        if key.endswith("-product") and value == product:
            prefix = key[: -len("product")]
            if data[f"{prefix}currency"] == currency:
                return prefix
    raise AssertionError(f"no {product} {currency} row")


class TestAccess:
    @pytest.mark.parametrize("url", CHANGELISTS)
    def test_anonymous_and_customers_are_sent_to_the_staff_login(self, org: Any, url: str) -> None:
        customer = User.objects.get(email="admin@testi.example")
        for client in (signed_in(None), signed_in(customer)):
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith("/admin/login/")

    @pytest.mark.parametrize("url", CHANGELISTS)
    def test_support_reads_but_cannot_add(self, support_client: Client, catalog: None, url: str):
        assert support_client.get(url).status_code == 200
        assert support_client.get(f"{url}add/").status_code == 403

    @pytest.mark.parametrize("url", CHANGELISTS)
    def test_billing_adds(self, billing_client: Client, catalog: None, url: str) -> None:
        assert billing_client.get(url).status_code == 200
        assert billing_client.get(f"{url}add/").status_code == 200

    def test_support_cannot_change_a_price(self, support_client: Client, catalog: None) -> None:
        price_list = PriceList.objects.get(name="2026")
        url = f"/admin/catalog/pricelist/{price_list.pk}/change/"
        data = change_form_data(support_client.get(url))
        data[f"{price_row(data, 'license:pro', 'EUR')}monthly_amount"] = "99.00"
        assert support_client.post(url, data).status_code == 403
        assert Price.objects.get(
            price_list=price_list, product="license:pro", currency="EUR"
        ).monthly_amount == Decimal("20.0000")


class TestPriceListEditing:
    def test_editing_the_list_in_force_changes_only_the_next_period(
        self, billing_client: Client, catalog: None
    ) -> None:
        # Monthly periods: January runs on the 2026 list, and so will February.
        org = make_organization(period_months=1)
        price_list = PriceList.objects.get(name="2026")
        url = f"/admin/catalog/pricelist/{price_list.pk}/change/"
        data = change_form_data(billing_client.get(url))
        data[f"{price_row(data, 'license:pro', 'EUR')}monthly_amount"] = "22.50"
        response = billing_client.post(url, data)
        assert response.status_code == 302, response.context and response.context["errors"]
        assert Price.objects.get(
            price_list=price_list, product="license:pro", currency="EUR"
        ).monthly_amount == Decimal("22.5000")

        overview = subscription_overview(organization_id=org.pk)
        assert (overview.current.license_unit_price, overview.current.total_price) == (
            Decimal("20.0000"),
            Decimal("200.00"),
        )
        assert (overview.next.license_unit_price, overview.next.total_price) == (
            Decimal("22.5000"),
            Decimal("225.00"),
        )
        roll_over_subscriptions(now=datetime(2027, 2, 1, 9, 0, tzinfo=UTC))
        sub = Subscription.objects.get(organization=org)
        assert sub.license_unit_price == Decimal("22.5000")

    def test_a_negative_price_is_refused_and_nothing_changes(
        self, billing_client: Client, catalog: None
    ) -> None:
        price_list = PriceList.objects.get(name="2026")
        url = f"/admin/catalog/pricelist/{price_list.pk}/change/"
        data = change_form_data(billing_client.get(url))
        data[f"{price_row(data, 'license:pro', 'EUR')}monthly_amount"] = "-1"
        response = billing_client.post(url, data)
        assert response.status_code == 200
        assert Price.objects.get(
            price_list=price_list, product="license:pro", currency="EUR"
        ).monthly_amount == Decimal("20.0000")

    def test_the_product_is_chosen_from_the_catalogue(
        self, billing_client: Client, catalog: None
    ) -> None:
        response = billing_client.get("/admin/catalog/pricelist/add/")
        html = response.content.decode()
        for value in ("license:enterprise", "add_on:sso", "storage:storage-50"):
            assert f'value="{value}"' in html
        assert 'value="add_on:reports"' not in html  # included everywhere: no add-on price
