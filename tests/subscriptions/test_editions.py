"""Edition changes (PRODUCT.md Rule 5, "Back office"): only customer service schedules them,
for the next period; administrators send requests that customer service answers.

The default organisation is Pro (20.00 a licence) with 10 licences; the next period starts
2027-07-01, when the price list adds 1.00 to every EUR price (Enterprise 36.00, Basic 11.00).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, connections, transaction

from abonnement.accounts.models import User
from abonnement.accounts.services import create_user
from abonnement.core.actor import Actor
from abonnement.core.errors import NotFound, PermissionDenied, ValidationFailed
from abonnement.history.models import HistoryEntry
from abonnement.orders.models import Order
from abonnement.subscriptions.errors import ManagedByMarketplace
from abonnement.subscriptions.models import EditionChangeRequest, Subscription
from abonnement.subscriptions.selectors import subscription_overview
from abonnement.subscriptions.services import (
    cancel_edition_change,
    decide_edition_request,
    request_edition_change,
    schedule_edition_change,
)
from tests.conftest import NOW, VENDOR, admin_of, make_catalog, make_organization

pytestmark = pytest.mark.django_db


def staff(role: str = "billing") -> Actor:
    email = f"cs-{role}@vendor.example"
    user = User.objects.filter(email=email).first() or User.objects.create_user(
        email, name="Cees Service", is_staff=True, staff_role=role
    )
    return Actor.staff(user)


def state(org: Any) -> dict[str, Any]:
    """Everything a refused edition operation must leave as it was."""
    sub = Subscription.objects.get(organization=org)
    return {
        "edition": (sub.edition_id, sub.next_edition_id),
        "requests": sorted(
            EditionChangeRequest.objects.filter(organization=org).values_list(
                "pk", "status", "response"
            )
        ),
        "orders": Order.objects.filter(organization=org).count(),
        "history": HistoryEntry.objects.filter(organization=org).count(),
    }


def editions(org: Any) -> tuple[str, str | None]:
    sub = Subscription.objects.select_related("edition", "next_edition").get(organization=org)
    return (sub.edition.code, sub.next_edition.code if sub.next_edition else None)


def edition_history(org: Any) -> list[tuple[str, str, Any, Any, str]]:
    return [
        (e.action, e.subject, e.before, e.after, e.reason)
        for e in HistoryEntry.objects.filter(organization=org, kind="edition").order_by("id")
    ]


def request(org: Any, edition: str = "enterprise", message: str = "We need SCIM.") -> Any:
    return request_edition_change(
        organization=org, edition=edition, message=message, actor=admin_of(org), now=NOW
    )


class TestScheduleEditionChange:
    def test_staff_schedules_the_next_period(self, org: Any) -> None:
        subscription = schedule_edition_change(
            organization=org, edition="enterprise", actor=staff(), now=NOW
        )
        assert subscription.next_edition is not None
        assert editions(org) == ("pro", "enterprise")
        entry = HistoryEntry.objects.get(organization=org, kind="edition")
        assert (entry.action, entry.subject, entry.before, entry.after) == (
            "edition_change_scheduled",
            "Enterprise",
            {"next_edition": "pro"},
            {"next_edition": "enterprise"},
        )
        assert (entry.actor_type, entry.actor_name, entry.channel) == (
            "staff",
            "Cees Service",
            "back_office",
        )

    def test_next_period_shows_the_new_editions_price(self, org: Any) -> None:
        schedule_edition_change(organization=org, edition="enterprise", actor=staff(), now=NOW)
        overview = subscription_overview(organization_id=org.pk)
        # The current period keeps Pro: 10 × 20.00 = 200.00 a month, × 6 = 1200.00
        assert (overview.current.edition.code, overview.current.monthly_price) == (
            "pro",
            Decimal("200.00"),
        )
        assert overview.current.total_price == Decimal("1200.00")
        # Next period: Enterprise at the 2027-07-01 list: 10 × 36.00 = 360.00; × 6 = 2160.00
        assert (
            overview.next.edition.code,
            overview.next.license_unit_price,
            overview.next.included_storage_gb,
            overview.next.monthly_price,
            overview.next.total_price,
        ) == ("enterprise", Decimal("36.0000"), 1000, Decimal("360.00"), Decimal("2160.00"))

    def test_downgrade_drops_add_ons_the_new_edition_does_not_offer(
        self, org: Any, admin: Actor
    ) -> None:
        from abonnement.features.services import set_feature_enabled

        set_feature_enabled(organization=org, code="sso", enabled=True, actor=admin, now=NOW)
        schedule_edition_change(organization=org, edition="basic", actor=staff(), now=NOW)
        overview = subscription_overview(organization_id=org.pk)
        # Basic has no SSO: 10 × 11.00 = 110.00 a month, × 6 = 660.00
        assert overview.next.add_ons == []
        assert (overview.next.monthly_price, overview.next.total_price) == (
            Decimal("110.00"),
            Decimal("660.00"),
        )
        assert overview.ending_add_ons == ["sso"]

    def test_vendor_api_may_schedule(self, org: Any) -> None:
        schedule_edition_change(organization=org, edition="basic", actor=VENDOR, now=NOW)
        assert editions(org) == ("pro", "basic")
        assert HistoryEntry.objects.get(organization=org, kind="edition").channel == "api"

    def test_rescheduling_the_current_edition_clears_the_change(self, org: Any) -> None:
        schedule_edition_change(organization=org, edition="enterprise", actor=staff(), now=NOW)
        schedule_edition_change(organization=org, edition="pro", actor=staff(), now=NOW)
        assert editions(org) == ("pro", None)
        assert edition_history(org)[-1][2:4] == (
            {"next_edition": "enterprise"},
            {"next_edition": "pro"},
        )

    def test_scheduling_what_is_already_scheduled_changes_nothing(self, org: Any) -> None:
        schedule_edition_change(organization=org, edition="enterprise", actor=staff(), now=NOW)
        before = state(org)
        schedule_edition_change(organization=org, edition="enterprise", actor=staff(), now=NOW)
        schedule_edition_change(organization=org, edition="enterprise", actor=VENDOR, now=NOW)
        assert state(org) == before

    def test_scheduling_the_current_edition_with_nothing_scheduled_changes_nothing(
        self, org: Any
    ) -> None:
        before = state(org)
        schedule_edition_change(organization=org, edition="pro", actor=staff(), now=NOW)
        assert state(org) == before

    def test_support_staff_schedules_only_by_answering_a_request(self, org: Any) -> None:
        before = state(org)
        with pytest.raises(PermissionDenied) as error:
            schedule_edition_change(
                organization=org, edition="enterprise", actor=staff("support"), now=NOW
            )
        assert error.value.message == "This needs the billing role."
        assert state(org) == before

    def test_portal_admin_is_refused(self, org: Any, admin: Actor) -> None:
        before = state(org)
        with pytest.raises(PermissionDenied) as error:
            schedule_edition_change(organization=org, edition="enterprise", actor=admin, now=NOW)
        assert error.value.message == "Only the vendor or its customer service can do this."
        assert state(org) == before

    def test_portal_user_flagged_as_staff_but_acting_in_the_portal_is_refused(
        self, org: Any, admin: Actor
    ) -> None:
        # The channel decides: the same person in the portal is not the back office.
        person = staff().user
        assert person is not None
        before = state(org)
        with pytest.raises(PermissionDenied):
            schedule_edition_change(
                organization=org, edition="enterprise", actor=Actor.portal(person), now=NOW
            )
        assert state(org) == before

    @pytest.mark.parametrize("edition", ["platinum", "", "PRO"], ids=str)
    def test_unknown_edition_is_a_field_error(self, org: Any, edition: str) -> None:
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            schedule_edition_change(organization=org, edition=edition, actor=staff(), now=NOW)
        assert [(e.field, e.message) for e in error.value.errors] == [
            ("edition", f"There is no edition “{edition}”.")
        ]
        assert state(org) == before


class TestCancelEditionChange:
    def test_cancels_the_scheduled_change(self, org: Any) -> None:
        schedule_edition_change(organization=org, edition="enterprise", actor=staff(), now=NOW)
        cancel_edition_change(organization=org, actor=staff(), now=NOW)
        assert editions(org) == ("pro", None)
        assert edition_history(org)[-1] == (
            "edition_change_cancelled",
            "",
            {"next_edition": "enterprise"},
            {"next_edition": "pro"},
            "",
        )
        overview = subscription_overview(organization_id=org.pk)
        # Back to Pro next period: 10 × 21.00 = 210.00
        assert (overview.next.edition.code, overview.next.monthly_price) == (
            "pro",
            Decimal("210.00"),
        )

    def test_nothing_scheduled_is_refused(self, org: Any) -> None:
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            cancel_edition_change(organization=org, actor=staff(), now=NOW)
        assert [(e.field, e.message) for e in error.value.errors] == [
            ("edition", "No edition change is scheduled.")
        ]
        assert state(org) == before

    def test_portal_admin_is_refused(self, org: Any, admin: Actor) -> None:
        schedule_edition_change(organization=org, edition="enterprise", actor=staff(), now=NOW)
        before = state(org)
        with pytest.raises(PermissionDenied):
            cancel_edition_change(organization=org, actor=admin, now=NOW)
        assert state(org) == before


class TestRequestEditionChange:
    def test_admin_sends_a_request(self, org: Any, admin: Actor) -> None:
        created = request_edition_change(
            organization=org,
            edition="enterprise",
            message="  We need SCIM.  ",
            actor=admin,
            now=NOW,
        )
        stored = EditionChangeRequest.objects.select_related("edition").get(pk=created.pk)
        assert (
            stored.edition.code,
            stored.message,
            stored.status,
            stored.requested_by,
            stored.requested_by_user,
            stored.created_at,
            stored.response,
            stored.decided_at,
        ) == ("enterprise", "We need SCIM.", "open", "Anna Admin", admin.user, NOW, "", None)
        assert editions(org) == ("pro", None)  # a request schedules nothing
        assert edition_history(org) == [
            (
                "edition_change_requested",
                "Enterprise",
                {"edition": "pro"},
                {"requested_edition": "enterprise", "request_id": stored.pk},
                "We need SCIM.",
            )
        ]

    def test_message_is_optional(self, org: Any) -> None:
        assert request(org, message="").message == ""

    def test_request_for_the_current_edition_is_refused(self, org: Any) -> None:
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            request(org, edition="pro")
        assert [(e.field, e.message) for e in error.value.errors] == [
            ("edition", "The next period already has the edition Pro.")
        ]
        assert state(org) == before

    def test_request_for_the_already_scheduled_edition_is_refused(self, org: Any) -> None:
        schedule_edition_change(organization=org, edition="enterprise", actor=staff(), now=NOW)
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            request(org, edition="enterprise")
        assert error.value.for_field("edition") == [
            "The next period already has the edition Enterprise."
        ]
        assert state(org) == before

    def test_request_to_stay_on_the_current_edition_after_a_scheduled_change(
        self, org: Any
    ) -> None:
        schedule_edition_change(organization=org, edition="basic", actor=staff(), now=NOW)
        assert request(org, edition="pro").status == "open"

    def test_unknown_edition_is_a_field_error(self, org: Any) -> None:
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            request(org, edition="platinum")
        assert error.value.for_field("edition") == ["There is no edition “platinum”."]
        assert state(org) == before

    def test_message_over_two_thousand_characters_is_refused(self, org: Any) -> None:
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            request(org, message="m" * 10_000)
        assert [(e.field, e.message) for e in error.value.errors] == [
            ("message", "Keep the message under 2,000 characters.")
        ]
        assert state(org) == before

    def test_user_without_subscription_permission_is_refused(self, org: Any) -> None:
        manager = create_user(
            organization=org,
            email="um@testi.example",
            name="User Manager",
            permissions_granted=["manage_users"],
            actor=admin_of(org),
            now=NOW,
        ).user
        before = state(org)
        with pytest.raises(PermissionDenied):
            request_edition_change(
                organization=org,
                edition="enterprise",
                message="",
                actor=Actor.portal(manager),
                now=NOW,
            )
        assert state(org) == before

    def test_marketplace_organisation_asks_its_marketplace(self, catalog: None) -> None:
        org = make_organization(
            purchase_channel={
                "type": "marketplace",
                "name": "Partner Market",
                "url": "https://pm.example/",
            }
        )
        before = state(org)
        with pytest.raises(ManagedByMarketplace):
            request(org)
        assert state(org) == before


class TestDecideEditionRequest:
    def test_scheduling_a_request_sets_the_next_edition(self, org: Any) -> None:
        open_request = request(org)
        decided = decide_edition_request(
            request_id=open_request.pk,
            schedule=True,
            response="Enterprise from 2027-07-01.",
            actor=staff("support"),
            now=NOW,
        )
        assert (decided.status, decided.response, decided.decided_at, decided.decided_by) == (
            "scheduled",
            "Enterprise from 2027-07-01.",
            NOW,
            "Cees Service",
        )
        assert editions(org) == ("pro", "enterprise")
        assert edition_history(org)[1:] == [
            (
                "edition_change_scheduled",
                "Enterprise",
                {"next_edition": "pro"},
                {"next_edition": "enterprise"},
                f"Edition-change request {open_request.pk}",
            ),
            (
                "edition_request_scheduled",
                "Enterprise",
                {"status": "open"},
                {"status": "scheduled", "response": "Enterprise from 2027-07-01."},
                "",
            ),
        ]

    def test_scheduling_needs_no_message(self, org: Any) -> None:
        open_request = request(org)
        decided = decide_edition_request(
            request_id=open_request.pk, schedule=True, response="", actor=staff(), now=NOW
        )
        assert (decided.status, decided.response) == ("scheduled", "")

    def test_declining_needs_a_message(self, org: Any) -> None:
        open_request = request(org)
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            decide_edition_request(
                request_id=open_request.pk, schedule=False, response="   ", actor=staff(), now=NOW
            )
        assert [(e.field, e.message) for e in error.value.errors] == [
            ("response", "Tell the customer why the request is declined.")
        ]
        assert state(org) == before

    def test_declining_with_a_message(self, org: Any) -> None:
        open_request = request(org)
        decided = decide_edition_request(
            request_id=open_request.pk,
            schedule=False,
            response="Enterprise needs a 12-month period.",
            actor=staff(),
            now=NOW,
        )
        assert (decided.status, decided.response) == (
            "declined",
            "Enterprise needs a 12-month period.",
        )
        assert editions(org) == ("pro", None)
        assert edition_history(org)[-1][0] == "edition_request_declined"

    @pytest.mark.parametrize("first", [True, False], ids=["scheduled", "declined"])
    def test_an_answered_request_cannot_be_answered_again(self, org: Any, first: bool) -> None:
        open_request = request(org)
        decide_edition_request(
            request_id=open_request.pk, schedule=first, response="Answer.", actor=staff(), now=NOW
        )
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            decide_edition_request(
                request_id=open_request.pk,
                schedule=not first,
                response="Second answer.",
                actor=staff(),
                now=NOW,
            )
        assert [(e.field, e.message) for e in error.value.errors] == [
            ("status", "This request has already been answered.")
        ]
        assert state(org) == before

    def test_response_over_two_thousand_characters_is_refused(self, org: Any) -> None:
        open_request = request(org)
        before = state(org)
        with pytest.raises(ValidationFailed) as error:
            decide_edition_request(
                request_id=open_request.pk,
                schedule=False,
                response="r" * 2001,
                actor=staff(),
                now=NOW,
            )
        assert error.value.for_field("response") == ["Keep the message under 2,000 characters."]
        assert state(org) == before

    def test_portal_admin_cannot_answer(self, org: Any, admin: Actor) -> None:
        open_request = request(org)
        before = state(org)
        with pytest.raises(PermissionDenied):
            decide_edition_request(
                request_id=open_request.pk, schedule=True, response="", actor=admin, now=NOW
            )
        assert state(org) == before

    def test_unknown_request_is_not_found(self, org: Any) -> None:
        with pytest.raises(NotFound):
            decide_edition_request(
                request_id=999_999, schedule=True, response="", actor=staff(), now=NOW
            )


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks (DATABASE_URL)"
)
def test_two_agents_answering_one_request_at_once_exactly_one_wins() -> None:
    """Both agents read the request while it is open; only one answer may be stored."""
    make_catalog()
    org = make_organization()
    open_request = request(org)
    agent = staff()
    results: list[Any] = [None, None]

    def answer(index: int) -> None:
        try:
            results[index] = decide_edition_request(
                request_id=open_request.pk,
                schedule=False,
                response=f"Answer {index}",
                actor=agent,
                now=NOW,
            )
        except Exception as error:
            results[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=answer, args=(i,)) for i in range(2)]
    with transaction.atomic():
        # Hold the row so that both agents read it as open and then queue on it.
        EditionChangeRequest.objects.select_for_update().get(pk=open_request.pk)
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
                row = cursor.fetchone()
                if row is not None and row[0] >= 2:
                    break
                time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=30)
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], ValidationFailed)
    assert errors[0].for_field("status") == ["This request has already been answered."]
    winner = next(r for r in results if not isinstance(r, Exception))
    stored = EditionChangeRequest.objects.get(pk=open_request.pk)
    assert (stored.status, stored.response) == ("declined", winner.response)
    assert HistoryEntry.objects.filter(action="edition_request_declined").count() == 1


def request_rows(org: Any) -> list[tuple[str, str, str, str]]:
    return [
        (r.edition.code, r.status, r.response, r.decided_by)
        for r in EditionChangeRequest.objects.filter(organization=org)
        .select_related("edition")
        .order_by("id")
    ]


class TestRequestsFollowTheSchedule:
    """A request's status never claims what the next period does not hold (Rule 5)."""

    def test_cancelling_a_scheduled_request_reopens_it(self, org: Any) -> None:
        open_request = request(org)
        decide_edition_request(
            request_id=open_request.pk,
            schedule=True,
            response="OK from next period",
            actor=staff("support"),
            now=NOW,
        )
        cancel_edition_change(organization=org, actor=staff(), now=NOW)
        assert editions(org) == ("pro", None)
        assert request_rows(org) == [("enterprise", "open", "", "")]
        stored = EditionChangeRequest.objects.get(pk=open_request.pk)
        assert stored.decided_at is None
        assert edition_history(org)[-2:] == [
            (
                "edition_change_cancelled",
                "",
                {"next_edition": "enterprise"},
                {"next_edition": "pro"},
                "",
            ),
            (
                "edition_request_reopened",
                "Enterprise",
                {"status": "scheduled", "response": "OK from next period"},
                {"status": "open", "request_id": open_request.pk},
                "",
            ),
        ]

    def test_a_reopened_request_can_be_answered_again(self, org: Any) -> None:
        open_request = request(org)
        decide_edition_request(
            request_id=open_request.pk, schedule=True, response="OK", actor=staff(), now=NOW
        )
        cancel_edition_change(organization=org, actor=staff(), now=NOW)
        decided = decide_edition_request(
            request_id=open_request.pk,
            schedule=False,
            response="Enterprise needs a 12-month period.",
            actor=staff("support"),
            now=NOW,
        )
        assert (decided.status, decided.response) == (
            "declined",
            "Enterprise needs a 12-month period.",
        )
        assert editions(org) == ("pro", None)

    def test_scheduling_another_edition_by_hand_reopens_the_scheduled_request(
        self, org: Any
    ) -> None:
        open_request = request(org)
        decide_edition_request(
            request_id=open_request.pk, schedule=True, response="OK", actor=staff(), now=NOW
        )
        schedule_edition_change(organization=org, edition="basic", actor=staff(), now=NOW)
        assert editions(org) == ("pro", "basic")
        assert request_rows(org) == [("enterprise", "open", "", "")]
        assert [entry[0] for entry in edition_history(org)[-2:]] == [
            "edition_change_scheduled",
            "edition_request_reopened",
        ]

    def test_scheduling_the_current_edition_by_hand_reopens_the_scheduled_request(
        self, org: Any
    ) -> None:
        open_request = request(org)
        decide_edition_request(
            request_id=open_request.pk, schedule=True, response="OK", actor=staff(), now=NOW
        )
        schedule_edition_change(organization=org, edition="pro", actor=staff(), now=NOW)
        assert editions(org) == ("pro", None)
        assert request_rows(org) == [("enterprise", "open", "", "")]

    def test_scheduling_by_hand_what_an_open_request_asks_answers_it(self, org: Any) -> None:
        open_request = request(org)
        other = request(org, edition="basic", message="Or cheaper.")
        schedule_edition_change(organization=org, edition="enterprise", actor=staff(), now=NOW)
        assert editions(org) == ("pro", "enterprise")
        assert request_rows(org) == [
            ("enterprise", "scheduled", "", "Cees Service"),
            ("basic", "open", "", ""),
        ]
        assert EditionChangeRequest.objects.get(pk=open_request.pk).decided_at == NOW
        assert edition_history(org)[-1] == (
            "edition_request_scheduled",
            "Enterprise",
            {"status": "open"},
            {"status": "scheduled", "response": "", "request_id": open_request.pk},
            "",
        )
        # The other request is still waiting for an answer: it stays open.
        assert EditionChangeRequest.objects.get(pk=other.pk).status == "open"

    def test_answering_one_request_keeps_the_other_requests_true(self, org: Any) -> None:
        first = request(org)
        second = request(org, edition="basic", message="Or cheaper.")
        decide_edition_request(
            request_id=first.pk, schedule=True, response="OK", actor=staff(), now=NOW
        )
        decide_edition_request(
            request_id=second.pk, schedule=True, response="Basic it is.", actor=staff(), now=NOW
        )
        assert editions(org) == ("pro", "basic")
        assert request_rows(org) == [
            ("enterprise", "open", "", ""),
            ("basic", "scheduled", "Basic it is.", "Cees Service"),
        ]

    def test_cancelling_answers_an_open_request_to_stay(self, org: Any) -> None:
        schedule_edition_change(organization=org, edition="enterprise", actor=staff(), now=NOW)
        stay = request(org, edition="pro", message="Please keep Pro.")
        cancel_edition_change(organization=org, actor=staff(), now=NOW)
        assert request_rows(org) == [("pro", "scheduled", "", "Cees Service")]
        assert EditionChangeRequest.objects.get(pk=stay.pk).decided_at == NOW

    def test_a_request_carried_out_in_an_earlier_period_is_left_alone(self, org: Any) -> None:
        open_request = request(org)
        decide_edition_request(
            request_id=open_request.pk, schedule=True, response="OK", actor=staff(), now=NOW
        )
        later = datetime(2027, 7, 15, 10, 0, tzinfo=UTC)  # the next period: Enterprise
        schedule_edition_change(organization=org, edition="pro", actor=staff(), now=later)
        assert editions(org) == ("enterprise", "pro")
        assert request_rows(org) == [("enterprise", "scheduled", "OK", "Cees Service")]
        cancel_edition_change(organization=org, actor=staff(), now=later)
        assert request_rows(org) == [("enterprise", "scheduled", "OK", "Cees Service")]
