"""Organisations: provisioning, company name, purchase channel, VAT-number transfer
(PRODUCT.md "Back office", "Billing details", Rules 1, 13, 14)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from abonnement.accounts.models import User
from abonnement.billing.models import BillingDetails
from abonnement.core.actor import Actor
from abonnement.core.errors import NotFound, PermissionDenied, ValidationFailed
from abonnement.features.models import FeatureSwitch
from abonnement.history.models import HistoryEntry
from abonnement.orders.models import Order, OrderLine
from abonnement.organizations.models import Organization, VatNumberChange
from abonnement.organizations.services import (
    MAX_DOCUMENT_BYTES,
    apply_due_vat_numbers,
    first_period_start,
    rename_organization,
    set_purchase_channel,
    transfer_vat_number,
    vat_number_on,
)
from abonnement.subscriptions.models import Subscription
from abonnement.subscriptions.selectors import subscription_overview
from tests.conftest import NOW, VENDOR, admin_of, give_invoice_address, make_organization

pytestmark = pytest.mark.django_db

MARKETPLACE = {"type": "marketplace", "name": "Partner Market", "url": "https://pm.example/"}
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
NEW_VAT = "FI23327487"  # Y-tunnus 2332748-7


def counts() -> dict[str, int]:
    """Everything a refused provisioning must leave as it was."""
    return {
        "organizations": Organization.objects.count(),
        "users": User.objects.count(),
        "subscriptions": Subscription.objects.count(),
        "orders": Order.objects.count(),
        "switches": FeatureSwitch.objects.count(),
        "billing": BillingDetails.objects.count(),
        "history": HistoryEntry.objects.count(),
    }


def staff(role: str = "billing") -> Actor:
    email = f"cs-{role}@vendor.example"
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email, name="Cees Service", is_staff=True, staff_role=role
    )
    return Actor.staff(user)


def refused_fields(**overrides: Any) -> list[tuple[str, str]]:
    before = counts()
    with pytest.raises(ValidationFailed) as error:
        make_organization(**overrides)
    assert error.value.status == 422
    assert counts() == before
    return [(e.field, e.message) for e in error.value.errors]


def org_state(org: Any) -> tuple[Any, ...]:
    row = Organization.objects.filter(pk=org.pk).values().get()
    return (
        row,
        HistoryEntry.objects.filter(organization=org).count(),
        VatNumberChange.objects.filter(organization=org).count(),
    )


class TestProvisionOrganization:
    def test_creates_the_organisation(self, catalog: None) -> None:
        org = make_organization()
        row = Organization.objects.filter(pk=org.pk).values().get()
        assert {k: v for k, v in row.items() if k != "id"} == {
            "name": "Testi Oy",
            "vat_number": "FI23456780",
            "country": "FI",
            "currency": "EUR",
            "language": "en",
            "purchase_channel": "direct",
            "marketplace_name": "",
            "marketplace_url": "",
            "created_at": NOW,
        }

    def test_admin_holds_both_permissions_and_one_licence(self, catalog: None) -> None:
        org = make_organization()
        admin = User.objects.get(organization=org)
        assert (
            admin.email,
            admin.name,
            admin.is_active,
            admin.manage_subscription,
            admin.manage_users,
            admin.is_staff,
            admin.language,
        ) == ("admin@testi.example", "Anna Admin", True, True, True, False, "en")
        overview = subscription_overview(organization_id=org.pk)
        assert (overview.active_users, overview.current.free_licenses) == (1, 9)

    def test_subscription_period_and_prices(self, catalog: None) -> None:
        org = make_organization()
        sub = Subscription.objects.select_related("edition", "price_list").get(organization=org)
        assert (
            sub.edition.code,
            sub.next_edition_id,
            sub.period_months,
            sub.anchor_day,
            sub.current_period_start,
            sub.current_period_end,
            sub.licenses,
            sub.licenses_next,
            sub.storage_packs,
            sub.storage_packs_next,
            sub.license_unit_price,
            sub.storage_unit_price,
            sub.price_list.name,
        ) == (
            "pro",
            None,
            6,
            1,
            date(2027, 1, 1),
            date(2027, 6, 30),
            10,
            10,
            0,
            0,
            Decimal("20.0000"),
            Decimal("4.0000"),
            "2026",
        )

    def test_first_renewal_order_counts_licence_months(self, catalog: None) -> None:
        org = make_organization()
        order = Order.objects.get(organization=org)
        assert (
            order.kind,
            order.number,
            order.currency,
            order.period_start,
            order.period_end,
            order.actor_name,
        ) == ("renewal", 1, "EUR", date(2027, 1, 1), date(2027, 6, 30), "Test vendor")
        # 10 licences × 6 months = 60 licence-months × 20.00 = 1200.00
        assert order.total == Decimal("1200.00")
        line = OrderLine.objects.get(order=order)
        assert (line.product, line.quantity, line.unit_price, line.amount) == (
            "license:pro",
            Decimal("60"),
            Decimal("20.0000"),
            Decimal("1200.00"),
        )
        assert line.description == "User licences, Pro × 10 × 6 months"

    def test_other_currency_uses_its_prices(self, catalog: None) -> None:
        # 3 licences × 12 months = 36 licence-months × 220.00 SEK = 7920.00
        org = make_organization(
            name="Svensk AB",
            country="SE",
            vat_number="SE556036079301",
            currency="SEK",
            licenses=3,
            period_months=12,
            admin_email="admin@svensk.example",
        )
        order = Order.objects.get(organization=org)
        assert (order.currency, order.total, order.period_end) == (
            "SEK",
            Decimal("7920.00"),
            date(2027, 12, 31),
        )

    def test_included_features_are_switched_on(self, catalog: None) -> None:
        org = make_organization()
        switches = sorted(
            FeatureSwitch.objects.filter(organization=org).values_list(
                "feature__code", "enabled", "changed_at"
            )
        )
        assert switches == [("api", True, NOW), ("reports", True, NOW), ("slack", True, NOW)]

    def test_billing_contact_is_the_admin(self, catalog: None) -> None:
        org = make_organization()
        details = BillingDetails.objects.get(organization=org)
        assert details.contact_user == User.objects.get(email="admin@testi.example")
        assert (
            details.country,
            details.invoice_language,
            details.einvoice_enabled,
            details.cc,
            details.updated_at,
        ) == ("FI", "en", False, [], NOW)

    def test_history_records_the_creation(self, catalog: None) -> None:
        org = make_organization()
        entries = list(HistoryEntry.objects.filter(organization=org).order_by("id"))
        assert [(e.kind, e.action) for e in entries] == [
            ("orders", "order_created"),
            ("organization", "organization_created"),
        ]
        created = entries[1]
        assert (created.actor_type, created.actor_name, created.channel, created.at) == (
            "token",
            "Test vendor",
            "api",
            NOW,
        )
        assert created.after == {
            "name": "Testi Oy",
            "edition": "pro",
            "licenses": 10,
            "period_months": 6,
            "purchase_channel": "direct",
            "admin": "admin@testi.example",
        }

    def test_start_date_defaults_to_the_business_day(self, catalog: None) -> None:
        org = make_organization(start_date=None, period_months=1)
        sub = Subscription.objects.get(organization=org)
        assert (sub.anchor_day, sub.current_period_start, sub.current_period_end) == (
            15,
            date(2027, 1, 15),
            date(2027, 2, 14),
        )

    def test_marketplace_organisation_is_named(self, catalog: None) -> None:
        org = make_organization(purchase_channel=MARKETPLACE)
        assert (org.purchase_channel, org.marketplace_name, org.marketplace_url) == (
            "marketplace",
            "Partner Market",
            "https://pm.example/",
        )

    def test_billing_staff_may_provision(self, catalog: None) -> None:
        org = make_organization(actor=staff("billing"))
        entry = HistoryEntry.objects.get(organization=org, action="organization_created")
        assert (entry.actor_name, entry.channel) == ("Cees Service", "back_office")

    def test_portal_user_gets_permission_denied(self, catalog: None) -> None:
        org = make_organization()
        before = counts()
        with pytest.raises(PermissionDenied):
            make_organization(name="Toinen Oy", admin_email="x@toinen.example", actor=admin_of(org))
        assert counts() == before

    def test_support_staff_gets_permission_denied(self, catalog: None) -> None:
        actor = staff("support")
        before = counts()
        with pytest.raises(PermissionDenied):
            make_organization(actor=actor)
        assert counts() == before

    def test_unknown_edition(self, catalog: None) -> None:
        assert refused_fields(edition="platinum") == [
            ("edition", "There is no edition “platinum”.")
        ]

    def test_currency_without_prices(self, catalog: None) -> None:
        assert refused_fields(currency="USD") == [("currency", "There are no prices in USD.")]

    @pytest.mark.parametrize("currency", ["EURO", "", None, 978], ids=str)
    def test_currency_must_be_a_code(self, catalog: None, currency: object) -> None:
        assert refused_fields(currency=currency) == [
            ("currency", "Give a three-letter currency code such as EUR.")
        ]

    def test_lower_case_currency_is_accepted(self, catalog: None) -> None:
        org = make_organization(currency="eur")
        assert org.currency == "EUR"
        assert Order.objects.get(organization=org).total == Decimal("1200.00")

    def test_vat_number_with_a_bad_check_digit(self, catalog: None) -> None:
        assert refused_fields(vat_number="FI23456781") == [
            (
                "vat_number",
                "This VAT number has an invalid check digit. Check the number for typing errors.",
            )
        ]

    @pytest.mark.parametrize("licenses", [0, -1, 100_001, "5", 5.0, True, None], ids=repr)
    def test_licences_from_one_to_a_hundred_thousand(self, catalog: None, licenses: object) -> None:
        assert refused_fields(licenses=licenses) == [
            ("licenses", "Give a whole number of licences from 1 to 100,000.")
        ]

    def test_a_hundred_thousand_licences_is_allowed(self, catalog: None) -> None:
        org = make_organization(licenses=100_000, period_months=1)
        # 100,000 × 1 month × 20.00 = 2,000,000.00
        assert Order.objects.get(organization=org).total == Decimal("2000000.00")

    @pytest.mark.parametrize("months", [2, 0, 24, "6", 6.0, True, None], ids=repr)
    def test_period_of_one_three_six_or_twelve_months(self, catalog: None, months: object) -> None:
        assert refused_fields(period_months=months) == [
            ("period_months", "Choose 1, 3, 6 or 12 months.")
        ]

    @pytest.mark.parametrize(
        "email", ["admin@testi.example", "Admin@Testi.EXAMPLE"], ids=["same", "other-case"]
    )
    def test_duplicate_admin_email(self, catalog: None, email: str) -> None:
        make_organization()
        assert refused_fields(name="Toinen Oy", admin_email=email) == [
            ("admin.email", "A user with this e-mail address already exists.")
        ]

    def test_admin_email_is_stored_in_lower_case(self, catalog: None) -> None:
        org = make_organization(admin_email="Anna.Admin@Testi.Example")
        assert User.objects.get(organization=org).email == "anna.admin@testi.example"
        entry = HistoryEntry.objects.get(organization=org, action="organization_created")
        assert entry.after["admin"] == "anna.admin@testi.example"

    def test_marketplace_without_name_and_url(self, catalog: None) -> None:
        assert refused_fields(purchase_channel={"type": "marketplace"}) == [
            ("purchase_channel.name", "This field is required."),
            ("purchase_channel.url", "Enter the marketplace's web address (https://…)."),
        ]

    def test_marketplace_with_non_text_name_and_url(self, catalog: None) -> None:
        assert refused_fields(purchase_channel={"type": "marketplace", "name": 5, "url": 7}) == [
            ("purchase_channel.name", "This field is required."),
            ("purchase_channel.url", "Enter the marketplace's web address (https://…)."),
        ]

    def test_unknown_purchase_channel(self, catalog: None) -> None:
        assert refused_fields(purchase_channel={"type": "reseller"}) == [
            ("purchase_channel.type", "Choose “direct” or “marketplace”.")
        ]

    def test_every_bad_field_is_reported_at_once(self, catalog: None) -> None:
        fields = refused_fields(
            name="n" * 10_000,
            vat_number="FI23456781",
            language="sv",
            edition="platinum",
            licenses=0,
            period_months=2,
            admin_email="not-an-address",
            admin_name="",
            purchase_channel={"type": "marketplace"},
        )
        assert [field for field, _ in fields] == [
            "name",
            "vat_number",
            "language",
            "edition",
            "licenses",
            "period_months",
            "admin.email",
            "admin.name",
            "purchase_channel.name",
            "purchase_channel.url",
        ]

    def test_unicode_names_are_kept(self, catalog: None) -> None:
        org = make_organization(name="Ääkkönen & Öberg Oy 🎉", admin_name="Åsa Łukasiewicz")
        assert Organization.objects.get(pk=org.pk).name == "Ääkkönen & Öberg Oy 🎉"
        assert User.objects.get(organization=org).name == "Åsa Łukasiewicz"


class TestRenameOrganization:
    def test_renames_with_history(self, org: Any, admin: Actor) -> None:
        renamed = rename_organization(
            organization=org, name=" Testi Group Oy ", actor=admin, now=NOW
        )
        assert Organization.objects.get(pk=org.pk).name == renamed.name == "Testi Group Oy"
        entry = HistoryEntry.objects.filter(organization=org, action="name_changed").get()
        assert (entry.kind, entry.subject, entry.before, entry.after, entry.actor_name) == (
            "organization",
            "Testi Group Oy",
            {"name": "Testi Oy"},
            {"name": "Testi Group Oy"},
            "Anna Admin",
        )

    def test_same_name_changes_nothing(self, org: Any, admin: Actor) -> None:
        before = org_state(org)
        rename_organization(organization=org, name="Testi Oy", actor=admin, now=NOW)
        assert org_state(org) == before

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("", "This field is required."),
            (None, "This field is required."),
            ("x" * 10_000, "Ensure this value has at most 200 characters (it has 10000)."),
        ],
        ids=["empty", "none", "long"],
    )
    def test_bad_name_is_a_field_error(
        self, org: Any, admin: Actor, name: object, message: str
    ) -> None:
        before = org_state(org)
        with pytest.raises(ValidationFailed) as error:
            rename_organization(organization=org, name=name, actor=admin, now=NOW)
        assert [(e.field, e.message) for e in error.value.errors] == [("name", message)]
        assert org_state(org) == before

    def test_user_without_subscription_permission_is_refused(self, org: Any) -> None:
        from abonnement.accounts.services import create_user

        manager = create_user(
            organization=org,
            email="um@testi.example",
            name="User Manager",
            permissions_granted=["manage_users"],
            actor=admin_of(org),
            now=NOW,
        ).user
        before = org_state(org)
        with pytest.raises(PermissionDenied):
            rename_organization(
                organization=org, name="Hijacked Oy", actor=Actor.portal(manager), now=NOW
            )
        assert org_state(org) == before

    def test_other_organisations_admin_gets_not_found(self, org: Any) -> None:
        other = make_organization(name="Muu Oy", admin_email="other@muu.example")
        before = org_state(org)
        with pytest.raises(NotFound):
            rename_organization(
                organization=org, name="Hijacked Oy", actor=admin_of(other), now=NOW
            )
        assert org_state(org) == before


class TestSetPurchaseChannel:
    def test_vendor_moves_an_organisation_to_a_marketplace(self, org: Any) -> None:
        updated = set_purchase_channel(organization=org, channel=MARKETPLACE, actor=VENDOR, now=NOW)
        assert updated.managed_by_marketplace is True
        row = Organization.objects.get(pk=org.pk)
        assert (row.purchase_channel, row.marketplace_name, row.marketplace_url) == (
            "marketplace",
            "Partner Market",
            "https://pm.example/",
        )
        entry = HistoryEntry.objects.get(organization=org, action="purchase_channel_changed")
        assert (entry.before, entry.after, entry.actor_name) == (
            {"type": "direct", "name": "", "url": ""},
            {"type": "marketplace", "name": "Partner Market", "url": "https://pm.example/"},
            "Test vendor",
        )

    def test_staff_moves_it_back_to_direct(self, catalog: None) -> None:
        org = make_organization(purchase_channel=MARKETPLACE)
        set_purchase_channel(
            organization=org, channel={"type": "direct"}, actor=staff("billing"), now=NOW
        )
        row = Organization.objects.get(pk=org.pk)
        assert (row.purchase_channel, row.marketplace_name, row.marketplace_url) == (
            "direct",
            "",
            "",
        )
        entry = HistoryEntry.objects.get(organization=org, action="purchase_channel_changed")
        assert (entry.channel, entry.after) == (
            "back_office",
            {"type": "direct", "name": "", "url": ""},
        )

    def test_same_channel_changes_nothing(self, org: Any) -> None:
        before = org_state(org)
        set_purchase_channel(organization=org, channel={"type": "direct"}, actor=VENDOR, now=NOW)
        assert org_state(org) == before

    def test_portal_admin_is_refused(self, org: Any, admin: Actor) -> None:
        before = org_state(org)
        with pytest.raises(PermissionDenied):
            set_purchase_channel(organization=org, channel=MARKETPLACE, actor=admin, now=NOW)
        assert org_state(org) == before

    @pytest.mark.parametrize(
        ("channel", "fields"),
        [
            ("marketplace", ["purchase_channel"]),
            (
                {"type": "marketplace", "name": "PM", "url": "ftp://pm.example/"},
                ["purchase_channel.url"],
            ),
            (
                {"type": "marketplace", "name": "PM", "url": "https://pm.example/" + "p" * 200},
                ["purchase_channel.url"],
            ),
        ],
        ids=["not-an-object", "ftp", "long-url"],
    )
    def test_bad_channel_is_a_field_error(
        self, org: Any, channel: object, fields: list[str]
    ) -> None:
        before = org_state(org)
        with pytest.raises(ValidationFailed) as error:
            set_purchase_channel(organization=org, channel=channel, actor=VENDOR, now=NOW)
        assert [e.field for e in error.value.errors] == fields
        assert org_state(org) == before


class TestTransferVatNumber:
    def transfer(self, org: Any, **overrides: Any) -> VatNumberChange:
        params: dict[str, Any] = {
            "organization": org,
            "vat_number": "fi 2332 7487",
            "effective_date": date(2027, 3, 1),
            "document": PDF,
            "document_name": "Siirtosopimus.pdf",
            "actor": staff("billing"),
            "now": NOW,
        }
        params.update(overrides)
        return transfer_vat_number(**params)

    def refused(self, org: Any, **overrides: Any) -> list[tuple[str, str]]:
        before = org_state(org)
        with pytest.raises(ValidationFailed) as error:
            self.transfer(org, **overrides)
        assert org_state(org) == before
        return [(e.field, e.message) for e in error.value.errors]

    def test_records_the_change_with_its_document(self, org: Any) -> None:
        change = self.transfer(org)
        stored = VatNumberChange.objects.get(pk=change.pk)
        assert (
            stored.old_vat_number,
            stored.new_vat_number,
            stored.effective_date,
            stored.document_name,
            bytes(stored.document),
            stored.recorded_at,
            stored.recorded_by,
        ) == (
            "FI23456780",
            NEW_VAT,
            date(2027, 3, 1),
            "Siirtosopimus.pdf",
            PDF,
            NOW,
            "Cees Service",
        )
        # Effective on 2027-03-01, after today (2027-01-15): the old number is still in force.
        assert Organization.objects.get(pk=org.pk).vat_number == "FI23456780"

    def test_history_has_old_and_new_number(self, org: Any) -> None:
        self.transfer(org)
        entry = HistoryEntry.objects.get(organization=org, action="vat_number_transferred")
        assert (entry.kind, entry.subject, entry.channel) == ("billing", NEW_VAT, "back_office")
        assert entry.before == {"vat_number": "FI23456780"}
        assert entry.after == {
            "vat_number": NEW_VAT,
            "effective_date": "2027-03-01",
            "document": "Siirtosopimus.pdf",
        }

    def test_invoices_use_the_old_number_before_the_effective_date(self, org: Any) -> None:
        self.transfer(org)
        org.refresh_from_db()
        assert vat_number_on(org, date(2027, 2, 28)) == "FI23456780"
        assert vat_number_on(org, date(2027, 3, 1)) == NEW_VAT
        assert vat_number_on(org, date(2027, 12, 31)) == NEW_VAT

    def test_without_transfers_the_number_is_the_organisations(self, org: Any) -> None:
        assert vat_number_on(org, date(2020, 1, 1)) == "FI23456780"

    def test_two_transfers_apply_in_date_order(self, org: Any) -> None:
        self.transfer(org)
        org.refresh_from_db()
        self.transfer(org, vat_number="FI21291126", effective_date=date(2027, 6, 1))
        org.refresh_from_db()
        assert [
            vat_number_on(org, day)
            for day in (date(2027, 2, 1), date(2027, 4, 1), date(2027, 6, 1))
        ] == [
            "FI23456780",
            NEW_VAT,
            "FI21291126",
        ]

    def test_document_must_be_a_pdf(self, org: Any) -> None:
        assert self.refused(org, document=b"PK\x03\x04 zip file") == [
            ("contract_transfer_document", "The contract transfer document must be a PDF.")
        ]

    @pytest.mark.parametrize("document", [b"", None, "%PDF-1.7"], ids=["empty", "none", "text"])
    def test_document_is_required(self, org: Any, document: object) -> None:
        assert self.refused(org, document=document) == [
            ("contract_transfer_document", "Attach the contract transfer document (PDF).")
        ]

    def test_document_of_more_than_ten_megabytes_is_refused(self, org: Any) -> None:
        too_big = PDF + b"0" * (MAX_DOCUMENT_BYTES - len(PDF) + 1)
        assert len(too_big) == 10 * 1024 * 1024 + 1
        assert self.refused(org, document=too_big) == [
            ("contract_transfer_document", "The document is larger than 10 MB.")
        ]

    def test_document_of_exactly_ten_megabytes_is_accepted(self, org: Any) -> None:
        exact = PDF + b"0" * (MAX_DOCUMENT_BYTES - len(PDF))
        change = self.transfer(org, document=exact)
        assert len(bytes(VatNumberChange.objects.get(pk=change.pk).document)) == MAX_DOCUMENT_BYTES

    def test_vat_number_is_validated_for_the_organisations_country(self, org: Any) -> None:
        assert self.refused(org, vat_number="FI23327488") == [
            (
                "vat_number",
                "This VAT number has an invalid check digit. Check the number for typing errors.",
            )
        ]
        assert self.refused(org, vat_number="SE556036079301") == [
            (
                "vat_number",
                "This VAT number belongs to another country. A VAT number for FI starts with FI.",
            )
        ]

    def test_the_current_number_is_refused(self, org: Any) -> None:
        assert self.refused(org, vat_number="FI23456780") == [
            ("vat_number", "This is already the organisation's VAT number.")
        ]

    def test_every_bad_field_is_reported_at_once(self, org: Any) -> None:
        errors = self.refused(
            org, vat_number="", effective_date="2027-03-01", document=b"GIF89a", document_name=""
        )
        assert [field for field, _ in errors] == [
            "vat_number",
            "effective_date",
            "contract_transfer_document",
            "document_name",
        ]

    def test_portal_admin_is_refused(self, org: Any, admin: Actor) -> None:
        before = org_state(org)
        with pytest.raises(PermissionDenied):
            self.transfer(org, actor=admin)
        assert org_state(org) == before

    def test_support_staff_is_refused(self, org: Any) -> None:
        before = org_state(org)
        with pytest.raises(PermissionDenied):
            self.transfer(org, actor=staff("support"))
        assert org_state(org) == before

    def test_effective_date_may_lie_in_the_past(self, org: Any) -> None:
        change = self.transfer(org, effective_date=(NOW - timedelta(days=10)).date())
        assert change.effective_date == date(2027, 1, 5)
        # In force already: the organisation's number is the new one at once.
        assert Organization.objects.get(pk=org.pk).vat_number == NEW_VAT

    def test_effective_date_today_applies_at_once(self, org: Any) -> None:
        self.transfer(org, effective_date=date(2027, 1, 15))
        assert Organization.objects.get(pk=org.pk).vat_number == NEW_VAT

    def test_effective_date_may_be_the_first_periods_start(self, org: Any) -> None:
        change = self.transfer(org, effective_date=date(2027, 1, 1))
        assert change.effective_date == date(2027, 1, 1)

    @pytest.mark.parametrize(
        "day", [date(1, 1, 1), date(2026, 12, 31)], ids=["year-one", "day-before-first-period"]
    )
    def test_effective_date_before_the_first_period_is_refused(self, org: Any, day: date) -> None:
        assert self.refused(org, effective_date=day) == [
            (
                "effective_date",
                "The effective date cannot be before the organisation's first period (1 Jan 2027).",
            )
        ]
        assert VatNumberChange.objects.count() == 0

    def test_first_period_of_a_backdated_organisation(self, catalog: None) -> None:
        org = make_organization(start_date=date(2026, 7, 1))
        assert first_period_start(org) == date(2026, 7, 1)
        change = self.transfer(org, effective_date=date(2026, 7, 1))
        assert change.effective_date == date(2026, 7, 1)

    def test_effective_date_up_to_a_year_ahead(self, org: Any) -> None:
        change = self.transfer(org, effective_date=date(2028, 1, 16))
        assert change.effective_date == date(2028, 1, 16)  # 2027-01-15 + 366 days

    @pytest.mark.parametrize("day", [date(2028, 1, 17), date(9999, 12, 31)], ids=["367", "9999"])
    def test_effective_date_more_than_a_year_ahead_is_refused(self, org: Any, day: date) -> None:
        assert self.refused(org, effective_date=day) == [
            ("effective_date", "Give an effective date within a year from today.")
        ]
        assert VatNumberChange.objects.count() == 0

    def test_a_future_number_applies_on_its_day(self, org: Any) -> None:
        self.transfer(org, effective_date=date(2027, 3, 1))
        assert apply_due_vat_numbers(now=datetime(2027, 2, 28, 21, 0, tzinfo=UTC)) == 0
        assert Organization.objects.get(pk=org.pk).vat_number == "FI23456780"
        # 2027-02-28 22:00 UTC is 2027-03-01 00:00 in Helsinki, the business time zone.
        assert apply_due_vat_numbers(now=datetime(2027, 2, 28, 22, 0, tzinfo=UTC)) == 1
        assert Organization.objects.get(pk=org.pk).vat_number == NEW_VAT
        assert apply_due_vat_numbers(now=datetime(2027, 3, 2, tzinfo=UTC)) == 0
        assert Organization.objects.get(pk=org.pk).vat_number == NEW_VAT

    def test_out_of_order_transfers_the_later_recording_wins(self, org: Any) -> None:
        """A → B from June, then B → C from March: A until March, C from then on."""
        self.transfer(org, effective_date=date(2027, 6, 1))
        org.refresh_from_db()
        later = self.transfer(
            org,
            vat_number="FI21291126",
            effective_date=date(2027, 3, 1),
            now=NOW + timedelta(hours=1),
        )
        org.refresh_from_db()
        assert later.old_vat_number == "FI23456780"  # the number it replaces on 2027-03-01
        assert [
            vat_number_on(org, day)
            for day in (date(2027, 2, 28), date(2027, 3, 1), date(2027, 6, 1), date(2027, 7, 1))
        ] == ["FI23456780", "FI21291126", "FI21291126", "FI21291126"]
        assert org.vat_number == "FI23456780"
        apply_due_vat_numbers(now=datetime(2027, 7, 1, 9, 0, tzinfo=UTC))
        assert Organization.objects.get(pk=org.pk).vat_number == "FI21291126"

    def test_out_of_order_renewal_invoice_carries_the_number_in_force(self, org: Any) -> None:
        from abonnement.invoicing.documents import Snapshot
        from abonnement.invoicing.services import issue_invoice_for_order
        from abonnement.subscriptions.rollover import roll_over_subscriptions

        self.transfer(org, effective_date=date(2027, 6, 1))
        org.refresh_from_db()
        self.transfer(
            org, vat_number="FI21291126", effective_date=date(2027, 3, 1), now=NOW + timedelta(1)
        )
        july = datetime(2027, 7, 1, 9, 0, tzinfo=UTC)
        roll_over_subscriptions(now=july)
        renewal = Order.objects.get(organization=org, period_start=date(2027, 7, 1))
        give_invoice_address(org, now=july)
        invoice = issue_invoice_for_order(order_id=renewal.pk, now=july).invoice
        assert invoice.issue_date == date(2027, 7, 1)
        assert Snapshot.from_json(invoice.snapshot).buyer.vat_number == "FI21291126"

    def test_the_number_in_force_on_the_date_is_refused(self, org: Any) -> None:
        self.transfer(org, effective_date=date(2027, 3, 1))
        org.refresh_from_db()
        assert self.refused(org, vat_number=NEW_VAT, effective_date=date(2027, 4, 1)) == [
            ("vat_number", "This is already the organisation's VAT number.")
        ]
        # Before the transfer's date the old number is in force, so bringing it forward is fine.
        change = self.transfer(org, vat_number=NEW_VAT, effective_date=date(2027, 2, 1))
        assert change.old_vat_number == "FI23456780"


def test_applying_due_vat_numbers_reads_only_organisations_out_of_date(catalog: None) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    orgs = [make_organization(name=f"Oy {n}", admin_email=f"a{n}@x.example") for n in range(3)]
    for org in orgs:
        TestTransferVatNumber().transfer(org, effective_date=date(2027, 3, 1))
    march = datetime(2027, 3, 1, 10, 0, tzinfo=UTC)
    assert apply_due_vat_numbers(now=march) == 3
    # Up to date: one query finds nothing to do, whatever the number of transfers.
    with CaptureQueriesContext(connection) as queries:
        assert apply_due_vat_numbers(now=march) == 0
    assert len(queries) == 1
