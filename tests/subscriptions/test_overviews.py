"""Many subscription overviews at once (the webhook payloads of a rollover batch): the same
overviews as one by one, with a number of queries that does not grow with the batch."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from abonnement.subscriptions.selectors import subscription_overview, subscription_overviews
from tests.conftest import make_organization

pytestmark = pytest.mark.django_db


def _organizations(n: int) -> list[Any]:
    variants = [
        {"edition": "basic", "licenses": 3, "period_months": 1, "start_date": date(2027, 1, 10)},
        {"edition": "pro", "licenses": 10, "period_months": 6},
        {"edition": "enterprise", "licenses": 40, "period_months": 3, "currency": "SEK"},
    ]
    return [
        make_organization(
            name=f"Org {i}",
            admin_email=f"admin{i}@x.example",
            **variants[i % len(variants)],
        )
        for i in range(n)
    ]


def _queries(ids: list[Any]) -> int:
    with CaptureQueriesContext(connection) as captured:
        subscription_overviews(ids)
    return len(captured.captured_queries)


def test_the_overviews_of_many_are_those_of_each(catalog: None) -> None:
    orgs = _organizations(3)
    overviews = subscription_overviews([o.pk for o in orgs] + [uuid.uuid4()])
    assert set(overviews) == {o.pk for o in orgs}  # an unknown organisation is left out
    for org in orgs:
        assert overviews[org.pk] == subscription_overview(organization_id=org.pk)
    assert [overviews[o.pk].current.licenses for o in orgs] == [3, 10, 40]
    assert [overviews[o.pk].currency for o in orgs] == ["EUR", "EUR", "SEK"]


def test_the_number_of_queries_does_not_grow_with_the_organisations(catalog: None) -> None:
    orgs = _organizations(9)
    assert _queries([o.pk for o in orgs[:3]]) == _queries([o.pk for o in orgs])
    assert _queries([]) == 0
