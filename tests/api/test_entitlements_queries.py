"""What the entitlements endpoint costs, and its ETag (DESIGN.md "Performance by design").

The body comes from one query whatever the number of features and users; a 304 costs what
a 200 costs; the token's last use is written at most once a minute; and the ETag, a hash of
the body, changes with anything in the body (never a stale 304) and with nothing else.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from ninja.responses import NinjaJSONEncoder

from abonnement.accounts.models import User
from abonnement.catalog.models import Edition, Feature, FeatureAvailability
from abonnement.core.models import SimulatedClock
from abonnement.features.models import FeatureSwitch
from abonnement.subscriptions.models import Subscription
from tests.api.conftest import Api, Reply
from tests.conftest import NOW, add_users, make_organization

CLOCK = 'FROM "core_simulatedclock"'
TOKEN = 'FROM "accounts_apitoken"'
LAST_USE = 'UPDATE "accounts_apitoken" SET "last_used_at"'


def path_of(organization: Any) -> str:
    return f"/organizations/{organization.pk}/entitlements"


def counted(api: Api, path: str, token: str, etag: str | None = None) -> tuple[Reply, list[str]]:
    headers = {"If-None-Match": etag} if etag else None
    with CaptureQueriesContext(connection) as queries:
        reply = api.get(path, token, headers=headers)
    return reply, [q["sql"] for q in queries.captured_queries]


def kinds(sql: list[str]) -> list[str]:
    """Each query named by what it does: clock, token, last_use, or entitlements."""

    def kind(statement: str) -> str:
        if CLOCK in statement:
            return "clock"
        if statement.startswith(LAST_USE):
            return "last_use"
        if TOKEN in statement:
            return "token"
        assert statement.startswith("SELECT"), statement
        for table in (
            "organizations_organization",
            "subscriptions_subscription",
            "catalog_edition",
            "catalog_storagepack",
            "features_featureswitch",
            "catalog_feature",
            "accounts_user",
        ):
            assert f'"{table}"' in statement, (table, statement)
        return "entitlements"

    return [kind(s) for s in sql]


def old_body(organization: Any) -> bytes:
    """The body exactly as the endpoint built it from three queries before it was one; kept
    here only to compare the new query's answer with it."""
    subscription = Subscription.objects.select_related("edition", "storage_pack").get(
        organization_id=organization.pk
    )
    codes = sorted(
        FeatureSwitch.objects.filter(organization_id=organization.pk, enabled=True).values_list(
            "feature__code", flat=True
        )
    )
    body = {
        "edition": subscription.edition.code,
        "features": codes,
        "licenses": subscription.licenses,
        "active_users": User.objects.filter(
            organization_id=organization.pk, is_active=True
        ).count(),
        "storage_gb": subscription.edition.included_storage_gb
        + subscription.storage_packs * subscription.storage_pack.gb,
    }
    return json.dumps(body, cls=NinjaJSONEncoder).encode()


