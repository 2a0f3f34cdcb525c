"""Each back-office action: its exact effect, and its history entry with the staff member
as actor and ``back_office`` as channel. A refused action changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from abonnement.accounts.models import User
from abonnement.history.models import HistoryEntry
from abonnement.organizations.models import VatNumberChange
from abonnement.subscriptions.models import EditionChangeRequest, Subscription
from abonnement.subscriptions.rollover import roll_over_subscriptions
from abonnement.subscriptions.services import request_edition_change, schedule_edition_change
from tests.conftest import NOW, VENDOR, admin_of, make_organization

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n"


def staff_entries(org: Any) -> list[HistoryEntry]:
    return list(HistoryEntry.objects.filter(organization=org, channel="back_office").order_by("id"))


def assert_by_staff(entry: HistoryEntry, user: User) -> None:
    assert (entry.actor_type, entry.actor_name, entry.actor_user_id, entry.channel, entry.at) == (
        "staff",
        user.display_name,
        user.pk,
        "back_office",
        NOW,
    )


def history_count() -> int:
    return HistoryEntry.objects.count()


class TestScheduleEditionChange:
    def url(self, org: Any) -> str:
        return reverse("backoffice:edition", args=[org.pk])

    def test_preview_shows_the_next_periods_price_with_the_new_edition(
        self, billing_client: Client, org: Any
    ) -> None:
        response = billing_client.get(self.url(org), {"edition": "enterprise"})
        assert response.status_code == 200
        change = response.context["change"]
        # Next period 2027-07-01..2027-12-31 at the 2027 H2 prices: Pro 21.00, Enterprise 36.00.
        assert (change.overview.next.period.start, change.overview.next.period.end) == (
            date(2027, 7, 1),
            date(2027, 12, 31),
        )
        assert change.overview.next.total_price == Decimal("1260.00")
        assert change.proposed.next.edition.code == "enterprise"
        assert change.proposed.next.license_unit_price == Decimal("36.0000")
        assert change.proposed.next.total_price == Decimal("2160.00")
        assert change.proposed.current.total_price == change.overview.current.total_price
        page = response.content.decode()
        assert "€2,160.00" in page
        assert "Schedule Enterprise from 1 Jul 2027" in page
        assert Subscription.objects.get(organization=org).next_edition_id is None

    def test_scheduling_sets_the_next_edition_only(
        self, billing_client: Client, billing_user: User, org: Any
    ) -> None:
        response = billing_client.post(self.url(org), {"edition": "enterprise"})
        assert response.status_code == 302
        assert response["Location"] == reverse("backoffice:organization", args=[org.pk])
        sub = Subscription.objects.select_related("edition", "next_edition").get(organization=org)
        assert (sub.edition.code, sub.next_edition and sub.next_edition.code) == (
            "pro",
            "enterprise",
        )
        assert sub.license_unit_price == Decimal("20.0000")
        [entry] = staff_entries(org)
        assert_by_staff(entry, billing_user)
        assert (entry.kind, entry.action, entry.subject, entry.before, entry.after) == (
            "edition",
            "edition_change_scheduled",
            "Enterprise",
            {"next_edition": "pro"},
            {"next_edition": "enterprise"},
        )

    def test_an_unknown_edition_is_refused_beside_the_field(
        self, billing_client: Client, org: Any
    ) -> None:
        before = history_count()
        response = billing_client.post(self.url(org), {"edition": "platinum"})
        assert response.status_code == 422
        assert response.context["form"].errors == {"edition": ["There is no edition “platinum”."]}
        assert Subscription.objects.get(organization=org).next_edition_id is None
        assert history_count() == before

    def test_takes_effect_at_the_next_rollover_and_not_before(
        self, billing_client: Client, org: Any
    ) -> None:
        billing_client.post(self.url(org), {"edition": "enterprise"})
        # The last day of the current period (Helsinki): nothing is due yet.
        result = roll_over_subscriptions(now=datetime(2027, 6, 30, 20, 0, tzinfo=UTC))
        assert result.transitions == 0
        sub = Subscription.objects.select_related("edition", "next_edition").get(organization=org)
        assert (sub.edition.code, sub.next_edition and sub.next_edition.code) == (
            "pro",
            "enterprise",
        )
        assert sub.current_period_start == date(2027, 1, 1)
        # The first day of the next period: the edition changes with it.
        result = roll_over_subscriptions(now=datetime(2027, 7, 1, 9, 0, tzinfo=UTC))
        assert result.transitions == 1
        sub = Subscription.objects.select_related("edition").get(organization=org)
        assert (sub.edition.code, sub.next_edition_id) == ("enterprise", None)
        assert (sub.current_period_start, sub.current_period_end) == (
            date(2027, 7, 1),
            date(2027, 12, 31),
        )
        assert sub.license_unit_price == Decimal("36.0000")


class TestCancelEditionChange:
    def url(self, org: Any) -> str:
        return reverse("backoffice:edition_cancel", args=[org.pk])

    def test_cancelling_keeps_the_current_edition(
        self, billing_client: Client, billing_user: User, org: Any
    ) -> None:
        schedule_edition_change(organization=org, edition="basic", actor=VENDOR, now=NOW)
        response = billing_client.post(self.url(org))
        assert response.status_code == 302
        assert Subscription.objects.get(organization=org).next_edition_id is None
        [entry] = staff_entries(org)
        assert_by_staff(entry, billing_user)
        assert (entry.action, entry.before, entry.after) == (
            "edition_change_cancelled",
            {"next_edition": "basic"},
            {"next_edition": "pro"},
        )

    def test_nothing_to_cancel_says_so_and_changes_nothing(
        self, billing_client: Client, org: Any
    ) -> None:
        before = history_count()
        response = billing_client.post(self.url(org), follow=True)
        assert "No edition change is scheduled." in response.content.decode()
        assert history_count() == before


class TestAnswerEditionRequest:
    @pytest.fixture
    def request_(self, org: Any) -> EditionChangeRequest:
        return request_edition_change(
            organization=org,
            edition="enterprise",
            message="We need SSO.",
            actor=admin_of(org),
            now=NOW,
        )

    def url(self, request: EditionChangeRequest) -> str:
        return reverse("backoffice:edition_request", args=[request.pk])

    def test_the_request_page_previews_scheduling(
        self, support_client: Client, request_: EditionChangeRequest
    ) -> None:
        response = support_client.get(self.url(request_))
        assert response.status_code == 200
        change = response.context["view"].change
        assert change.proposed.next.total_price == Decimal("2160.00")
        assert "We need SSO." in response.content.decode()

    def test_support_schedules_it(
        self,
        support_client: Client,
        support_user: User,
        org: Any,
        request_: EditionChangeRequest,
    ) -> None:
        response = support_client.post(
            self.url(request_), {"decision": "schedule", "response": "From July."}
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("backoffice:edition_requests")
        answered = EditionChangeRequest.objects.get(pk=request_.pk)
        assert (answered.status, answered.response, answered.decided_by, answered.decided_at) == (
            "scheduled",
            "From July.",
            "Sanna Support",
            NOW,
        )
        assert Subscription.objects.get(organization=org).next_edition.code == "enterprise"
        scheduled, decided = staff_entries(org)
        for entry in (scheduled, decided):
            assert_by_staff(entry, support_user)
        assert (scheduled.action, scheduled.after, scheduled.reason) == (
            "edition_change_scheduled",
            {"next_edition": "enterprise"},
            f"Edition-change request {request_.pk}",
        )
        assert (decided.action, decided.before, decided.after) == (
            "edition_request_scheduled",
            {"status": "open"},
            {"status": "scheduled", "response": "From July."},
        )

    def test_declining_keeps_the_subscription_and_answers_the_customer(
        self,
        billing_client: Client,
        billing_user: User,
        org: Any,
        request_: EditionChangeRequest,
    ) -> None:
        response = billing_client.post(
            self.url(request_), {"decision": "decline", "response": "Talk to sales first."}
        )
        assert response.status_code == 302
        answered = EditionChangeRequest.objects.get(pk=request_.pk)
        assert (answered.status, answered.response) == ("declined", "Talk to sales first.")
        assert Subscription.objects.get(organization=org).next_edition_id is None
        [entry] = staff_entries(org)
        assert_by_staff(entry, billing_user)
        assert (entry.action, entry.after) == (
            "edition_request_declined",
            {"status": "declined", "response": "Talk to sales first."},
        )

    def test_declining_without_a_message_is_refused_beside_the_message(
        self, support_client: Client, request_: EditionChangeRequest
    ) -> None:
        before = history_count()
        response = support_client.post(self.url(request_), {"decision": "decline", "response": ""})
        assert response.status_code == 422
        assert response.context["form"].errors == {
            "response": ["Tell the customer why the request is declined."]
        }
        assert EditionChangeRequest.objects.get(pk=request_.pk).status == "open"
        assert history_count() == before

    def test_an_answered_request_cannot_be_answered_again(
        self, support_client: Client, request_: EditionChangeRequest
    ) -> None:
        support_client.post(self.url(request_), {"decision": "decline", "response": "No."})
        before = history_count()
        response = support_client.post(self.url(request_), {"decision": "schedule"})
        assert response.status_code == 422
        assert response.context["form"].non_field_errors() == [
            "This request has already been answered."
        ]
        assert EditionChangeRequest.objects.get(pk=request_.pk).status == "declined"
        assert history_count() == before

    def test_answering_a_scheduled_request_again_shows_why_it_is_refused(
        self, support_client: Client, org: Any, request_: EditionChangeRequest
    ) -> None:
        support_client.post(self.url(request_), {"decision": "schedule", "response": "OK"})
        before = history_count()
        response = support_client.post(
            self.url(request_), {"decision": "decline", "response": "No after all."}
        )
        assert response.status_code == 422
        page = response.content.decode()
        assert '<div class="notice notice-error" role="alert">' in page
        assert "<p>This request has already been answered.</p>" in page
        assert 'name="decision"' not in page  # no second answer is offered
        assert "answered meanwhile" not in page  # the template's comment stays a comment
        answered = EditionChangeRequest.objects.get(pk=request_.pk)
        assert (answered.status, answered.response) == ("scheduled", "OK")
        assert Subscription.objects.get(organization=org).next_edition.code == "enterprise"
        assert history_count() == before

    def test_cancelling_the_scheduled_change_reopens_the_request(
        self,
        support_client: Client,
        billing_client: Client,
        billing_user: User,
        org: Any,
        request_: EditionChangeRequest,
    ) -> None:
        support_client.post(
            self.url(request_), {"decision": "schedule", "response": "OK from next period"}
        )
        response = billing_client.post(reverse("backoffice:edition_cancel", args=[org.pk]))
        assert response.status_code == 302
        reopened = EditionChangeRequest.objects.get(pk=request_.pk)
        assert (reopened.status, reopened.response, reopened.decided_at) == ("open", "", None)
        cancelled, entry = staff_entries(org)[-2:]
        assert cancelled.action == "edition_change_cancelled"
        assert_by_staff(entry, billing_user)
        assert (entry.action, entry.subject, entry.before, entry.after) == (
            "edition_request_reopened",
            "Enterprise",
            {"status": "scheduled", "response": "OK from next period"},
            {"status": "open", "request_id": request_.pk},
        )
        page = support_client.get(self.url(request_)).content.decode()
        assert '<span class="badge badge-warn">Open</span>' in page
        assert "OK from next period" not in page
        assert 'name="decision"' in page

    def test_the_inbox_lists_open_requests_oldest_first(
        self, support_client: Client, org: Any, request_: EditionChangeRequest
    ) -> None:
        other = make_organization(name="Toinen Oy", admin_email="admin@toinen.example")
        later = request_edition_change(
            organization=other,
            edition="basic",
            message="",
            actor=admin_of(other),
            now=datetime(2027, 1, 16, 9, 0, tzinfo=UTC),
        )
        response = support_client.get(reverse("backoffice:edition_requests"))
        assert [r.pk for r in response.context["inbox"].page] == [request_.pk, later.pk]
        assert response.context["inbox"].open_count == 2
        support_client.post(self.url(request_), {"decision": "decline", "response": "No."})
        response = support_client.get(reverse("backoffice:edition_requests"))
        assert [r.pk for r in response.context["inbox"].page] == [later.pk]
        response = support_client.get(
            reverse("backoffice:edition_requests"), {"status": "declined"}
        )
        assert [r.pk for r in response.context["inbox"].page] == [request_.pk]


class TestPurchaseChannel:
    def url(self, org: Any) -> str:
        return reverse("backoffice:purchase_channel", args=[org.pk])

    def test_the_form_explains_the_effect(self, billing_client: Client, org: Any) -> None:
        page = billing_client.get(self.url(org)).content.decode()
        assert "What changes when you save" in page
        assert "(vendor) API calls change them" in page

    def test_switching_to_a_marketplace_and_back(
        self, billing_client: Client, billing_user: User, org: Any
    ) -> None:
        response = billing_client.post(
            self.url(org),
            {"type": "marketplace", "name": "Nordic Apps", "url": "https://apps.example/abo"},
        )
        assert response.status_code == 302
        org.refresh_from_db()
        assert (org.purchase_channel, org.marketplace_name, org.marketplace_url) == (
            "marketplace",
            "Nordic Apps",
            "https://apps.example/abo",
        )
        response = billing_client.post(self.url(org), {"type": "direct"})
        assert response.status_code == 302
        org.refresh_from_db()
        assert (org.purchase_channel, org.marketplace_name, org.marketplace_url) == (
            "direct",
            "",
            "",
        )
        to_market, to_direct = staff_entries(org)
        for entry in (to_market, to_direct):
            assert_by_staff(entry, billing_user)
            assert entry.action == "purchase_channel_changed"
        assert (to_market.before, to_market.after) == (
            {"type": "direct", "name": "", "url": ""},
            {"type": "marketplace", "name": "Nordic Apps", "url": "https://apps.example/abo"},
        )
        assert to_direct.after == {"type": "direct", "name": "", "url": ""}

    def test_a_marketplace_needs_a_name_and_a_link(self, billing_client: Client, org: Any) -> None:
        before = history_count()
        response = billing_client.post(
            self.url(org), {"type": "marketplace", "name": "", "url": "not a link"}
        )
        assert response.status_code == 422
        errors = response.context["form"].errors
        assert set(errors) == {"name", "url"}
        assert errors["url"] == ["Enter the marketplace's web address (https://…)."]
        org.refresh_from_db()
        assert org.purchase_channel == "direct"
        assert history_count() == before

    def test_no_channel_chosen(self, billing_client: Client, org: Any) -> None:
        response = billing_client.post(self.url(org), {})
        assert response.status_code == 422
        assert response.context["form"].errors == {
            "type": ["Choose direct or a partner marketplace."]
        }


class TestVatNumberTransfer:
    def url(self, org: Any) -> str:
        return reverse("backoffice:vat_number", args=[org.pk])

    def post(self, client: Client, org: Any, **overrides: Any) -> Any:
        data: dict[str, Any] = {
            "vat_number": "FI 1234567-1",
            "effective_date": "2027-02-01",
            "document": SimpleUploadedFile("sopimus.pdf", PDF, "application/pdf"),
        }
        data.update(overrides)
        return client.post(self.url(org), {k: v for k, v in data.items() if v is not None})

    def test_records_the_new_number_with_its_document(
        self, billing_client: Client, billing_user: User, org: Any
    ) -> None:
        response = self.post(billing_client, org)
        assert response.status_code == 302
        org.refresh_from_db()
        # Effective 2027-02-01, after today (2027-01-15): the old number is in force until then.
        assert org.vat_number == "FI23456780"
        change = VatNumberChange.objects.get(organization=org)
        assert (
            change.old_vat_number,
            change.new_vat_number,
            change.effective_date,
            change.document_name,
            bytes(change.document),
            change.recorded_by,
        ) == ("FI23456780", "FI12345671", date(2027, 2, 1), "sopimus.pdf", PDF, "Bert Billing")
        [entry] = staff_entries(org)
        assert_by_staff(entry, billing_user)
        assert (entry.action, entry.before, entry.after) == (
            "vat_number_transferred",
            {"vat_number": "FI23456780"},
            {"vat_number": "FI12345671", "effective_date": "2027-02-01", "document": "sopimus.pdf"},
        )
        from abonnement.organizations.services import vat_number_on

        assert vat_number_on(org, date(2027, 1, 31)) == "FI23456780"
        assert vat_number_on(org, date(2027, 2, 1)) == "FI12345671"

    def test_a_back_dated_transfer_names_the_invoices_that_keep_the_old_number(
        self, billing_client: Client, org: Any
    ) -> None:
        from abonnement.invoicing.services import issue_invoice_for_order
        from abonnement.orders.models import Order
        from tests.conftest import give_invoice_address

        give_invoice_address(org)
        issue_invoice_for_order(order_id=Order.objects.get(organization=org).pk, now=NOW)
        response = self.post(billing_client, org, effective_date="2027-01-10")
        page = billing_client.get(response["Location"]).content.decode()
        assert (
            "Invoice 1 was issued from 2027-01-10 with the old number and keeps it: an issued "
            "invoice never changes."
        ) in page
        later = self.post(billing_client, org, vat_number="FI23327487", effective_date="2027-03-01")
        assert "was issued from" not in billing_client.get(later["Location"]).content.decode()

    def test_a_number_effective_already_is_the_organisations_at_once(
        self, billing_client: Client, org: Any
    ) -> None:
        response = self.post(billing_client, org, effective_date="2027-01-10")
        assert response.status_code == 302
        org.refresh_from_db()
        assert org.vat_number == "FI12345671"

    @pytest.mark.parametrize(
        ("day", "message"),
        [
            (
                "0001-01-01",
                "The effective date cannot be before the organisation&#x27;s first period "
                "(1 Jan 2027).",
            ),
            ("2028-01-17", "Give an effective date within a year from today."),
        ],
        ids=["year-one", "too-far-ahead"],
    )
    def test_an_effective_date_out_of_bounds_is_refused(
        self, billing_client: Client, org: Any, day: str, message: str
    ) -> None:
        before = history_count()
        response = self.post(billing_client, org, effective_date=day)
        assert response.status_code == 422
        assert message in response.content.decode()
        assert VatNumberChange.objects.filter(organization=org).count() == 0
        org.refresh_from_db()
        assert org.vat_number == "FI23456780"
        assert history_count() == before

    def test_the_document_downloads_as_stored(
        self, billing_client: Client, support_client: Client, org: Any
    ) -> None:
        self.post(billing_client, org)
        change = VatNumberChange.objects.get(organization=org)
        url = reverse("backoffice:vat_document", args=[org.pk, change.pk])
        response = support_client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == 'attachment; filename="sopimus.pdf"'
        assert response.content == PDF

    @pytest.mark.parametrize(
        ("overrides", "errors"),
        [
            (
                {"vat_number": "FI12345678"},
                {
                    "vat_number": [
                        "This VAT number has an invalid check digit. Check the number for "
                        "typing errors."
                    ]
                },
            ),
            (
                {"document": SimpleUploadedFile("x.pdf", b"GIF89a", "application/pdf")},
                {"document": ["The contract transfer document must be a PDF."]},
            ),
            (
                {
                    "document": SimpleUploadedFile(
                        "big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "application/pdf"
                    )
                },
                {"document": ["The document is larger than 10 MB."]},
            ),
            (
                {"document": None, "effective_date": ""},
                {
                    "effective_date": ["Give the date from which the new number applies."],
                    "document": ["Attach the contract transfer document (PDF)."],
                },
            ),
            (
                {"effective_date": "1.2.2027x"},
                {"effective_date": ["Enter a date such as 2027-03-01."]},
            ),
        ],
        ids=["bad-check-digit", "not-a-pdf", "too-large", "missing", "bad-date"],
    )
    def test_refusals_are_beside_their_fields_and_change_nothing(
        self, billing_client: Client, org: Any, overrides: dict[str, Any], errors: Any
    ) -> None:
        before = history_count()
        response = self.post(billing_client, org, **overrides)
        assert response.status_code == 422
        assert response.context["form"].errors == errors
        org.refresh_from_db()
        assert org.vat_number == "FI23456780"
        assert VatNumberChange.objects.count() == 0
        assert history_count() == before


class TestSearch:
    @pytest.fixture
    def orgs(self, org: Any) -> tuple[Any, Any]:
        other = make_organization(
            name="Fjällbyrån AB",
            vat_number="SE556677889901",
            country="SE",
            currency="SEK",
            admin_email="elsa@fjall.example",
        )
        make_organization(
            name="Helvetia AG",
            vat_number="CHE-116.281.710 MWST",
            country="CH",
            currency="EUR",
            admin_email="urs@helvetia.example",
        )
        return org, other

    @pytest.mark.parametrize(
        ("query", "names"),
        [
            ("", ["Fjällbyrån AB", "Helvetia AG", "Testi Oy"]),
            ("CHE-116.281.710 MWST", ["Helvetia AG"]),
            ("che116281710", ["Helvetia AG"]),
            ("116.281.710", ["Helvetia AG"]),
            ("  ", ["Fjällbyrån AB", "Helvetia AG", "Testi Oy"]),
            ("testi", ["Testi Oy"]),
            ("FI 2345 6780", ["Testi Oy"]),
            ("556677", ["Fjällbyrån AB"]),
            ("elsa@fjall", ["Fjällbyrån AB"]),
            ("nobody", []),
        ],
    )
    def test_finds_by_name_vat_number_and_email(
        self, support_client: Client, orgs: Any, query: str, names: list[str]
    ) -> None:
        response = support_client.get(reverse("backoffice:home"), {"q": query})
        assert response.status_code == 200
        assert sorted(o.name for o in response.context["search"].page) == names

    def test_finds_an_organisation_by_the_vat_number_it_had_before_a_transfer(
        self, support_client: Client, orgs: Any
    ) -> None:
        from abonnement.core.actor import Actor
        from abonnement.organizations.services import transfer_vat_number

        org, _other = orgs
        transfer_vat_number(
            organization=org,
            vat_number="FI23327487",
            effective_date=date(2027, 1, 15),
            document=PDF,
            document_name="transfer.pdf",
            actor=Actor.vendor_token("Test vendor"),
            now=NOW,
        )
        for query in ("FI-2345-6780", "FI 2332 7487"):
            response = support_client.get(reverse("backoffice:home"), {"q": query})
            assert [o.name for o in response.context["search"].page] == ["Testi Oy"]

    def test_finds_by_id(self, support_client: Client, orgs: Any) -> None:
        org, _other = orgs
        response = support_client.get(reverse("backoffice:home"), {"q": str(org.pk)})
        [found] = response.context["search"].page
        assert found.pk == org.pk
        assert [a.email for a in found.administrators] == ["admin@testi.example"]


class TestOrganizationPage:
    def test_shows_what_the_administrator_sees(self, support_client: Client, org: Any) -> None:
        response = support_client.get(reverse("backoffice:organization", args=[org.pk]))
        assert response.status_code == 200
        page = response.context["page"]
        assert page.organization.pk == org.pk
        # Current: Pro, 10 licences at 20.00 for 6 months; next at the 2027 H2 price 21.00.
        assert (page.overview.current.total_price, page.overview.next.total_price) == (
            Decimal("1200.00"),
            Decimal("1260.00"),
        )
        assert [u.email for u in page.users] == ["admin@testi.example"]
        assert [o.total for o in page.orders] == [Decimal("1200.00")]
        assert [e.action for e in page.history.page] == ["organization_created", "order_created"]
        assert {s.feature.code: s.enabled for s in page.features}["reports"] is True
        assert page.billing is not None and page.billing.vat_number == "FI23456780"
        html = response.content.decode()
        for text in ("Current billing period", "Next billing period", "€1,260.00", "Users"):
            assert text in html
        # Support reads; the billing role's actions are not offered.
        assert reverse("backoffice:edition", args=[org.pk]) not in html

    def test_billing_staff_get_the_actions(self, billing_client: Client, org: Any) -> None:
        html = billing_client.get(reverse("backoffice:organization", args=[org.pk])).content
        for name in ("edition", "purchase_channel", "vat_number"):
            assert reverse(f"backoffice:{name}", args=[org.pk]).encode() in html

    def test_history_filters_by_kind(self, support_client: Client, org: Any) -> None:
        schedule_edition_change(organization=org, edition="basic", actor=VENDOR, now=NOW)
        url = reverse("backoffice:organization", args=[org.pk])
        page = support_client.get(url, {"kind": "edition"}).context["page"]
        assert [e.action for e in page.history.page] == ["edition_change_scheduled"]


class TestFeedbackInbox:
    @pytest.fixture
    def feedback(self, org: Any) -> None:
        from abonnement.feedback.services import submit_feedback

        admin = admin_of(org)
        for page, helpful, text in [
            ("overview", True, ""),
            ("overview", False, "Where is the invoice?"),
            ("licenses", False, "Confusing"),
        ]:
            submit_feedback(
                page=page, helpful=helpful, text=text, language="en", actor=admin, now=NOW
            )

    @pytest.mark.parametrize(
        ("params", "texts"),
        [
            ({}, ["Confusing", "Where is the invoice?", ""]),
            ({"on": "overview"}, ["Where is the invoice?", ""]),
            ({"answer": "no"}, ["Confusing", "Where is the invoice?"]),
            ({"on": "overview", "answer": "yes"}, [""]),
            ({"on": "billing"}, []),
        ],
    )
    def test_filters_by_page_and_answer(
        self, support_client: Client, feedback: None, params: dict[str, str], texts: list[str]
    ) -> None:
        response = support_client.get(reverse("backoffice:feedback"), params)
        assert response.status_code == 200
        inbox = response.context["inbox"]
        assert [f.text for f in inbox.page] == texts
        assert inbox.pages == ["licenses", "overview"]

    def test_shows_who_and_where(self, support_client: Client, feedback: None, org: Any) -> None:
        html = support_client.get(reverse("backoffice:feedback")).content.decode()
        assert "Where is the invoice?" in html
        assert "Anna Admin" in html
        assert reverse("backoffice:organization", args=[org.pk]) in html


class TestQueryCounts:
    """Pages read a fixed number of queries, however many users, orders or organisations."""

    def count(self, client: Client, url: str) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def test_organisation_page(self, support_client: Client, org: Any) -> None:
        from abonnement.subscriptions.services import set_license_count
        from tests.conftest import add_users

        url = reverse("backoffice:organization", args=[org.pk])
        first = self.count(support_client, url)
        add_users(org, 5)
        set_license_count(organization=org, licenses=14, actor=admin_of(org), now=NOW)
        assert self.count(support_client, url) == first

    def test_search(self, support_client: Client, org: Any) -> None:
        url = reverse("backoffice:home")
        first = self.count(support_client, url)
        for i in range(3):
            make_organization(name=f"Lisä {i} Oy", admin_email=f"admin{i}@lisa.example")
        assert self.count(support_client, url) == first
