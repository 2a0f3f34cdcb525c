"""Overview, user licences, storage and the edition request (PRODUCT.md sections 1–2)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from abonnement.history.models import HistoryEntry
from abonnement.orders.models import Order
from abonnement.subscriptions.models import EditionChangeRequest, Subscription
from tests.conftest import NOW, add_users, admin_of, make_organization
from tests.portal.conftest import client_for

pytestmark = pytest.mark.django_db


def state(org: Any) -> tuple[int, int, int, int, int]:
    sub = Subscription.objects.get(organization=org)
    return (
        sub.licenses,
        sub.licenses_next,
        sub.storage_packs_next,
        Order.objects.filter(organization=org).count(),
        HistoryEntry.objects.filter(organization=org).count(),
    )


class TestOverview:
    def test_says_what_was_ordered_when_it_differs_from_the_period_price(
        self, portal: Client, org: Any
    ) -> None:
        from abonnement.subscriptions.services import set_license_count

        body = portal.get("/settings/subscription/").content.decode()
        assert 'id="ordered-this-period"' not in body  # the renewal order is the period price
        set_license_count(organization=org, licenses=11, actor=admin_of(org), now=NOW)
        body = portal.get("/settings/subscription/").content.decode()
        # 11 × 20.00 × 6 = 1,320.00 at the present terms; ordered: 1,200.00 + 110.72 pro rata.
        assert "€1,320.00" in body
        assert "Ordered for this period: €1,310.72." in body

    def test_shows_an_edition_request_that_waits_for_an_answer(
        self, portal: Client, org: Any
    ) -> None:
        from abonnement.subscriptions.services import request_edition_change

        body = portal.get("/settings/subscription/").content.decode()
        assert 'id="open-edition-request"' not in body
        request_edition_change(
            organization=org, edition="enterprise", message="", actor=admin_of(org), now=NOW
        )
        body = portal.get("/settings/subscription/").content.decode()
        assert (
            "Your request for the edition Enterprise, sent on 15 Jan 2027, is waiting for "
            "customer service's answer."
        ) in body

    def test_shows_both_periods_with_prices(self, portal: Client, org: Any) -> None:
        add_users(org, 2)
        body = portal.get("/settings/subscription/").content.decode()
        assert "Current billing period" in body and "Next billing period" in body
        assert "1 Jan 2027 – 30 Jun 2027" in body
        assert "1 Jul 2027 – 31 Dec 2027" in body
        assert "3 in use, 7 free" in body
        # 10 × 20.00 now; 10 × 21.00 under the price list from 2027-07-01.
        assert "€200.00" in body and "€1,200.00" in body
        assert "€210.00" in body and "€1,260.00" in body
        assert "100 GB included + 0 GB bought" in body
        assert "Changes made by 30 June 2027 count for the next period" in body
        assert "To change your edition, contact customer service" in body

    def test_shows_what_is_scheduled(self, portal: Client, org: Any) -> None:
        from abonnement.subscriptions.services import set_license_count

        set_license_count(organization=org, licenses=7, actor=admin_of(org), now=NOW)
        body = portal.get("/settings/subscription/").content.decode()
        assert "User licences: 10 → 7" in body

    def test_query_count_does_not_grow(
        self, portal: Client, org: Any, django_assert_max_num_queries: Any
    ) -> None:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as few:
            portal.get("/settings/subscription/")
        add_users(org, 6)
        from abonnement.subscriptions.services import set_license_count

        set_license_count(organization=org, licenses=14, actor=admin_of(org), now=NOW)
        with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as many:
            portal.get("/settings/subscription/")
        assert len(many) == len(few)


class TestLicences:
    def test_page_shows_counts(self, portal: Client, org: Any) -> None:
        add_users(org, 3)
        body = portal.get("/settings/subscription/licences/").content.decode()
        assert "4 in use, 6 free" in body
        assert "€20.00 a month" in body

    def test_raising_shows_the_preview_first_and_commits_nothing(
        self, portal: Client, org: Any
    ) -> None:
        before = state(org)
        response = portal.get("/settings/subscription/licences/confirm/?licenses=13")
        body = response.content.decode()
        assert response.status_code == 200
        assert "€332.15" in body  # 3 × 20 × 6 × 167 / 181
        assert "15 Jan 2027 – 30 Jun 2027" in body
        assert "167 of the period's 181 days" in body
        assert "€260.00" in body and "€1,560.00" in body  # this period, 13 licences
        assert "€273.00" in body and "€1,638.00" in body  # next period at the new prices
        assert "Confirm and pay €332.15" in body
        assert state(org) == before

    def test_confirming_buys_and_the_order_is_in_history(self, portal: Client, org: Any) -> None:
        response = portal.post("/settings/subscription/licences/", {"licenses": "13"})
        assert response.status_code == 302
        assert response["Location"] == "/settings/subscription/licences/"
        order = Order.objects.get(organization=org, kind="licenses")
        assert order.total == Decimal("332.15")
        sub = Subscription.objects.get(organization=org)
        assert (sub.licenses, sub.licenses_next) == (13, 13)
        page = portal.get(response["Location"]).content.decode()
        assert f"Order {order.number} placed: €332.15." in page
        history = portal.get("/settings/subscription/history/").content.decode()
        assert f"<strong>{order.number}</strong>" in history
        assert "User licences, Pro × 3, 167 of 181 days" in history

    def test_lowering_says_it_takes_effect_next_period(self, portal: Client, org: Any) -> None:
        body = portal.get("/settings/subscription/licences/confirm/?licenses=7").content.decode()
        assert "From 1 July 2027, the start of the next period" in body
        assert "there is no refund" in body
        orders = Order.objects.filter(organization=org).count()
        response = portal.post("/settings/subscription/licences/", {"licenses": "7"}, follow=True)
        assert "From 1 July 2027 the subscription has 7 user licences." in response.content.decode()
        sub = Subscription.objects.get(organization=org)
        assert (sub.licenses, sub.licenses_next) == (10, 7)
        assert Order.objects.filter(organization=org).count() == orders

    def test_a_scheduled_removal_can_be_cancelled(self, portal: Client, org: Any) -> None:
        portal.post("/settings/subscription/licences/", {"licenses": "7"})
        page = portal.get("/settings/subscription/licences/").content.decode()
        assert "from 1 July 2027 the number of licences goes from 10 to 7" in page
        orders = Order.objects.filter(organization=org).count()
        portal.post("/settings/subscription/licences/", {"licenses": "10"})
        sub = Subscription.objects.get(organization=org)
        assert (sub.licenses, sub.licenses_next) == (10, 10)
        assert Order.objects.filter(organization=org).count() == orders

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_below_active_users_is_refused_with_a_way_out(
        self, portal: Client, org: Any, method: str
    ) -> None:
        add_users(org, 4)
        before = state(org)
        if method == "get":
            response = portal.get("/settings/subscription/licences/confirm/?licenses=3")
        else:
            response = portal.post("/settings/subscription/licences/", {"licenses": "3"})
        body = response.content.decode()
        assert response.status_code == 200
        assert "5 users are active" in body
        assert 'class="field-error"' in body
        assert 'href="/settings/users/">Open user management' in body
        assert state(org) == before

    def test_refusal_in_the_dialog(self, portal: Client, org: Any) -> None:
        add_users(org, 4)
        response = portal.get(
            "/settings/subscription/licences/confirm/?licenses=3", HTTP_HX_REQUEST="true"
        )
        body = response.content.decode()
        assert "<html" not in body
        assert "This change cannot be made" in body and "5 users are active" in body
        assert 'href="/settings/users/">Open user management' in body

    @pytest.mark.parametrize(
        ("value", "message"),
        [("abc", "Enter a whole number."), ("-2", "The number cannot be negative.")],
    )
    def test_other_refusals_in_the_dialog_offer_no_user_management(
        self, portal: Client, value: str, message: str
    ) -> None:
        response = portal.get(
            f"/settings/subscription/licences/confirm/?licenses={value}", HTTP_HX_REQUEST="true"
        )
        body = response.content.decode()
        assert "This change cannot be made" in body and message in body
        assert "Open user management" not in body

    @pytest.mark.parametrize("value", ["", "abc", "1.5"])
    def test_not_a_number(self, portal: Client, org: Any, value: str) -> None:
        before = state(org)
        response = portal.post("/settings/subscription/licences/", {"licenses": value})
        assert "Enter a whole number." in response.content.decode()
        assert state(org) == before

    def test_negative_is_the_services_refusal(self, portal: Client, org: Any) -> None:
        response = portal.post("/settings/subscription/licences/", {"licenses": "-2"})
        assert "The number cannot be negative." in response.content.decode()

    def test_preview_as_dialog_fragment(self, portal: Client) -> None:
        response = portal.get(
            "/settings/subscription/licences/confirm/?licenses=13", HTTP_HX_REQUEST="true"
        )
        body = response.content.decode()
        assert "<html" not in body and 'id="dialog-title"' in body and "€332.15" in body


class TestStorage:
    def test_buying_packs_after_the_preview(self, portal: Client, org: Any) -> None:
        body = portal.get("/settings/subscription/storage/confirm/?extra_packs=2").content.decode()
        # 2 × 4.00 × 6 × 167 / 181 = 44.29
        assert "€44.29" in body
        assert "Your storage grows to 200 GB at once." in body
        response = portal.post("/settings/subscription/storage/", {"extra_packs": "2"})
        assert response.status_code == 302
        order = Order.objects.get(organization=org, kind="storage")
        assert order.total == Decimal("44.29")
        sub = Subscription.objects.get(organization=org)
        assert (sub.storage_packs, sub.storage_packs_next) == (2, 2)

    def test_lowering_storage_is_for_next_period(self, portal: Client, org: Any) -> None:
        portal.post("/settings/subscription/storage/", {"extra_packs": "2"})
        portal.post("/settings/subscription/storage/", {"extra_packs": "1"})
        sub = Subscription.objects.get(organization=org)
        assert (sub.storage_packs, sub.storage_packs_next) == (2, 1)

    def test_storage_needs_post(self, portal: Client) -> None:
        assert portal.get("/settings/subscription/storage/").status_code == 405


class TestMarketplace:
    @pytest.fixture
    def market(self, catalog: None, clock_at_now: None) -> Any:
        return make_organization(
            name="Markt Oy",
            admin_email="m@markt.example",
            purchase_channel={
                "type": "marketplace",
                "name": "Partner Market",
                "url": "https://pm.example/",
            },
        )

    def test_everything_is_read_only_with_the_marketplace_link(self, market: Any) -> None:
        client = client_for(admin_of(market).user)
        body = client.get("/settings/subscription/licences/").content.decode()
        assert "bought through Partner Market" in body
        assert 'href="https://pm.example/"' in body
        assert "<fieldset disabled>" in body
        overview = client.get("/settings/subscription/").content.decode()
        assert "Request an edition change" not in overview

    def test_a_forced_change_is_refused(self, market: Any) -> None:
        client = client_for(admin_of(market).user)
        before = state(market)
        response = client.post("/settings/subscription/licences/", {"licenses": "12"})
        assert "change it there: https://pm.example/" in response.content.decode()
        assert state(market) == before


class TestEditionRequest:
    def test_request_is_sent_and_listed(self, portal: Client, org: Any) -> None:
        page = portal.get("/settings/subscription/edition/").content.decode()
        assert "To change your edition, contact customer service." in page
        assert '<option value="pro"' not in page  # already the next edition
        response = portal.post(
            "/settings/subscription/edition/",
            {"edition": "enterprise", "message": "We need SCIM."},
            follow=True,
        )
        body = response.content.decode()
        request = EditionChangeRequest.objects.get(organization=org)
        assert (request.edition.code, request.status, request.message) == (
            "enterprise",
            "open",
            "We need SCIM.",
        )
        assert "Your request has been sent." in body
        assert "Waiting for customer service" in body

    def test_unknown_edition_is_a_field_error(self, portal: Client, org: Any) -> None:
        response = portal.post("/settings/subscription/edition/", {"edition": "gold"})
        assert response.status_code == 200
        assert "Select a valid choice." in response.content.decode()
        assert EditionChangeRequest.objects.count() == 0


def test_next_period_dates_are_in_the_users_language(portal: Client, admin_user: Any) -> None:
    type(admin_user).objects.filter(pk=admin_user.pk).update(language="nl")
    body = portal.get("/settings/subscription/").content.decode()
    assert "1 jul 2027" in body
    assert "€ 1.200,00" in body.replace("\xa0", " ")
    assert date(2027, 7, 1)  # the next period's start (see above)


class TestMarketplaceEdition:
    @pytest.fixture
    def market(self, catalog: None, clock_at_now: None) -> Any:
        return make_organization(
            name="Markt Oy",
            admin_email="m@markt.example",
            purchase_channel={
                "type": "marketplace",
                "name": "Partner Market",
                "url": "https://pm.example/",
            },
        )

    def test_the_overview_points_to_the_marketplace(self, market: Any) -> None:
        body = client_for(admin_of(market).user).get("/settings/subscription/").content.decode()
        assert (
            "Your subscription was bought through Partner Market: change your edition there."
            in body
        )
        assert "contact customer service" not in body
        assert (
            body.count('<a href="https://pm.example/" rel="noopener">Open Partner Market</a>') == 2
        )

    def test_the_edition_page_offers_no_request(self, market: Any) -> None:
        user = admin_of(market).user
        user.language = "nl"
        user.save(update_fields=["language"])
        body = client_for(user).get("/settings/subscription/edition/").content.decode()
        assert "Je abonnement is gekocht via Partner Market: wijzig je versie daar." in body
        assert "verzoek" not in body.split('id="requests-title"')[0].lower()
        assert "<form" not in body.split('id="requests-title"')[0].split('id="edition-title"')[1]

    def test_a_forced_request_shows_the_refusal(self, market: Any) -> None:
        client = client_for(admin_of(market).user)
        response = client.post(
            "/settings/subscription/edition/", {"edition": "enterprise", "message": "Please"}
        )
        body = response.content.decode()
        assert (
            '<div class="notice notice-error" role="alert">\n    <p>This subscription was bought'
            " through Partner Market; change it there: https://pm.example/</p>" in body
        )
        assert EditionChangeRequest.objects.filter(organization=market).count() == 0


class TestNewPrices:
    """The catalogue's price list from 2027-07-01 raises every price by 1.00 a month."""

    def test_a_new_price_list_is_shown_for_the_next_period(
        self, portal: Client, org: Any, admin_user: Any
    ) -> None:
        from abonnement.features.services import set_feature_enabled
        from abonnement.subscriptions.services import set_storage_packs

        set_storage_packs(organization=org, extra_packs=1, actor=admin_of(org), now=NOW)
        set_feature_enabled(
            organization=org, code="sso", enabled=True, actor=admin_of(org), now=NOW
        )
        body = portal.get("/settings/subscription/").content.decode()
        assert "Nothing is scheduled" not in body
        assert "New prices apply from 1 July 2027:" in body
        assert "<li>User licence: €20.00 → €21.00 a month</li>" in body
        assert "<li>Storage pack: €4.00 → €5.00 a month</li>" in body
        assert "<li>Single sign-on: €8.00 → €9.00 a month</li>" in body
        # 10 × 20 + 4 + 8 now; 10 × 21 + 5 + 9 next.
        assert "€212.00</dd>" in body and '€224.00<span class="changed">changes</span>' in body

        admin_user.language = "nl"
        admin_user.save(update_fields=["language"])
        body = portal.get("/settings/subscription/").content.decode()
        assert "Vanaf 1 juli 2027 gelden nieuwe prijzen:" in body
        assert "<li>Gebruikerslicentie: €\xa020,00 → €\xa021,00 per maand</li>" in body

    def test_without_new_prices_nothing_is_scheduled(
        self, catalog: None, clock_at_now: None
    ) -> None:
        monthly = make_organization(name="Kuukausi Oy", admin_email="k@kk.example", period_months=1)
        body = client_for(admin_of(monthly).user).get("/settings/subscription/").content.decode()
        assert "Nothing is scheduled: the next period continues as the current one." in body
        assert "New prices apply" not in body
        assert '<span class="changed">' not in body