def old_etag(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def move_clock(delta: timedelta) -> None:
    clock = SimulatedClock.objects.get(pk=1)
    clock.now += delta
    clock.save()


def test_a_200_and_a_304_are_the_clock_the_token_and_one_query(
    api: Api, org: Any, writer: str
) -> None:
    path = path_of(org)
    first, sql = counted(api, path, writer)
    # Before: 7 (clock, token, last use, organisation, subscription, switches, COUNT(*)).
    assert (first.status, kinds(sql)) == (200, ["clock", "token", "last_use", "entitlements"])
    again, sql = counted(api, path, writer)
    assert (again.status, kinds(sql)) == (200, ["clock", "token", "entitlements"])
    etag = first.headers["ETag"]
    unchanged, sql = counted(api, path, writer, etag)
    assert (unchanged.status, unchanged.content) == (304, b"")
    assert kinds(sql) == ["clock", "token", "entitlements"]
    # A minute after the recorded use is not yet "more than a minute": still no write.
    move_clock(timedelta(seconds=60))
    assert kinds(counted(api, path, writer, etag)[1]) == ["clock", "token", "entitlements"]
    move_clock(timedelta(microseconds=1))
    later, sql = counted(api, path, writer, etag)
    assert (later.status, kinds(sql)) == (304, ["clock", "token", "last_use", "entitlements"])


def test_the_vendor_token_costs_the_same(api: Api, org: Any, vendor: str) -> None:
    path = path_of(org)
    first, sql = counted(api, path, vendor)
    assert kinds(sql) == ["clock", "token", "last_use", "entitlements"]
    unchanged, sql = counted(api, path, vendor, first.headers["ETag"])
    assert (unchanged.status, kinds(sql)) == (304, ["clock", "token", "entitlements"])


def test_with_the_real_clock_it_is_the_token_and_one_query(
    api: Api, org: Any, vendor: str, settings: Any
) -> None:
    settings.SIMULATED_CLOCK = False
    path = path_of(org)
    first, sql = counted(api, path, vendor)
    assert (first.status, kinds(sql)) == (200, ["token", "last_use", "entitlements"])
    unchanged, sql = counted(api, path, vendor, first.headers["ETag"])
    assert (unchanged.status, kinds(sql)) == (304, ["token", "entitlements"])


def test_the_count_does_not_grow_with_features_and_users(
    api: Api, catalog: None, vendor: str
) -> None:
    organization = make_organization(licenses=40)
    path = path_of(organization)
    api.get(path, vendor)  # the token's last use is recorded once
    small, sql = counted(api, path, vendor)
    assert kinds(sql) == ["clock", "token", "entitlements"]
    assert (len(small.body["features"]), small.body["active_users"]) == (3, 1)
    pro = Edition.objects.get(code="pro")
    for i in range(25):
        feature = Feature.objects.create(code=f"extra-{i:02}", name=f"Extra {i}", kind="feature")
        FeatureAvailability.objects.create(edition=pro, feature=feature, availability="included")
        FeatureSwitch.objects.create(
            organization=organization, feature=feature, enabled=i % 5 != 0, changed_at=NOW
        )
    add_users(organization, 30)
    big, sql = counted(api, path, vendor)
    assert kinds(sql) == ["clock", "token", "entitlements"]
    assert (len(big.body["features"]), big.body["active_users"]) == (3 + 20, 31)
    assert big.content == old_body(organization)
    unchanged, sql = counted(api, path, vendor, big.headers["ETag"])
    assert (unchanged.status, kinds(sql)) == (304, ["clock", "token", "entitlements"])


def test_the_body_and_etag_are_the_old_ones_and_change_with_every_field(
    api: Api, org: Any, vendor: str, writer: str
) -> None:
    """Each step changes one thing in the body; the earlier ETag then answers 200 with the
    body and ETag the old three-query presenter gives for that state, byte for byte."""
    path = path_of(org)
    seen: list[str] = []
    old_body_seen: list[bytes] = []

    def check(expected_change: dict[str, Any]) -> None:
        before = json.loads(old_body_seen[-1]) if old_body_seen else None
        reply = api.get(path, writer, headers={"If-None-Match": seen[-1]} if seen else None)
        assert reply.status == 200, reply.content
        assert reply.content == old_body(org)
        assert reply.headers["ETag"] == old_etag(reply.content)
        assert not seen or reply.headers["ETag"] != seen[-1]
        if before is not None:
            assert {k: v for k, v in reply.body.items() if before[k] != v} == expected_change
        seen.append(reply.headers["ETag"])
        old_body_seen.append(reply.content)
        # Nothing changed since: a 304 with the same ETag.
        again = api.get(path, vendor, headers={"If-None-Match": seen[-1]})
        assert (again.status, again.headers["ETag"]) == (304, seen[-1])

    check({})
    assert json.loads(old_body_seen[0]) == {
        "edition": "pro",
        "features": ["api", "reports", "slack"],
        "licenses": 10,
        "active_users": 1,
        "storage_gb": 100,
    }
    assert api.put(f"/organizations/{org.pk}/features/sso", writer, {"enabled": True}).status == 200
    check({"features": ["api", "reports", "slack", "sso"]})
    slack = api.put(f"/organizations/{org.pk}/features/slack", writer, {"enabled": False})
    assert slack.status == 200, slack.content
    check({"features": ["api", "reports", "sso"]})
    licenses = api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 12})
    assert licenses.status == 200, licenses.content
    check({"licenses": 12})
    (user,) = add_users(org, 1)
    check({"active_users": 2})
    deactivated = api.post(
        f"/organizations/{org.pk}/users/{user.pk}/deactivate", writer, {"license": "keep"}
    )
    assert deactivated.status == 200, deactivated.content
    check({"active_users": 1})
    assert seen[-1] == seen[-3]  # the same body as before the user came: the same ETag
    storage = api.put(f"/organizations/{org.pk}/subscription/storage", writer, {"extra_packs": 2})
    assert storage.status == 200, storage.content
    check({"storage_gb": 200})
    # Not in the body: the ETag stays and the answer is a 304.
    renamed = api.patch(f"/organizations/{org.pk}", writer, {"name": "Uusi Oy"})
    assert renamed.status == 200, renamed.content
    assert api.get(path, writer, headers={"If-None-Match": seen[-1]}).status == 304
    # The edition changes at the rollover, not when it is scheduled.
    scheduled = api.put(
        f"/organizations/{org.pk}/subscription/next-edition", vendor, {"edition": "enterprise"}
    )
    assert scheduled.status == 200, scheduled.content
    assert api.get(path, writer, headers={"If-None-Match": seen[-1]}).status == 304
    moved = api.post("/clock", vendor, {"now": "2027-07-01T08:00:00+03:00"})
    assert moved.body["transitions"] == 1, moved.content
    # Enterprise includes crm and scim, switched on as it starts; slack stays off.
    check(
        {
            "edition": "enterprise",
            "features": ["api", "crm", "reports", "scim", "sso"],
            "storage_gb": 1100,
        }
    )


