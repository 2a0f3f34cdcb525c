"""The staff role matrix, enforced in the services (PRODUCT.md "Back office"):
support reads, answers edition requests and reads feedback; billing does everything.
A staff user without a role, or a customer posing as staff, does nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from abonnement.accounts.models import User
from abonnement.backoffice import selectors
from abonnement.core.actor import Actor
from abonnement.core.errors import PermissionDenied
from abonnement.history.models import HistoryEntry
from abonnement.organizations.models import Organization
from abonnement.organizations.selectors import all_organizations, get_organization
from abonnement.organizations.services import set_purchase_channel, transfer_vat_number
from abonnement.subscriptions.models import Subscription
from abonnement.subscriptions.services import (
    cancel_edition_change,
    decide_edition_request,
    request_edition_change,
    schedule_edition_change,
    set_license_count,
)
from tests.backoffice.conftest import make_staff
from tests.conftest import NOW, VENDOR, admin_of

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n"

Call = Callable[[Organization, Actor], Any]


def _decide(org: Organization, actor: Actor) -> Any:
    request = request_edition_change(
        organization=org, edition="enterprise", message="", actor=admin_of(org), now=NOW
    )
    return decide_edition_request(
        request_id=request.pk, schedule=True, response="Yes", actor=actor, now=NOW
    )


def _cancel(org: Organization, actor: Actor) -> Any:
    schedule_edition_change(organization=org, edition="basic", actor=VENDOR, now=NOW)
    return cancel_edition_change(organization=org, actor=actor, now=NOW)


CALLS: dict[str, tuple[Call, set[str]]] = {
    # name: (call, roles allowed)
    "read an organisation": (
        lambda org, actor: get_organization(organization_id=org.pk, actor=actor),
        {"support", "billing"},
    ),
    "list organisations": (
        lambda org, actor: list(all_organizations(actor=actor)),
        {"support", "billing"},
    ),
    "read the feedback": (
        lambda org, actor: selectors.feedback_inbox(actor=actor),
        {"support", "billing"},
    ),
    "read the edition requests": (
        lambda org, actor: selectors.edition_request_inbox(actor=actor),
        {"support", "billing"},
    ),
    "answer an edition request": (_decide, {"support", "billing"}),
    "schedule an edition change": (
        lambda org, actor: schedule_edition_change(
            organization=org, edition="enterprise", actor=actor, now=NOW
        ),
        {"billing"},
    ),
    "cancel an edition change": (_cancel, {"billing"}),
    "set the purchase channel": (
        lambda org, actor: set_purchase_channel(
            organization=org,
            channel={"type": "marketplace", "name": "M", "url": "https://m.example"},
            actor=actor,
            now=NOW,
        ),
        {"billing"},
    ),
    "transfer the VAT number": (
        lambda org, actor: transfer_vat_number(
            organization=org,
            vat_number="FI12345671",
            effective_date=date(2027, 2, 1),
            document=PDF,
            document_name="t.pdf",
            actor=actor,
            now=NOW,
        ),
        {"billing"},
    ),
    "change the licences": (
        lambda org, actor: set_license_count(organization=org, licenses=12, actor=actor, now=NOW),
        {"billing"},
    ),
}


def actor_for(kind: str, org: Organization) -> Actor:
    if kind == "customer posing as staff":
        return Actor.staff(User.objects.get(email="admin@testi.example"))
    if kind == "deactivated billing":
        user = make_staff("billing", email="gone@vendor.example")
        user.is_active = False
        user.save(update_fields=["is_active"])
        return Actor.staff(user)
    return Actor.staff(make_staff("" if kind == "no role" else kind))


def state(org: Organization) -> tuple[Any, ...]:
    org = Organization.objects.get(pk=org.pk)
    sub = Subscription.objects.get(organization=org)
    return (
        org.purchase_channel,
        org.vat_number,
        sub.licenses,
        sub.next_edition_id,
        HistoryEntry.objects.filter(channel="back_office").count(),
    )


@pytest.mark.parametrize(
    "kind", ["support", "billing", "no role", "customer posing as staff", "deactivated billing"]
)
@pytest.mark.parametrize("name", list(CALLS))
def test_role_matrix(org: Organization, name: str, kind: str) -> None:
    call, allowed = CALLS[name]
    actor = actor_for(kind, org)
    if kind in allowed:
        call(org, actor)
        return
    # Set-up calls inside ``call`` (by the vendor or the customer) may write; the staff
    # call itself must change nothing.
    with pytest.raises(PermissionDenied) as refused:
        call(org, actor)
    if kind == "support":
        assert refused.value.message == "This needs the billing role."
    else:
        assert refused.value.message == "Only the vendor or its customer service can do this."
    assert state(org)[-1] == 0


def test_support_refusals_change_nothing(org: Organization, support: Actor) -> None:
    before = state(org)
    for name in ("schedule an edition change", "set the purchase channel", "change the licences"):
        with pytest.raises(PermissionDenied):
            CALLS[name][0](org, support)
    assert state(org) == before
    assert HistoryEntry.objects.filter(organization=org).count() == 2
