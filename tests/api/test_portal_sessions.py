"""POST /organizations/{org}/portal-sessions (API-next.md "Sign-in and embedding"): a
single-use link that signs a user in to the portal, made by the vendor only."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from abonnement.accounts.models import PortalSession, User
from abonnement.accounts.services import deactivate_user
from abonnement.history.models import HistoryEntry
from tests.api.conftest import Api, admin_user, org_token
from tests.conftest import NOW, admin_of, make_organization

pytestmark = pytest.mark.django_db

PREFIX = "http://127.0.0.1:8000/portal-session/"


def path(org: Any) -> str:
    return f"/organizations/{org.pk}/portal-sessions"


def secret_of(url: str) -> str:
    assert url.startswith(PREFIX) and url.endswith("/"), url
    return url.removeprefix(PREFIX).removesuffix("/")


def state() -> tuple[list[Any], int]:
    """What a refused call must leave as it was: the links, and the history."""
    links = list(PortalSession.objects.order_by("pk").values())
    return links, HistoryEntry.objects.count()


@pytest.fixture
def vendor_hosts(settings: Any) -> None:
    settings.RETURN_URL_HOSTS = ["app.vendor.example", ".vendor.example"]


def test_a_link_for_a_user_by_id(api: Api, org: Any, vendor: str) -> None:
    anna = admin_user(org)
    reply = api.post(path(org), vendor, {"user": str(anna.pk)})
    assert reply.status == 201, reply.content
    assert set(reply.body) == {"url", "expires_at"}
    assert reply.body["expires_at"] == "2027-01-15T10:05:00Z"
    secret = secret_of(reply.body["url"])
    assert len(secret) == 43
    assert reply.headers["Cache-Control"] == "no-store"
    # No address to GET a link at: no Location.
    assert "Location" not in reply.headers
    stored = PortalSession.objects.get()
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(PortalSession.objects.values().get())
    assert (
        stored.organization_id,
        stored.user_id,
        stored.section,
        stored.language,
        stored.return_url,
        stored.created_by,
        stored.created_at,
        stored.expires_at,
        stored.used_at,
    ) == (
        org.pk,
        anna.pk,
        "overview",
        "",
        "",
        "Vendor CRM",
        NOW,
        datetime(2027, 1, 15, 10, 5, tzinfo=UTC),
        None,
    )


def test_a_link_by_email_with_section_language_and_way_back(
    api: Api, org: Any, vendor: str, vendor_hosts: None
) -> None:
    reply = api.post(
        path(org),
        vendor,
        {
            "email": "Admin@Testi.Example",
            "section": "billing",
            "language": "fi",
            "return_url": "https://app.vendor.example/settings?tab=1",
        },
    )
    assert reply.status == 201, reply.content
    stored = PortalSession.objects.get()
    assert (stored.user_id, stored.section, stored.language, stored.return_url) == (
        admin_user(org).pk,
        "billing",
        "fi",
        "https://app.vendor.example/settings?tab=1",
    )
    # Two links are two different secrets.
    again = api.post(path(org), vendor, {"email": "admin@testi.example"})
    assert secret_of(again.body["url"]) != secret_of(reply.body["url"])
    assert PortalSession.objects.count() == 2


def test_the_lifetime_and_the_address_follow_the_settings(
    api: Api, org: Any, vendor: str, settings: Any
) -> None:
    settings.PORTAL_SESSION_SECONDS = 60
    settings.PUBLIC_URL = "https://billing.vendor.example"
    reply = api.post(path(org), vendor, {"user": str(admin_user(org).pk)})
    assert reply.body["expires_at"] == "2027-01-15T10:01:00Z"
    assert reply.body["url"].startswith("https://billing.vendor.example/portal-session/")


def test_creating_a_link_is_in_the_history(api: Api, org: Any, vendor: str) -> None:
    before = HistoryEntry.objects.count()
    api.post(path(org), vendor, {"email": "admin@testi.example"})
    assert HistoryEntry.objects.count() == before + 1
    entry = HistoryEntry.objects.latest("pk")
    assert (
        entry.organization_id,
        entry.kind,
        entry.action,
        entry.subject,
        entry.actor_type,
        entry.actor_name,
        entry.channel,
        entry.at,
    ) == (
        org.pk,
        "users",
        "portal_session_created",
        "admin@testi.example",
        "token",
        "Vendor CRM",
        "api",
        NOW,
    )
    listed = api.get(f"/organizations/{org.pk}/history?limit=1", vendor).body["data"][0]
    assert (listed["action"], listed["subject"]) == (
        "portal_session_created",
        "admin@testi.example",
    )


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["user", "email"]),
        ({"user": "", "email": ""}, ["user", "email"]),
        ({"user": None}, ["user", "email"]),
        ({"user": "1", "email": "admin@testi.example"}, ["user", "email"]),
        ({"user": 1}, ["user"]),
        ({"email": "admin@testi.example", "section": "invoices"}, ["section"]),
        ({"email": "admin@testi.example", "language": "de"}, ["language"]),
        ({"email": "admin@testi.example", "return_url": 5}, ["return_url"]),
    ],
)
def test_bad_input_is_refused_per_field(
    api: Api, org: Any, vendor: str, body: dict[str, Any], fields: list[str]
) -> None:
    before = state()
    reply = api.post(path(org), vendor, body)
    assert (reply.status, reply.code) == (422, "validation_error")
    assert [error["field"] for error in reply.body["errors"]] == fields
    assert state() == before


def test_exactly_one_of_user_and_email_is_explained(api: Api, org: Any, vendor: str) -> None:
    neither = api.post(path(org), vendor, {})
    assert neither.body["errors"] == [
        {"field": "user", "message": "Give the user's id (“user”) or e-mail address (“email”)."},
        {"field": "email", "message": "Give the user's id (“user”) or e-mail address (“email”)."},
    ]
    both = api.post(path(org), vendor, {"user": "1", "email": "a@b.example"})
    assert both.body["errors"] == [
        {"field": "user", "message": "Give either “user” or “email”, not both."},
        {"field": "email", "message": "Give either “user” or “email”, not both."},
    ]


def test_without_allowed_hosts_every_return_url_is_refused(
    api: Api, org: Any, vendor: str, settings: Any
) -> None:
    settings.RETURN_URL_HOSTS = []
    before = state()
    reply = api.post(
        path(org), vendor, {"email": "admin@testi.example", "return_url": "https://x.example/"}
    )
    assert (reply.status, reply.code) == (422, "validation_error")
    assert reply.body["errors"] == [
        {
            "field": "return_url",
            "message": "No return address is allowed here: list your application's hosts in "
            "ABONNEMENT_RETURN_URL_HOSTS first.",
        }
    ]
    assert state() == before


@pytest.mark.parametrize(
    ("return_url", "message"),
    [
        (
            "https://evil.example/app",
            "The host evil.example is not one of ABONNEMENT_RETURN_URL_HOSTS; a return "
            "address must lead back to your application.",
        ),
        (
            "https://app.vendor.example.evil.example/",
            "The host app.vendor.example.evil.example is not one of "
            "ABONNEMENT_RETURN_URL_HOSTS; a return address must lead back to your application.",
        ),
        (
            "javascript:alert(1)//app.vendor.example",
            "Give a web address that starts with https:// or http://.",
        ),
        ("ftp://app.vendor.example/", "Give a web address that starts with https:// or http://."),
        ("//app.vendor.example/", "Give a web address that starts with https:// or http://."),
        ("/settings", "Give a web address that starts with https:// or http://."),
        (
            "https://user:pw@app.vendor.example/",
            "Give a web address that starts with https:// or http://.",
        ),
        ("https://app.vendor.example/a b", "Give a web address (http or https) without spaces."),
        ("https://app.vendor.example:99999/", "Give a web address (http or https) without spaces."),
        (
            "https://app.vendor.example/" + "x" * 2000,
            "Give a web address (http or https) without spaces.",
        ),
    ],
)
def test_a_return_url_must_lead_to_an_allowed_host(
    api: Api, org: Any, vendor: str, vendor_hosts: None, return_url: str, message: str
) -> None:
    before = state()
    reply = api.post(path(org), vendor, {"email": "admin@testi.example", "return_url": return_url})
    assert (reply.status, reply.code) == (422, "validation_error")
    assert reply.body["errors"] == [{"field": "return_url", "message": message}]
    assert state() == before


@pytest.mark.parametrize(
    "return_url",
    ["https://app.vendor.example/", "http://APP.vendor.example:8443/x", "https://vendor.example"],
)
def test_allowed_return_urls(
    api: Api, org: Any, vendor: str, vendor_hosts: None, return_url: str
) -> None:
    reply = api.post(path(org), vendor, {"email": "admin@testi.example", "return_url": return_url})
    assert reply.status == 201, reply.content
    assert PortalSession.objects.get().return_url == return_url


def test_an_unknown_user_and_another_organisations_user_are_the_same_404(
    api: Api, org: Any, vendor: str
) -> None:
    other = make_organization(name="Muu Oy", admin_email="admin@muu.example")
    stranger = User.objects.get(email="admin@muu.example")
    before = state()
    answers = [
        api.post(path(org), vendor, body)
        for body in (
            {"user": "999999"},
            {"user": "not-an-id"},
            {"user": "9" * 40},
            {"user": str(stranger.pk)},
            {"email": "nobody@testi.example"},
            {"email": "admin@muu.example"},
        )
    ]
    assert [(a.status, a.code, a.body["detail"]) for a in answers] == [
        (404, "not_found", "User not found.")
    ] * 6
    assert state() == before
    # The other organisation's own link is made on its own path.
    assert api.post(path(other), vendor, {"user": str(stranger.pk)}).status == 201


def test_a_deactivated_user_gets_no_link(api: Api, org: Any, vendor: str) -> None:
    from abonnement.accounts.services import create_user

    carl = create_user(
        organization=org, email="carl@testi.example", name="Carl", actor=admin_of(org), now=NOW
    ).user
    deactivate_user(organization=org, user_id=carl.pk, license="keep", actor=admin_of(org), now=NOW)
    before = state()
    reply = api.post(path(org), vendor, {"user": str(carl.pk)})
    assert (reply.status, reply.code) == (409, "user_inactive")
    assert (reply.body["title"], reply.body["detail"]) == (
        "User deactivated",
        "This user is deactivated.",
    )
    assert state() == before


def test_only_the_vendor_makes_links(
    api: Api, org: Any, writer: str, reader: str, stranger: str
) -> None:
    body = {"email": "admin@testi.example"}
    another = org_token(org, ["read", "write"], "Another")
    before = state()
    anonymous = api.post(path(org), None, body)
    assert (anonymous.status, anonymous.code) == (401, "unauthenticated")
    own = api.post(path(org), writer, body)
    assert (own.status, own.code) == (403, "permission_denied")
    assert own.body["detail"] == "Only the vendor or its customer service can do this."
    assert api.post(path(org), reader, body).status == 403
    # Another organisation's token learns nothing about this organisation.
    other = api.post(path(org), stranger, body)
    assert (other.status, other.code) == (404, "not_found")
    # Refused before the body is read: a bad body is still 403 for a customer's token.
    bad = api.post(path(org), another, {"user": 5})
    assert (bad.status, bad.code) == (403, "permission_denied")
    assert state() == before


def test_an_unknown_organisation_is_404(api: Api, org: Any, vendor: str) -> None:
    reply = api.post(
        "/organizations/00000000-0000-7000-8000-000000000000/portal-sessions",
        vendor,
        {"email": "admin@testi.example"},
    )
    assert (reply.status, reply.code) == (404, "not_found")


def test_a_replay_answers_without_the_link(api: Api, org: Any, vendor: str) -> None:
    from abonnement.idempotency.models import IdempotencyRecord

    key = {"Idempotency-Key": "portal-1"}
    body = {"email": "admin@testi.example", "section": "users"}
    first = api.post(path(org), vendor, body, headers=key)
    secret = secret_of(first.body["url"])
    assert secret.encode() not in bytes(IdempotencyRecord.objects.get(key="portal-1").response_body)
    again = api.post(path(org), vendor, body, headers=key)
    assert (again.status, again.headers["Idempotent-Replayed"]) == (201, "true")
    assert again.body == {"url": None, "expires_at": "2027-01-15T10:05:00Z"}
    assert PortalSession.objects.count() == 1


def test_the_call_is_in_the_openapi_document(api: Api, vendor: str) -> None:
    document = api.get("/openapi.json").body
    operation = document["paths"]["/api/v1/organizations/{org}/portal-sessions"]["post"]
    assert sorted(operation["responses"]) == [
        *("201", "400", "401", "403"),
        *("404", "409", "422", "429"),
    ]
    created = operation["responses"]["201"]["content"]["application/json"]["schema"]["$ref"]
    out = document["components"]["schemas"][created.rsplit("/", 1)[1]]
    assert sorted(out["properties"]) == ["expires_at", "url"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][body.rsplit("/", 1)[1]]
    assert sorted(schema["properties"]) == ["email", "language", "return_url", "section", "user"]
    assert schema["properties"]["language"]["anyOf"] == [
        {"enum": ["en", "nl", "fi"], "type": "string"},
        {"type": "null"},
    ]
    assert schema["properties"]["section"]["enum"] == [
        "overview",
        "licenses",
        "features",
        "billing",
        "history",
        "users",
    ]
    assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
