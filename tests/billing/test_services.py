"""Billing details (PRODUCT.md section 4, Rules 13 and 14): the update, the view and where
documents are mailed."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from abonnement.accounts.models import User
from abonnement.accounts.services import create_user, deactivate_user
from abonnement.billing.models import BillingDetails
from abonnement.billing.selectors import billing_details_view, mail_recipients
from abonnement.billing.services import update_billing_details
from abonnement.core.actor import Actor
from abonnement.core.errors import NotFound, PermissionDenied, ValidationFailed
from abonnement.history.models import HistoryEntry
from tests.conftest import NOW, VENDOR, admin_of, make_organization

pytestmark = pytest.mark.django_db

# 2332748-7 is a valid Y-tunnus; 003721291126 is Maventa's operator code in the table.
VALID: dict[str, Any] = {
    "contact": {"name": "Tiina Talous", "email": "Tiina.Talous@Testi.Example"},
    "cc": ["kirjanpito@tilitoimisto.example", "Finance@Testi.Example"],
    "address": {
        "street": " Mannerheimintie 1 A ",
        "postal_code": "00100",
        "city": "Helsinki",
        "country": "fi",
    },
    "reference": "PO-2027-15",
    "invoice_language": "FI",
    "e_invoicing": {
        "enabled": True,
        "address": "0037 2332748-7",
        "operator_code": "003721291126",
    },
}


def body(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    data.update(changes)
    return data


def stored(org: Any) -> dict[str, Any]:
    return BillingDetails.objects.filter(organization=org).values().get()


def state(org: Any) -> tuple[dict[str, Any], int]:
    """The stored row and the history count: what a refusal must leave as it was."""
    return stored(org), HistoryEntry.objects.filter(organization=org).count()


def update(org: Any, data: dict[str, Any], actor: Actor) -> BillingDetails:
    return update_billing_details(organization=org, data=data, actor=actor, now=NOW)


def refused(org: Any, data: dict[str, Any], actor: Actor) -> list[tuple[str, str]]:
    """Run a refused update; assert nothing changed; return the field errors."""
    before = state(org)
    with pytest.raises(ValidationFailed) as error:
        update(org, data, actor)
    assert error.value.status == 422
    assert state(org) == before
    return [(e.field, e.message) for e in error.value.errors]


def new_user(org: Any, email: str, **extra: Any) -> User:
    return create_user(
        organization=org, email=email, name="Bob Builder", actor=admin_of(org), now=NOW, **extra
    ).user


class TestUpdateBillingDetails:
    def test_full_valid_update_stores_normalised_values(self, org: Any, admin: Actor) -> None:
        update(org, body(), admin)
        row = stored(org)
        assert {k: v for k, v in row.items() if k not in ("id", "organization_id")} == {
            "contact_user_id": None,
            "contact_name": "Tiina Talous",
            "contact_email": "Tiina.Talous@testi.example",
            "cc": ["kirjanpito@tilitoimisto.example", "Finance@testi.example"],
            "street": "Mannerheimintie 1 A",
            "postal_code": "00100",
            "city": "Helsinki",
            "country": "FI",
            "reference": "PO-2027-15",
            "invoice_language": "fi",
            "einvoice_enabled": True,
            "einvoice_address": "003723327487",
            "einvoice_operator": "003721291126",
            "updated_at": NOW,
        }

    def test_one_history_entry_lists_the_changed_fields(self, org: Any, admin: Actor) -> None:
        assert admin.user is not None
        update(org, body(), admin)
        entry = HistoryEntry.objects.get(organization=org, kind="billing")
        assert (entry.action, entry.actor_name, entry.channel, entry.at) == (
            "billing_details_changed",
            "Anna Admin",
            "portal",
            NOW,
        )
        assert entry.subject == (
            "address, cc, contact_email, contact_name, contact_user_id, e_invoicing, "
            "invoice_language, reference"
        )
        assert entry.before == {
            "contact_user_id": admin.user.pk,
            "contact_name": "",
            "contact_email": "",
            "cc": [],
            "address": {"street": "", "postal_code": "", "city": "", "country": "FI"},
            "reference": "",
            "invoice_language": "en",
            "e_invoicing": {"enabled": False, "address": "", "operator_code": ""},
        }
        assert entry.after == {
            "contact_user_id": None,
            "contact_name": "Tiina Talous",
            "contact_email": "Tiina.Talous@testi.example",
            "cc": ["kirjanpito@tilitoimisto.example", "Finance@testi.example"],
            "address": {
                "street": "Mannerheimintie 1 A",
                "postal_code": "00100",
                "city": "Helsinki",
                "country": "FI",
            },
            "reference": "PO-2027-15",
            "invoice_language": "fi",
            "e_invoicing": {
                "enabled": True,
                "address": "003723327487",
                "operator_code": "003721291126",
            },
        }

    def test_second_update_logs_only_what_changed(self, org: Any, admin: Actor) -> None:
        update(org, body(), admin)
        update(org, body(reference="PO-2027-16"), admin)
        entry = HistoryEntry.objects.filter(organization=org, kind="billing").order_by("id").last()
        assert entry is not None
        assert (entry.subject, entry.before, entry.after) == (
            "reference",
            {"reference": "PO-2027-15"},
            {"reference": "PO-2027-16"},
        )

    def test_unchanged_details_write_no_history(self, org: Any, admin: Actor) -> None:
        update(org, body(), admin)
        before = state(org)
        update(org, body(), admin)
        assert state(org) == before

    def test_contact_user_of_the_organisation(self, org: Any, admin: Actor) -> None:
        bob = new_user(org, "bob@testi.example")
        update(org, body(contact={"user_id": str(bob.pk)}), admin)
        row = stored(org)
        assert (row["contact_user_id"], row["contact_name"], row["contact_email"]) == (
            bob.pk,
            "",
            "",
        )

    @pytest.mark.parametrize(
        "read_only", ["company_name", "vat_number"], ids=["company-name", "vat-number"]
    )
    def test_read_only_field_says_where_it_is_changed(
        self, org: Any, admin: Actor, read_only: str
    ) -> None:
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            update(org, body(**{read_only: "Uusi Oy"}), admin)
        assert (error.value.status, error.value.message) == (
            422,
            "These fields cannot be changed here.",
        )
        expected = {
            "company_name": "The company name is changed in Settings › Company settings.",
            "vat_number": "A VAT-number change needs a contract transfer document; "
            "customer service makes it.",
        }
        assert [(e.field, e.message) for e in error.value.errors] == [
            (read_only, expected[read_only])
        ]
        assert state(org) == before

    def test_contact_user_of_another_organisation_is_refused(self, org: Any, admin: Actor) -> None:
        other = make_organization(name="Muu Oy", admin_email="other@muu.example")
        stranger = admin_of(other).user
        assert stranger is not None
        assert refused(org, body(contact={"user_id": stranger.pk}), admin) == [
            ("contact.user_id", "Choose one of your organisation's users.")
        ]

    @pytest.mark.parametrize("user_id", [999_999, "abc", True], ids=["missing", "text", "bool"])
    def test_unknown_contact_user_is_refused(self, org: Any, admin: Actor, user_id: object) -> None:
        assert refused(org, body(contact={"user_id": user_id}), admin) == [
            ("contact.user_id", "Choose one of your organisation's users.")
        ]

    def test_inactive_contact_user_is_refused(self, org: Any, admin: Actor) -> None:
        bob = new_user(org, "bob@testi.example")
        deactivate_user(organization=org, user_id=bob.pk, license="keep", actor=admin, now=NOW)
        assert refused(org, body(contact={"user_id": bob.pk}), admin) == [
            ("contact.user_id", "This user is inactive; choose an active user.")
        ]

    @pytest.mark.parametrize("contact", [{}, None, "Tiina"], ids=["empty", "none", "text"])
    def test_contact_needs_a_name_and_an_email(
        self, org: Any, admin: Actor, contact: object
    ) -> None:
        assert refused(org, body(contact=contact), admin) == [
            ("contact.name", "This field is required."),
            ("contact.email", "This field is required."),
        ]

    def test_contact_email_is_validated(self, org: Any, admin: Actor) -> None:
        assert refused(org, body(contact={"name": "Tiina", "email": "tiina@"}), admin) == [
            ("contact.email", "Enter a valid e-mail address, such as name@example.com.")
        ]

    @pytest.mark.parametrize("email", ["a@localhost", "user@[127.0.0.1]", "user@[IPv6:::1]"])
    def test_contact_email_at_localhost_or_an_address_literal_is_refused(
        self, org: Any, admin: Actor, email: str
    ) -> None:
        assert refused(org, body(contact={"name": "Tiina", "email": email}, cc=[email]), admin) == [
            (
                field,
                "Enter an e-mail address at an internet domain, such as name@example.com "
                "(not at localhost or an IP address).",
            )
            for field in ("contact.email", "cc.0")
        ]

    def test_copy_recipients_are_validated_each(self, org: Any, admin: Actor) -> None:
        cc = ["ok@testi.example", "not an address", "", 5]
        assert refused(org, body(cc=cc), admin) == [
            ("cc.1", "Enter a valid e-mail address, such as name@example.com."),
            ("cc.2", "This field is required."),
            ("cc.3", "This field is required."),
        ]

    def test_copy_recipients_must_be_a_list(self, org: Any, admin: Actor) -> None:
        assert refused(org, body(cc="a@testi.example"), admin) == [
            ("cc", "Give a list of e-mail addresses.")
        ]

    def test_at_most_ten_copy_recipients(self, org: Any, admin: Actor) -> None:
        cc = [f"copy{i}@testi.example" for i in range(11)]
        assert refused(org, body(cc=cc), admin) == [("cc", "Give at most 10 copy recipients.")]

    def test_duplicate_copy_recipients_are_stored_once(self, org: Any, admin: Actor) -> None:
        cc = ["a@testi.example", " a@TESTI.example ", "b@testi.example", "a@testi.example"]
        update(org, body(cc=cc), admin)
        assert stored(org)["cc"] == ["a@testi.example", "b@testi.example"]

    def test_no_copy_recipients_is_fine(self, org: Any, admin: Actor) -> None:
        data = body()
        del data["cc"]
        update(org, data, admin)
        assert stored(org)["cc"] == []

    def test_every_empty_address_field_is_reported_at_once(self, org: Any, admin: Actor) -> None:
        address = {"street": "", "postal_code": "  ", "city": None, "country": ""}
        assert refused(org, body(address=address), admin) == [
            ("address.street", "This field is required."),
            ("address.postal_code", "This field is required."),
            ("address.city", "This field is required."),
            ("address.country", "This field is required."),
        ]

    def test_address_is_required_also_for_e_invoicing(self, org: Any, admin: Actor) -> None:
        errors = refused(org, body(address=None), admin)
        assert [field for field, _ in errors] == [
            "address.street",
            "address.postal_code",
            "address.city",
            "address.country",
        ]

    def test_ten_thousand_character_street_and_unknown_country(
        self, org: Any, admin: Actor
    ) -> None:
        address = {
            "street": "k" * 10_000,
            "postal_code": "00100",
            "city": "Helsinki",
            "country": "XX",
        }
        assert refused(org, body(address=address), admin) == [
            ("address.street", "Ensure this value has at most 200 characters (it has 10000)."),
            (
                "address.country",
                "Enter a two-letter ISO 3166 country code, for example FI, NL or DE.",
            ),
        ]

    def test_unicode_address_is_kept_exactly(self, org: Any, admin: Actor) -> None:
        address = {
            "street": "Åkerlundinkatu 11 ö",
            "postal_code": "33100",
            "city": "Tampere – Tammerfors",
            "country": "FI",
        }
        update(org, body(address=address), admin)
        row = stored(org)
        assert (row["street"], row["city"]) == ("Åkerlundinkatu 11 ö", "Tampere – Tammerfors")

    def test_unknown_invoice_language_is_refused(self, org: Any, admin: Actor) -> None:
        assert refused(org, body(invoice_language="sv"), admin) == [
            (
                "invoice_language",
                "Choose an invoice language: en (English), nl (Dutch) or fi (Finnish).",
            )
        ]

    def test_e_invoicing_on_without_address_and_operator_is_two_errors(
        self, org: Any, admin: Actor
    ) -> None:
        assert refused(org, body(e_invoicing={"enabled": True}), admin) == [
            ("e_invoicing.address", "Give the e-invoice address to switch e-invoicing on."),
            ("e_invoicing.operator_code", "Give the operator code to switch e-invoicing on."),
        ]

    def test_e_invoicing_off_keeps_the_codes_and_sends_pdf(self, org: Any, admin: Actor) -> None:
        einvoicing = {"enabled": False, "address": "003723327487", "operator_code": "NDEAFIHH"}
        update(org, body(e_invoicing=einvoicing), admin)
        row = stored(org)
        assert (row["einvoice_enabled"], row["einvoice_address"], row["einvoice_operator"]) == (
            False,
            "003723327487",
            "NDEAFIHH",
        )

    def test_e_invoicing_switch_must_be_a_boolean(self, org: Any, admin: Actor) -> None:
        einvoicing = {"enabled": "yes", "address": "003723327487", "operator_code": "NDEAFIHH"}
        assert refused(org, body(e_invoicing=einvoicing), admin) == [
            ("e_invoicing.enabled", "Give true or false.")
        ]

    def test_ovt_with_a_bad_checksum_is_refused(self, org: Any, admin: Actor) -> None:
        einvoicing = {"enabled": True, "address": "003723327488", "operator_code": "NDEAFIHH"}
        assert refused(org, body(e_invoicing=einvoicing), admin) == [
            (
                "e_invoicing.address",
                "The business ID inside this OVT code (the eight digits after 0037) has an "
                "invalid check digit. Check the code for typing errors.",
            )
        ]

    @pytest.mark.parametrize(
        ("operator", "message"),
        [
            (
                "NDEAXXHH",
                "The country code in this BIC (the fifth and sixth characters) is not a known "
                "country. Check the code for typing errors.",
            ),
            (
                "E204503",
                "Enter an operator code: an OVT-style code (0037 followed by the operator's "
                "business ID digits, for example 003723327487), a bank's BIC (for example "
                "NDEAFIHH) or a Peppol participant identifier (SCHEME:ID).",
            ),
        ],
        ids=["bic-country", "legacy-code"],
    )
    def test_bad_operator_codes_are_refused(
        self, org: Any, admin: Actor, operator: str, message: str
    ) -> None:
        einvoicing = {"enabled": True, "address": "003723327487", "operator_code": operator}
        assert refused(org, body(e_invoicing=einvoicing), admin) == [
            ("e_invoicing.operator_code", message)
        ]

    @pytest.mark.parametrize(
        ("address", "message"),
        [
            (
                "0106:1234567",
                "A 0106 identifier is an 8-digit Dutch Chamber of Commerce (KvK) number, "
                "for example 0106:12345678.",
            ),
            (
                "0208:0697449993",
                "This Belgian enterprise number has invalid check digits (the last two "
                "digits). Check the number for typing errors.",
            ),
            (
                "0088:5790000435969",
                "This GLN has an invalid check digit (the last digit). "
                "Check the number for typing errors.",
            ),
            (
                "0190:123",
                "A 0190 identifier is a 20-digit Dutch government organisation number (OIN), "
                "for example 0190:00000001003214345000.",
            ),
            (
                "0037:23327488",
                "This business ID has an invalid check digit (the last digit). "
                "Check the number for typing errors.",
            ),
            (
                "9999:123",
                "Unknown Peppol identifier scheme. Use one of: 0216 (Finnish OVT code), "
                "0037 (Finnish business ID), 0106 (Dutch KvK number), 0190 (Dutch OIN), "
                "0088 (GLN), 0208 (Belgian enterprise number), 9944 (Dutch VAT number).",
            ),
        ],
        ids=["0106-short", "0208-check", "0088-check", "0190-short", "0037-check", "scheme"],
    )
    def test_bad_peppol_addresses_are_refused(
        self, org: Any, admin: Actor, address: str, message: str
    ) -> None:
        einvoicing = {"enabled": True, "address": address, "operator_code": "NDEAFIHH"}
        assert refused(org, body(e_invoicing=einvoicing), admin) == [
            ("e_invoicing.address", message)
        ]

    @pytest.mark.parametrize(
        ("address", "expected"),
        [
            ("0216:003723327487", "0216:003723327487"),
            ("0106: 1234 5678", "0106:12345678"),
            ("0208:0697.449.992", "0208:0697449992"),
            ("0088:5790000435968", "0088:5790000435968"),
            ("9944:nl004495445b01", "9944:NL004495445B01"),
        ],
        ids=["0216", "0106", "0208", "0088", "9944"],
    )
    def test_valid_peppol_addresses_are_normalised(
        self, org: Any, admin: Actor, address: str, expected: str
    ) -> None:
        einvoicing = {"enabled": True, "address": address, "operator_code": "NDEAFIHH"}
        update(org, body(e_invoicing=einvoicing), admin)
        assert stored(org)["einvoice_address"] == expected

    def test_all_errors_are_reported_at_once(self, org: Any, admin: Actor) -> None:
        data = {
            "contact": {"name": "", "email": "x"},
            "cc": ["bad"],
            "address": {"street": "", "postal_code": "00100", "city": "Helsinki", "country": "FI"},
            "invoice_language": "en",
            "e_invoicing": {"enabled": True, "address": "", "operator_code": "NDEA"},
        }
        assert [field for field, _ in refused(org, data, admin)] == [
            "contact.name",
            "contact.email",
            "cc.0",
            "address.street",
            "e_invoicing.address",
            "e_invoicing.operator_code",
        ]

    def test_user_manager_without_subscription_permission_is_refused(self, org: Any) -> None:
        manager = new_user(org, "um@testi.example", permissions_granted=["manage_users"])
        before = state(org)
        with pytest.raises(PermissionDenied):
            update(org, body(), Actor.portal(manager))
        assert state(org) == before

    def test_other_organisations_admin_gets_not_found(self, org: Any) -> None:
        other = make_organization(name="Muu Oy", admin_email="other@muu.example")
        before = state(org)
        with pytest.raises(NotFound):
            update(org, body(), admin_of(other))
        assert state(org) == before

    def test_vendor_may_update(self, org: Any) -> None:
        update(org, body(), VENDOR)
        entry = HistoryEntry.objects.get(organization=org, kind="billing")
        assert (entry.actor_name, entry.channel) == ("Test vendor", "api")


class TestBillingDetailsView:
    def test_shows_company_name_vat_number_and_contact_user(self, org: Any) -> None:
        view = billing_details_view(organization_id=org.pk)
        assert (
            view.company_name,
            view.vat_number,
            view.contact_name,
            view.contact_email,
            view.contact_inactive,
            view.operator_name,
        ) == ("Testi Oy", "FI23456780", "Anna Admin", "admin@testi.example", False, None)

    def test_shows_the_typed_contact(self, org: Any, admin: Actor) -> None:
        update(org, body(), admin)
        view = billing_details_view(organization_id=org.pk)
        assert (view.contact_name, view.contact_email, view.contact_inactive) == (
            "Tiina Talous",
            "Tiina.Talous@testi.example",
            False,
        )

    @pytest.mark.parametrize(
        ("operator", "name"),
        [
            ("003721291126", "Maventa (Visma Solutions Oy)"),
            ("ndeafihh", "Nordea Bank Oyj"),
            ("0037 2332748-7", "Apix Messaging Oy"),
            ("0216:003721291126", "Maventa (Visma Solutions Oy)"),
            ("DEUTDEFF", None),
        ],
        ids=["ovt", "bic-lower-case", "ovt-spaced", "peppol-form", "unknown"],
    )
    def test_operator_name_for_a_known_code(
        self, org: Any, admin: Actor, operator: str, name: str | None
    ) -> None:
        einvoicing = {"enabled": True, "address": "003723327487", "operator_code": operator}
        update(org, body(e_invoicing=einvoicing), admin)
        assert billing_details_view(organization_id=org.pk).operator_name == name

    def test_says_when_the_contact_user_is_deactivated(self, org: Any, admin: Actor) -> None:
        bob = new_user(org, "bob@testi.example")
        update(org, body(contact={"user_id": bob.pk}), admin)
        deactivate_user(organization=org, user_id=bob.pk, license="keep", actor=admin, now=NOW)
        view = billing_details_view(organization_id=org.pk)
        assert (view.contact_name, view.contact_email, view.contact_inactive) == (
            "Bob Builder",
            "bob@testi.example",
            True,
        )

    def test_unknown_organisation_is_not_found(self, db: Any) -> None:
        import uuid

        with pytest.raises(NotFound):
            billing_details_view(organization_id=uuid.uuid4())


class TestMailRecipients:
    def test_contact_user_and_copies(self, org: Any, admin: Actor) -> None:
        update(
            org,
            body(
                contact={"user_id": admin.user.pk if admin.user else None}, cc=["c@testi.example"]
            ),
            admin,
        )
        assert mail_recipients(organization_id=org.pk) == [
            "admin@testi.example",
            "c@testi.example",
        ]

    def test_typed_contact_and_copies_without_duplicates(self, org: Any, admin: Actor) -> None:
        cc = ["Tiina.Talous@testi.example", "kirjanpito@tilitoimisto.example"]
        update(org, body(cc=cc), admin)
        assert mail_recipients(organization_id=org.pk) == [
            "Tiina.Talous@testi.example",
            "kirjanpito@tilitoimisto.example",
        ]

    def test_one_message_per_mailbox_however_its_address_is_spelt(
        self, org: Any, admin: Actor
    ) -> None:
        cc = [
            "Kirjanpito@Tilitoimisto.example",
            "ADMIN@testi.example",  # the contact again
            "kirjanpito@tilitoimisto.example",
        ]
        update(org, body(contact={"user_id": admin.user.pk if admin.user else None}, cc=cc), admin)
        # The validator lower-cases domains; the copies keep one spelling per mailbox.
        assert billing_details_view(organization_id=org.pk).details.cc == [
            "Kirjanpito@tilitoimisto.example",
            "ADMIN@testi.example",
        ]
        assert mail_recipients(organization_id=org.pk) == [
            "admin@testi.example",
            "Kirjanpito@tilitoimisto.example",
        ]

    def test_deactivated_contact_falls_back_to_the_subscription_admins(
        self, org: Any, admin: Actor
    ) -> None:
        bob = new_user(org, "bob@testi.example")
        second = new_user(org, "second@testi.example", permissions_granted=["manage_subscription"])
        new_user(org, "plain@testi.example")  # no subscription permission: not a fallback
        update(org, body(contact={"user_id": bob.pk}, cc=["c@testi.example"]), admin)
        deactivate_user(organization=org, user_id=bob.pk, license="keep", actor=admin, now=NOW)
        assert mail_recipients(organization_id=org.pk) == [
            "admin@testi.example",
            second.email,
            "c@testi.example",
        ]

    def test_deactivated_admin_is_not_a_fallback(self, org: Any, admin: Actor) -> None:
        bob = new_user(org, "bob@testi.example")
        second = new_user(org, "second@testi.example", permissions_granted=["manage_subscription"])
        update(org, body(contact={"user_id": bob.pk}, cc=[]), admin)
        deactivate_user(organization=org, user_id=bob.pk, license="keep", actor=admin, now=NOW)
        deactivate_user(organization=org, user_id=second.pk, license="keep", actor=admin, now=NOW)
        assert mail_recipients(organization_id=org.pk) == ["admin@testi.example"]


# --------------------------------------------------------------------------- Rule 6

MARKETPLACE = {"type": "marketplace", "name": "Nordic Apps", "url": "https://apps.example/x"}


def test_a_marketplace_organisations_details_change_only_through_the_vendor(
    catalog: None,
) -> None:
    from abonnement.subscriptions.errors import ManagedByMarketplace

    org = make_organization(purchase_channel=MARKETPLACE)
    before = state(org)
    with pytest.raises(ManagedByMarketplace) as refused:
        update(org, body(), admin_of(org))
    assert refused.value.code == "managed_by_marketplace"
    assert refused.value.message == (
        "This subscription was bought through Nordic Apps; change it there: https://apps.example/x"
    )
    assert state(org) == before

    update(org, body(), VENDOR)
    assert stored(org)["street"] == "Mannerheimintie 1 A"
    entry = HistoryEntry.objects.filter(organization=org, kind="billing").get()
    assert entry.actor_name == "Test vendor"


def test_a_postal_code_in_the_wrong_shape_for_its_country_is_refused_and_changes_nothing(
    org: Any, admin: Actor
) -> None:
    update(org, body(), admin)
    data = body(address={**VALID["address"], "postal_code": "1015 CJ"})
    assert refused(org, data, admin) == [
        (
            "address.postal_code",
            "Enter a postal code in the format of the chosen country (Finland), for example 00100.",
        )
    ]


def test_a_postal_code_is_stored_as_its_country_writes_it(org: Any, admin: Actor) -> None:
    address = {"street": "Keizersgracht 1", "postal_code": "1015cj", "city": "Amsterdam"}
    update(org, body(address={**address, "country": "NL"}), admin)
    assert stored(org)["postal_code"] == "1015 CJ"


def test_an_invalid_country_leaves_the_postal_code_unjudged(org: Any, admin: Actor) -> None:
    data = body(address={**VALID["address"], "postal_code": "anything", "country": "Q1"})
    assert refused(org, data, admin) == [
        ("address.country", "Enter a two-letter ISO 3166 country code, for example FI, NL or DE.")
    ]