class TestInvoicesHeldNotice:
    """Provisioned without an invoice address (as over the API), the organisation's invoices
    wait for it; the overview says so until the billing details name one."""

    NOTICE = "Invoices wait for your billing details. Add the invoice address to receive them."

    def notice(self, client: Client) -> str | None:
        body = client.get("/settings/subscription/").content.decode()
        if 'id="invoices-held"' not in body:
            return None
        return body.split('id="invoices-held">', 1)[1].split("</div>", 1)[0]

    def test_shown_while_invoices_wait_and_gone_once_the_address_is_saved(
        self, portal: Client, org: Any
    ) -> None:
        from abonnement.invoicing.services import issue_invoice_for_order

        order = Order.objects.get(organization=org)
        assert issue_invoice_for_order(order_id=order.pk, now=NOW).invoice is None
        notice = self.notice(portal)
        assert notice is not None
        assert self.NOTICE in notice
        assert '<a href="/settings/subscription/billing/">Billing details</a>' in notice
        response = portal.post(
            "/settings/subscription/billing/",
            {
                "contact_kind": "user",
                "contact_user": str(admin_of(org).user.pk),
                "street": "Testikatu 1",
                "postal_code": "00100",
                "city": "Helsinki",
                "country": "FI",
                "invoice_language": "en",
            },
        )
        assert response.status_code == 302
        org.billing_details.refresh_from_db()
        assert org.billing_details.street == "Testikatu 1"
        assert self.notice(portal) is None

    @pytest.mark.parametrize(
        "language,text",
        [
            (
                "nl",
                "Facturen wachten op je facturatiegegevens. "
                "Vul het factuuradres in om ze te ontvangen.",
            ),
            ("fi", "Laskut odottavat laskutustietojasi. Lisää laskutusosoite, niin saat laskut."),
        ],
    )
    def test_in_the_users_language(
        self, portal: Client, admin_user: Any, language: str, text: str
    ) -> None:
        admin_user.language = language
        admin_user.save(update_fields=["language"])
        notice = self.notice(portal)
        assert notice is not None and text in notice

    def test_not_shown_with_an_invoice_address(self, portal: Client, org: Any) -> None:
        from tests.conftest import give_invoice_address

        give_invoice_address(org)
        assert self.notice(portal) is None

    def test_a_marketplace_customer_is_sent_to_the_marketplace(
        self, catalog: None, clock_at_now: None
    ) -> None:
        market = make_organization(
            name="Markt Oy",
            admin_email="m@markt.example",
            purchase_channel={
                "type": "marketplace",
                "name": "Partner Market",
                "url": "https://pm.example/",
            },
        )
        notice = self.notice(client_for(admin_of(market).user))
        assert notice is not None
        assert (
            "Invoices wait for your billing details. They are managed through Partner Market: "
            "add the invoice address there to receive them."
        ) in notice
        assert "/settings/subscription/billing/" not in notice