def test_no_switch_on_is_an_empty_list(api: Api, org: Any, vendor: str) -> None:
    FeatureSwitch.objects.filter(organization=org).update(enabled=False)
    reply = api.get(path_of(org), vendor)
    assert reply.body["features"] == []
    assert reply.content == old_body(org)
    assert reply.headers["ETag"] == old_etag(reply.content)


def test_another_basic_organisation_reads_its_own(api: Api, org: Any, vendor: str) -> None:
    basic = make_organization(name="Pieni Oy", admin_email="a@pieni.example", edition="basic")
    add_users(basic, 2)
    reply = api.get(path_of(basic), vendor)
    assert reply.body == {
        "edition": "basic",
        "features": ["reports", "slack"],
        "licenses": 10,
        "active_users": 3,
        "storage_gb": 10,
    }
    assert reply.content == old_body(basic)
    assert api.get(path_of(org), vendor).content == old_body(org)


def test_who_may_not_read_is_refused_as_before(
    api: Api, org: Any, stranger: str, powerless: str, vendor: str
) -> None:
    missing = api.get("/organizations/00000000-0000-0000-0000-000000000000/entitlements", vendor)
    malformed = api.get("/organizations/not-an-id/entitlements", vendor)
    theirs = api.get(path_of(org), stranger)
    assert [(r.status, r.code) for r in (missing, malformed, theirs)] == [(404, "not_found")] * 3
    assert theirs.body["detail"] == "Organisation not found."
    refused = api.get(path_of(org), powerless)
    assert (refused.status, refused.code) == (403, "permission_denied")
    assert "ETag" not in refused.headers


def test_if_none_match_star_is_a_304_for_an_organisation_that_exists(
    api: Api, org: Any, writer: str
) -> None:
    """RFC 9110 §13.1.2: ``*`` matches any current representation, so a GET is a 304 with
    the ETag; strong, weak and listed tags still match as before, and a stranger tag not."""
    path = path_of(org)
    first = api.get(path, writer)
    etag = first.headers["ETag"]
    for header in ("*", etag, f"W/{etag}", f'"other", {etag}'):
        reply = api.get(path, writer, headers={"If-None-Match": header})
        assert (reply.status, reply.content, reply.headers["ETag"]) == (304, b"", etag), header
    other = api.get(path, writer, headers={"If-None-Match": '"other"'})
    assert (other.status, other.content, other.headers["ETag"]) == (200, first.content, etag)


def test_if_none_match_star_on_an_unknown_organisation_is_still_not_found(
    api: Api, vendor: str
) -> None:
    reply = api.get(
        "/organizations/00000000-0000-0000-0000-000000000000/entitlements",
        vendor,
        headers={"If-None-Match": "*"},
    )
    assert (reply.status, reply.code) == (404, "not_found")
    assert reply.headers["Content-Type"] == "application/problem+json"
