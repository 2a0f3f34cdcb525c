"""The storage in use on the portal's overview and licences page: the figure the vendor's
product reported (PUT …/usage) with when it did, or "not reported yet" (issue 18, item 5)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from abonnement.core.actor import Actor
from abonnement.subscriptions.usage import report_usage
from tests.conftest import NOW

pytestmark = pytest.mark.django_db

VENDOR = Actor.vendor_token("Product backend")


def report(org: Any, used: str) -> None:
    report_usage(organization=org, storage_used_gb=Decimal(used), actor=VENDOR, now=NOW)


def test_the_overview_says_not_reported_before_the_first_report(portal: Client) -> None:
    page = portal.get("/settings/subscription/").content.decode()
    assert "Storage in use: not reported yet" in page
    assert "GB used" not in page


def test_the_overview_shows_the_reported_figure_and_when(portal: Client, org: Any) -> None:
    report(org, "37.5")
    page = portal.get("/settings/subscription/").content.decode()
    assert "37.5 GB used (reported 15 Jan 2027 12:00)" in page
    assert "not reported yet" not in page
    # Only the current period has a figure in use.
    assert page.count('class="muted small storage-used"') == 1


def test_the_licences_page_shows_it_too(portal: Client, org: Any) -> None:
    page = portal.get("/settings/subscription/licences/").content.decode()
    assert '<span class="muted">not reported yet</span>' in page
    report(org, "1234.567")
    page = portal.get("/settings/subscription/licences/").content.decode()
    assert (
        'Used</dt><dd class="storage-used">1,234.567 GB '
        '<span class="muted small">· reported 15 Jan 2027 12:00</span></dd>'
    ) in page


def test_a_report_adds_no_query_to_the_overview(portal: Client, org: Any) -> None:
    with CaptureQueriesContext(connection) as before:
        portal.get("/settings/subscription/")
    report(org, "2")
    with CaptureQueriesContext(connection) as after:
        portal.get("/settings/subscription/")
    assert len(after) == len(before)


def test_only_the_vendor_reports(org: Any) -> None:
    from abonnement.core.errors import PermissionDenied
    from abonnement.subscriptions.models import Subscription
    from tests.conftest import admin_of

    with pytest.raises(PermissionDenied):
        report_usage(organization=org, storage_used_gb=Decimal(3), actor=admin_of(org), now=NOW)
    subscription = Subscription.objects.get(organization=org)
    assert (subscription.storage_used_gb, subscription.storage_reported_at) == (0, None)


def test_the_back_office_shows_it_too(org: Any) -> None:
    from tests.backoffice.conftest import make_staff, signed_in

    client = signed_in(make_staff("support"))
    page = client.get(f"/backoffice/organizations/{org.pk}/").content.decode()
    assert "Storage in use not reported yet" in page
    report(org, "37.5")
    page = client.get(f"/backoffice/organizations/{org.pk}/").content.decode()
    assert "37.5 GB used (reported " in page
    assert page.count("GB used") == 1
