"""Errors are problem+json with API.md's codes; bad input is never a 500 (API.md table)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from django.test import Client

from abonnement.accounts.models import User
from abonnement.history.models import HistoryEntry
from abonnement.idempotency.models import IdempotencyRecord
from abonnement.orders.models import Order
from abonnement.organizations.models import Organization
from abonnement.subscriptions.models import Subscription
from tests.api.conftest import Api


def licenses_of(org: Any) -> tuple[int, int]:
    subscription = Subscription.objects.get(organization=org)
    return subscription.licenses, subscription.licenses_next


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"[1, 2]", b'"text"', b"12", b"null", b"\xff\xfe", b""],
    ids=["broken", "array", "string", "number", "null", "not-utf8", "empty"],
)
def test_a_body_that_is_not_a_json_object_is_malformed(
    api: Api, org: Any, writer: str, raw: bytes
) -> None:
    reply = api.put(f"/organizations/{org.pk}/subscription/licenses", writer, raw=raw)
    assert reply.status == 400
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.body["type"] == "urn:abonnement:problem:malformed_request"
    assert reply.body["title"] == "Malformed request"
    assert reply.body["status"] == 400
    assert reply.body["code"] == "malformed_request"
    assert "errors" not in reply.body
    assert licenses_of(org) == (10, 10)


HUGE = b"9" * 5000


@pytest.mark.parametrize("key", [None, "huge-1"], ids=["without-key", "with-key"])
@pytest.mark.parametrize(
    "number", [b"1e400", HUGE, b"-" + HUGE], ids=["1e400", "5000-digits", "minus-5000-digits"]
)
def test_a_number_too_large_is_a_field_error_not_a_malformed_body(
    api: Api, org: Any, writer: str, number: bytes, key: str | None
) -> None:
    reply = api.put(
        f"/organizations/{org.pk}/subscription/licenses",
        writer,
        raw=b'{"licenses": ' + number + b"}",
        headers={"Idempotency-Key": key} if key else {},
    )
    assert reply.status == 422
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.body["code"] == "validation_error"
    assert reply.body["errors"] == [
        {"field": "licenses", "message": "Input should be a valid integer"}
    ]
    assert licenses_of(org) == (10, 10)
    assert Order.objects.filter(organization=org, kind="licenses").count() == 0


def test_a_huge_number_where_text_belongs_is_a_field_error(api: Api, org: Any, writer: str) -> None:
    users = User.objects.filter(organization=org).count()
    reply = api.post(
        f"/organizations/{org.pk}/users", writer, raw=b'{"email": ' + HUGE + b', "name": "C"}'
    )
    assert (reply.status, reply.code) == (422, "validation_error")
    assert reply.body["errors"] == [{"field": "email", "message": "Input should be a valid string"}]
    assert User.objects.filter(organization=org).count() == users


def test_schema_errors_are_validation_errors_per_field(api: Api, writer: str, vendor: str) -> None:
    reply = api.post(
        "/organizations",
        vendor,
        {
            "name": "X Oy",
            "vat_number": "FI23456780",
            "country": "FI",
            "currency": "EUR",
            "language": "fi",
            "edition": "pro",
            "licenses": "ten",
            "period_months": 5,
            "admin": {"email": "x@x.example"},
        },
    )
    assert reply.status == 422
    assert reply.body["code"] == "validation_error"
    assert reply.body["detail"] == "Some fields are not valid."
    assert [e["field"] for e in reply.body["errors"]] == ["licenses", "period_months", "admin.name"]
    assert reply.body["errors"][0]["message"] == "Input should be a valid integer"


def test_service_field_errors_are_validation_errors_too(api: Api, vendor: str) -> None:
    reply = api.post(
        "/organizations",
        vendor,
        {
            "name": "",
            "vat_number": "FI11111111",
            "country": "FI",
            "currency": "XXX",
            "language": "fi",
            "edition": "platinum",
            "licenses": 0,
            "period_months": 1,
            "admin": {"email": "not-an-address", "name": "A"},
        },
    )
    assert reply.status == 422
    assert reply.body["code"] == "validation_error"
    assert [e["field"] for e in reply.body["errors"]] == [
        "name",
        "vat_number",
        "edition",
        "licenses",
        "admin.email",
    ]
    assert Order.objects.count() == 0


def test_text_the_database_cannot_store_is_a_validation_error(
    api: Api, org: Any, writer: str
) -> None:
    reply = api.post(
        f"/organizations/{org.pk}/edition-requests",
        writer,
        {"edition": "enter\u0000prise", "message": "x"},
    )
    assert reply.status == 422
    assert reply.body["errors"] == [
        {"field": "edition", "message": "Value error, Text cannot contain the NUL character."}
    ]


def test_a_business_conflict_is_409_with_its_code_and_changes_nothing(
    api: Api, org: Any, writer: str
) -> None:
    from tests.conftest import add_users

    add_users(org, 4)
    history = HistoryEntry.objects.filter(organization=org).count()
    reply = api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 4})
    assert reply.status == 409
    assert reply.body == {
        "type": "urn:abonnement:problem:below_active_users",
        "title": "Fewer licences than active users",
        "status": 409,
        "code": "below_active_users",
        "detail": "You cannot have fewer licences than active users: 5 users are active. "
        "Deactivate users in User management first.",
        "active_users": 5,
    }
    assert licenses_of(org) == (10, 10)
    assert HistoryEntry.objects.filter(organization=org).count() == history


def test_an_unknown_path_is_a_problem_not_a_page(api: Api, writer: str) -> None:
    reply = api.get("/no/such/thing", writer)
    assert (reply.status, reply.code) == (404, "not_found")
    assert reply.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "method,path,allow",
    [
        ("DELETE", "/organizations/{org}/subscription", "GET"),
        ("PUT", "/organizations", "GET, POST"),
        ("DELETE", "/catalog", "GET"),
        ("POST", "/organizations/{org}/billing-details", "GET, PUT"),
    ],
)
def test_a_method_a_path_does_not_take_is_a_405_problem(
    api: Api, org: Any, writer: str, vendor: str, method: str, path: str, allow: str
) -> None:
    reply = api.call(method, path.format(org=org.pk), vendor, {"licenses": 3})
    assert reply.status == 405
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.headers["Allow"] == allow
    assert reply.body == {
        "type": "urn:abonnement:problem:malformed_request",
        "title": "Malformed request",
        "status": 405,
        "code": "malformed_request",
        "detail": f"This path does not take {method}; it takes {allow}.",
    }
    assert Organization.objects.filter(pk=org.pk).exists()
    assert licenses_of(org) == (10, 10)


def test_a_405_with_an_idempotency_key_keeps_nothing(api: Api, org: Any, writer: str) -> None:
    path = f"/organizations/{org.pk}/subscription"
    reply = api.delete(path, writer, headers={"Idempotency-Key": "k-405"})
    assert (reply.status, reply.code) == (405, "malformed_request")
    assert IdempotencyRecord.objects.count() == 0
    assert licenses_of(org) == (10, 10)


@pytest.mark.parametrize("method", ["OPTIONS", "HEAD", "DELETE"])
def test_an_unknown_path_is_not_found_with_any_method(api: Api, writer: str, method: str) -> None:
    reply = api.call(method, "/no/such/thing", writer)
    assert reply.status == 404
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert "Allow" not in reply.headers


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"])
def test_the_api_root_is_not_found_with_any_method_even_with_csrf_checks(
    org: Any, writer: str, method: str
) -> None:
    """``/api/v1/`` itself is no operation: a 404 problem like any unknown path under it,
    not the portal's HTML page, nor Django's HTML CSRF refusal for a write."""
    api = Api(Client(enforce_csrf_checks=True))
    reply = api.call(method, "/api/v1/", writer, {"licenses": 3})
    assert reply.status == 404
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert "Allow" not in reply.headers
    if method != "HEAD":
        assert reply.body == {
            "type": "urn:abonnement:problem:not_found",
            "title": "Not found",
            "status": 404,
            "code": "not_found",
            "detail": "There is no such API path.",
        }
    assert IdempotencyRecord.objects.count() == 0
    assert licenses_of(org) == (10, 10)


@pytest.mark.parametrize("org_id", ["not-a-uuid", "00000000-0000-0000-0000-000000000000", "%00"])
def test_an_unknown_organisation_is_not_found(api: Api, vendor: str, org_id: str) -> None:
    reply = api.get(f"/organizations/{org_id}/subscription", vendor)
    assert (reply.status, reply.code) == (404, "not_found")


@pytest.mark.parametrize("user_id", ["abc", "99999999999999999999999", "-1"])
def test_an_unknown_user_is_not_found(api: Api, org: Any, writer: str, user_id: str) -> None:
    reply = api.get(f"/organizations/{org.pk}/users/{user_id}", writer)
    assert (reply.status, reply.code) == (404, "not_found")


def test_a_bad_cursor_or_limit_is_a_validation_error(api: Api, org: Any, writer: str) -> None:
    base = f"/organizations/{org.pk}/orders"
    cursor = api.get(f"{base}?cursor=bm9wZQ", writer)
    assert (cursor.status, cursor.code) == (422, "validation_error")
    assert cursor.body["errors"][0]["field"] == "cursor"
    limit = api.get(f"{base}?limit=201", writer)
    assert (limit.status, limit.code) == (422, "validation_error")
    assert limit.body["errors"][0]["field"] == "limit"


def cursor_of(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


LISTS = [
    ("/organizations", 2),
    ("/organizations/{org}/users", 1),
    ("/organizations/{org}/history", 2),
    ("/organizations/{org}/invoices", 2),
    ("/organizations/{org}/orders", 2),
    ("/organizations/{org}/edition-requests", 2),
    ("/webhook-endpoints", 2),
]
BAD_CURSOR_VALUES = {
    "nulls": [None],
    "objects": [{}],
    "lists": [[1]],
    "numbers": [1.5],
    "infinite": [1e400],
    "empty-strings": [""],
    "huge-numbers": ["9" * 40],
    "ancient-instants": ["0001-01-01T00:00:00+01:00"],
}


@pytest.mark.parametrize("path,width", LISTS, ids=[path for path, _ in LISTS])
@pytest.mark.parametrize("values", BAD_CURSOR_VALUES.values(), ids=BAD_CURSOR_VALUES.keys())
def test_a_cursor_with_values_no_list_wrote_is_a_validation_error(
    api: Api, org: Any, vendor: str, path: str, width: int, values: list[Any]
) -> None:
    cursor = cursor_of(values * width)
    reply = api.get(f"{path.format(org=org.pk)}?cursor={cursor}", vendor)
    assert reply.status == 422
    assert reply.headers["Content-Type"] == "application/problem+json"
    assert reply.body["code"] == "validation_error"
    assert reply.body["errors"] == [
        {"field": "cursor", "message": "This cursor is not valid; use a next_cursor from a list."}
    ]


def test_a_cursor_of_nulls_is_the_same_error_as_a_garbled_one(api: Api, vendor: str) -> None:
    nulls = api.get("/organizations?cursor=W251bGwsbnVsbF0", vendor)
    garbled = api.get("/organizations?cursor=bm9wZQ", vendor)
    assert (nulls.status, nulls.code) == (422, "validation_error")
    assert nulls.body == garbled.body


def test_a_naive_instant_in_a_cursor_is_not_valid(api: Api, org: Any, vendor: str) -> None:
    reply = api.get(
        f"/organizations?cursor={cursor_of(['2027-01-01T00:00:00', str(org.pk)])}", vendor
    )
    assert (reply.status, reply.code) == (422, "validation_error")
    assert [e["field"] for e in reply.body["errors"]] == ["cursor"]


def test_the_rate_limit_answers_429_with_retry_after(
    api: Api, org: Any, writer: str, reader: str, settings: Any
) -> None:
    settings.API_RATE_LIMIT = "3/min"
    path = f"/organizations/{org.pk}"
    assert [api.get(path, writer).status for _ in range(3)] == [200, 200, 200]
    limited = api.get(path, writer)
    assert (limited.status, limited.code) == (429, "rate_limited")
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # Per token: another token still has its own allowance.
    assert api.get(path, reader).status == 200


def test_the_rate_limit_can_be_switched_off(api: Api, org: Any, writer: str, settings: Any) -> None:
    settings.API_RATE_LIMIT = "off"
    assert {api.get(f"/organizations/{org.pk}", writer).status for _ in range(5)} == {200}


def test_messages_follow_accept_language(api: Api, org: Any, writer: str) -> None:
    reply = api.get("/no/such/thing", writer, headers={"Accept-Language": "en"})
    assert reply.body["detail"] == "There is no such API path."


def test_a_refusal_no_endpoint_expected_stays_a_problem_answer(
    api: Api, catalog: None, vendor: str
) -> None:
    """The pages' refusal page is for pages: the API keeps answering problem+json."""
    from abonnement.catalog.models import Price
    from tests.conftest import make_organization

    org = make_organization(
        name="Svensk AB",
        vat_number="SE556036079301",
        country="SE",
        currency="SEK",
        admin_email="admin@svensk.example",
    )
    Price.objects.filter(product="license:pro", currency="SEK").delete()
    answer = api.get(f"/organizations/{org.pk}/subscription", vendor)
    assert (answer.status, answer.code) == (422, "validation_error")
    assert answer.body["detail"] == "The price list has no SEK price for license:pro."
