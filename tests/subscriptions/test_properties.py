"""Property: whatever administrators do, in any order and across rollovers,
active users never outnumber licences (now or next period), a refusal changes nothing, and
the orders add up to what the licence timeline says should have been charged."""

from __future__ import annotations

import itertools
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abonnement.accounts.models import User
from abonnement.accounts.services import create_user, deactivate_user, reactivate_user
from abonnement.core import clock
from abonnement.core.errors import DomainError
from abonnement.core.money import quantize
from abonnement.orders.models import Order
from abonnement.subscriptions.models import Subscription
from abonnement.subscriptions.rollover import roll_over_subscriptions
from abonnement.subscriptions.selectors import active_user_count
from abonnement.subscriptions.services import set_license_count
from tests.conftest import NOW, admin_of, make_organization

pytestmark = pytest.mark.django_db

operations = st.lists(
    st.one_of(
        st.tuples(st.just("set"), st.integers(0, 14)),
        st.tuples(st.just("create"), st.booleans()),
        st.tuples(st.just("deactivate"), st.integers(0, 20), st.sampled_from(["keep", "remove"])),
        st.tuples(st.just("reactivate"), st.integers(0, 20), st.booleans()),
        st.tuples(st.just("advance"), st.integers(1, 150)),
    ),
    max_size=14,
)
serial = itertools.count()


def monthly_price(period_start: Any) -> Decimal:
    # The test catalogue: Pro is 20.00 until 2027-06-30, 21.00 from 2027-07-01.
    return Decimal("21.00") if period_start.isoformat() >= "2027-07-01" else Decimal("20.00")


def snapshot(org: Any) -> tuple[int, int, int, int]:
    sub = Subscription.objects.get(organization=org)
    return (
        sub.licenses,
        sub.licenses_next,
        active_user_count(org.pk),
        Order.objects.filter(organization=org).count(),
    )


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(initial=st.integers(1, 6), ops=operations)
def test_licence_invariants_and_charges(
    catalog: None, initial: int, ops: list[tuple[Any, ...]]
) -> None:
    tag = next(serial)
    org = make_organization(
        licenses=initial, admin_email=f"admin{tag}@prop.example", name=f"Prop {tag}"
    )
    admin = admin_of(org)
    now = NOW
    sub = Subscription.objects.get(organization=org)
    expected = quantize(Decimal(initial * 6) * monthly_price(sub.current_period_start))
    created = 0
    for op in ops:
        before = snapshot(org)
        sub_before = Subscription.objects.get(organization=org)
        try:
            if op[0] == "set":
                set_license_count(organization=org, licenses=op[1], actor=admin, now=now)
            elif op[0] == "create":
                created += 1
                create_user(
                    organization=org,
                    email=f"u{tag}-{created}@prop.example",
                    name="U",
                    buy_license=op[1],
                    actor=admin,
                    now=now,
                )
            elif op[0] in ("deactivate", "reactivate"):
                users = list(User.objects.filter(organization=org).order_by("pk"))
                user = users[op[1] % len(users)]
                if op[0] == "deactivate":
                    deactivate_user(
                        organization=org, user_id=user.pk, license=op[2], actor=admin, now=now
                    )
                else:
                    reactivate_user(
                        organization=org, user_id=user.pk, buy_license=op[2], actor=admin, now=now
                    )
            else:
                now = now + timedelta(days=op[1])
                roll_over_subscriptions(now=now)
                # A transition renews licences_next × months at the new period's price.
                sub_now = Subscription.objects.get(organization=org)
                renewals = list(
                    Order.objects.filter(organization=org, kind="renewal", created_at=now)
                )
                steps = 1 if sub_now.current_period_start != sub_before.current_period_start else 0
                assert len(renewals) == steps  # an advance of < 181 days crosses one boundary
                for order in renewals:
                    line = order.lines.get()
                    assert line.quantity == Decimal(sub_before.licenses_next * 6)
                    assert sub_now.licenses == sub_before.licenses_next
                    expected += quantize(line.quantity * monthly_price(order.period_start))
        except DomainError:
            assert snapshot(org) == before  # a refusal changes nothing
            continue
        after = Subscription.objects.get(organization=org)
        active = active_user_count(org.pk)
        assert active <= after.licenses
        assert active <= after.licenses_next
        if op[0] != "advance" and after.licenses > sub_before.licenses:
            # A purchase during the period: Δ × price × 6 × days left ÷ period days.
            today = clock.business_date(now)
            start = max(today, after.current_period_start)
            days = (after.current_period_end - start).days + 1
            period_days = (after.current_period_end - after.current_period_start).days + 1
            delta = after.licenses - sub_before.licenses
            charge = quantize(Decimal(delta) * after.license_unit_price * 6 * days / period_days)
            assert Decimal(0) < charge <= quantize(Decimal(delta) * after.license_unit_price * 6)
            expected += charge
    total = sum((o.total for o in Order.objects.filter(organization=org)), Decimal("0.00"))
    assert total == expected
