"""Every operation of API.md against every kind of caller (API.md "Conventions", Auth):
no token → 401; another organisation's token → 404; read scope on a write → 403; an acting
user without the permission → 403; the allowed caller → the operation's answer. Refused
calls change nothing. Exact bodies are in the tests per resource."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from abonnement.accounts.services import create_organization_token, create_user
from abonnement.history.models import HistoryEntry
from abonnement.invoicing.models import Delivery
from abonnement.invoicing.services import issue_invoice_for_order
from abonnement.notifications.services import create_endpoint
from abonnement.orders.models import Order
from abonnement.subscriptions.services import schedule_edition_change
from tests.api.conftest import Api, org_token
from tests.conftest import NOW, VENDOR, admin_of, give_invoice_address

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

# Who may: "org" — the organisation's own token (and the vendor); "vendor" — vendor only;
# "any" — every valid token.
OWN, VENDOR_ONLY, ANY = "org", "vendor", "any"


@dataclass(frozen=True)
class Op:
    method: str
    path: str
    who: str
    status: int
    body: Any = None
    scope: str = "write"
    # the acting user needs a permission the "powerless" user lacks
    needs_permission: bool = True
    prepare: Callable[[Any, dict[str, str]], None] | None = field(default=None, compare=False)

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


def schedule_enterprise(org: Any, ids: dict[str, str]) -> None:
    schedule_edition_change(organization=org, edition="enterprise", actor=VENDOR, now=NOW)


def issue_documents(org: Any, ids: dict[str, str]) -> None:
    """The order's confirmation and invoice, as the documents task issues them once the
    billing details name the invoice address."""
    give_invoice_address(org)
    ids["invoice"] = str(issue_invoice_for_order(order_id=ids["order"], now=NOW).invoice.pk)


def deactivate_carl(org: Any, ids: dict[str, str]) -> None:
    from abonnement.accounts.services import deactivate_user

    deactivate_user(
        organization=org, user_id=ids["user"], license="keep", actor=admin_of(org), now=NOW
    )


BILLING = {
    "contact": {"name": "Reskontra", "email": "ap@testi.example"},
    "cc": [],
    "address": {
        "street": "Testikatu 1",
        "postal_code": "00100",
        "city": "Helsinki",
        "country": "FI",
    },
    "reference": "",
    "invoice_language": "fi",
    "e_invoicing": {"enabled": False, "address": "", "operator_code": ""},
}
PROVISION = {
    "name": "Uusi Oy",
    "vat_number": "FI23456780",
    "country": "FI",
    "currency": "EUR",
    "language": "fi",
    "edition": "basic",
    "licenses": 3,
    "period_months": 1,
    "admin": {"email": "admin@uusi.example", "name": "Ulla Uusi"},
}
IN_ORG = "/organizations/{org}"
OPS = [
    Op("GET", "/catalog", ANY, 200, scope="read", needs_permission=False),
    Op("POST", "/organizations", VENDOR_ONLY, 201, PROVISION),
    Op("GET", "/organizations", VENDOR_ONLY, 200, scope="read"),
    Op("GET", IN_ORG, OWN, 200, scope="read"),
    Op("PATCH", IN_ORG, OWN, 200, {"name": "Testi Group Oy"}),
    Op(
        "PUT",
        IN_ORG + "/vat-number",
        VENDOR_ONLY,
        200,
        {
            "vat_number": "FI12345671",
            "effective_date": "2027-02-01",
            "contract_transfer_document": base64.b64encode(PDF).decode(),
            "document_name": "transfer.pdf",
        },
    ),
    Op("POST", IN_ORG + "/tokens", OWN, 201, {"name": "CI", "scopes": ["read"]}),
    Op("GET", IN_ORG + "/tokens", OWN, 200, scope="read"),
    Op("DELETE", IN_ORG + "/tokens/{token}", OWN, 200),
    Op("GET", IN_ORG + "/subscription", OWN, 200, scope="read"),
    Op("PUT", IN_ORG + "/subscription/licenses", OWN, 200, {"licenses": 12}),
    Op("POST", IN_ORG + "/subscription/licenses/preview", OWN, 200, {"licenses": 12}, scope="read"),
    Op("PUT", IN_ORG + "/subscription/storage", OWN, 200, {"extra_packs": 1}),
    Op(
        "POST", IN_ORG + "/subscription/storage/preview", OWN, 200, {"extra_packs": 1}, scope="read"
    ),
    Op("POST", IN_ORG + "/edition-requests", OWN, 201, {"edition": "enterprise", "message": "SSO"}),
    Op("GET", IN_ORG + "/edition-requests", OWN, 200, scope="read"),
    Op("PUT", IN_ORG + "/subscription/next-edition", VENDOR_ONLY, 200, {"edition": "enterprise"}),
    Op(
        "DELETE",
        IN_ORG + "/subscription/next-edition",
        VENDOR_ONLY,
        200,
        prepare=schedule_enterprise,
    ),
    Op("GET", IN_ORG + "/users", OWN, 200, scope="read"),
    Op("POST", IN_ORG + "/users", OWN, 201, {"email": "dora@testi.example", "name": "Dora"}),
    Op("GET", IN_ORG + "/users/{user}", OWN, 200, scope="read"),
    Op("PATCH", IN_ORG + "/users/{user}", OWN, 200, {"name": "Carl Carlsson"}),
    Op("POST", IN_ORG + "/users/{user}/deactivate", OWN, 200, {"license": "keep"}),
    Op("POST", IN_ORG + "/users/{user}/reactivate", OWN, 200, {}, prepare=deactivate_carl),
    Op("POST", IN_ORG + "/portal-sessions", VENDOR_ONLY, 201, {"email": "carl@testi.example"}),
    Op("PUT", IN_ORG + "/usage", VENDOR_ONLY, 200, {"storage_used_gb": 12.5}),
    Op("POST", IN_ORG + "/users/{user}/invite", OWN, 200),
    Op("GET", IN_ORG + "/features", OWN, 200, scope="read"),
    Op("PUT", IN_ORG + "/features/sso", OWN, 200, {"enabled": True}),
    Op("POST", IN_ORG + "/features/sso/preview", OWN, 200, scope="read"),
    Op("GET", IN_ORG + "/entitlements", OWN, 200, scope="read"),
    Op("GET", IN_ORG + "/billing-details", OWN, 200, scope="read"),
    Op("PUT", IN_ORG + "/billing-details", OWN, 200, BILLING),
    Op("GET", IN_ORG + "/orders", OWN, 200, scope="read"),
    Op("GET", IN_ORG + "/orders/{order}", OWN, 200, scope="read"),
    Op(
        "GET",
        IN_ORG + "/orders/{order}/confirmation.pdf",
        OWN,
        200,
        scope="read",
        prepare=issue_documents,
    ),
    Op("POST", IN_ORG + "/orders/{order}/resend", OWN, 202, prepare=issue_documents),
    Op("GET", IN_ORG + "/invoices", OWN, 200, scope="read", prepare=issue_documents),
    Op("GET", IN_ORG + "/invoices/{invoice}", OWN, 200, scope="read", prepare=issue_documents),
    Op("GET", IN_ORG + "/invoices/{invoice}.pdf", OWN, 200, scope="read", prepare=issue_documents),
    Op(
        "GET",
        IN_ORG + "/invoices/{invoice}/ubl.xml",
        OWN,
        200,
        scope="read",
        prepare=issue_documents,
    ),
    # Finvoice is a later format option: never served, for an invoice that exists too.
    Op(
        "GET",
        IN_ORG + "/invoices/{invoice}/finvoice.xml",
        OWN,
        404,
        scope="read",
        prepare=issue_documents,
    ),
    Op("POST", IN_ORG + "/invoices/{invoice}/resend", OWN, 202, prepare=issue_documents),
    Op("GET", IN_ORG + "/history", OWN, 200, scope="read"),
    Op("GET", "/clock", ANY, 200, scope="read", needs_permission=False),
    Op("POST", "/clock", VENDOR_ONLY, 200, {"now": "2027-01-16T00:00:00Z"}),
    Op(
        "POST",
        "/webhook-endpoints",
        VENDOR_ONLY,
        201,
        {"url": "https://x.example/h", "events": ["order.created"]},
    ),
    Op("GET", "/webhook-endpoints", VENDOR_ONLY, 200, scope="read"),
    Op("GET", "/webhook-endpoints/{hook}", VENDOR_ONLY, 200, scope="read"),
    Op("PATCH", "/webhook-endpoints/{hook}", VENDOR_ONLY, 200, {"enabled": False}),
    Op("DELETE", "/webhook-endpoints/{hook}", VENDOR_ONLY, 204),
    Op("GET", "/webhook-endpoints/{hook}/deliveries", VENDOR_ONLY, 200, scope="read"),
]


def changes() -> tuple[int, int, int]:
    return HistoryEntry.objects.count(), Order.objects.count(), Delivery.objects.count()


@pytest.mark.parametrize("op", OPS, ids=[op.id for op in OPS])
def test_auth_matrix(
    op: Op, api: Api, org: Any, vendor: str, writer: str, reader: str, stranger: str, powerless: str
) -> None:
    admin = admin_of(org)
    carl = create_user(
        organization=org, email="carl@testi.example", name="Carl", actor=admin, now=NOW
    ).user
    ids = {
        "org": str(org.pk),
        "user": str(carl.pk),
        "order": str(Order.objects.filter(organization=org).get().pk),
        "token": str(
            create_organization_token(
                organization=org, name="Old", scopes=["read"], actor=admin, now=NOW
            ).token.pk
        ),
        "hook": str(
            create_endpoint(
                url="https://hooks.example/a", events=["order.created"], actor=VENDOR, now=NOW
            ).endpoint.pk
        ),
    }
    if op.prepare is not None:
        op.prepare(org, ids)
    path = op.path.format(**ids)
    body = op.body if op.body is not None or op.method == "GET" else {}
    send = {} if op.method in ("GET", "DELETE") else {"body": body}
    before = changes()

    anonymous = api.call(op.method, path, None, **send)
    assert (anonymous.status, anonymous.code) == (401, "unauthenticated")
    assert anonymous.headers["Content-Type"] == "application/problem+json"
    forged = api.call(op.method, path, "abn_not-a-real-token", **send)
    assert (forged.status, forged.code) == (401, "unauthenticated")

    outsider = api.call(op.method, path, stranger, **send)
    if op.path.startswith(IN_ORG):
        # Tenancy first: another organisation's paths do not exist for this token.
        assert (outsider.status, outsider.code) == (404, "not_found")
    elif op.who == VENDOR_ONLY:
        assert (outsider.status, outsider.code) == (403, "permission_denied")

    if op.scope == "write":
        read_only = api.call(op.method, path, reader, **send)
        assert (read_only.status, read_only.code) == (403, "permission_denied")

    if op.needs_permission:
        lacking = api.call(op.method, path, powerless, **send)
        assert (lacking.status, lacking.code) == (403, "permission_denied")

    if op.who == VENDOR_ONLY:
        admin_token = api.call(op.method, path, writer, **send)
        assert (admin_token.status, admin_token.code) == (403, "permission_denied")

    assert changes() == before, "a refused call changed something"

    allowed = api.call(op.method, path, vendor if op.who == VENDOR_ONLY else writer, **send)
    assert allowed.status == op.status, allowed.content
    if op.status == 404:
        assert allowed.code == "not_found"
    if op.who != VENDOR_ONLY and op.status < 300:
        # The vendor may do what the organisation's own token may.
        again = api.call("GET", path, vendor) if op.method == "GET" else None
        assert again is None or again.status == op.status


def test_every_operation_of_the_api_is_in_the_matrix(api: Api, vendor: str) -> None:
    schema = api.get("/openapi.json").body
    served = {
        f"{method.upper()} {path.removeprefix('/api/v1')}"
        for path, methods in schema["paths"].items()
        for method in methods
    }
    tested = {
        f"{op.method} {op.path.replace('{token}', '{id}').replace('{user}', '{user}')}".replace(
            "{order}", "{id}"
        )
        .replace("{hook}", "{id}")
        .replace("{invoice}", "{id}")
        .replace("/features/sso", "/features/{code}")
        for op in OPS
    }
    assert served == tested


def test_a_revoked_token_is_unauthenticated(api: Api, org: Any, writer: str) -> None:
    from abonnement.accounts.models import ApiToken
    from abonnement.accounts.services import revoke_token

    token = ApiToken.objects.get(organization=org, name="Product backend")
    revoke_token(token_id=token.pk, organization=org, actor=admin_of(org), now=NOW)
    reply = api.get(f"/organizations/{org.pk}/subscription", writer)
    assert (reply.status, reply.code) == (401, "unauthenticated")
    assert reply.headers["WWW-Authenticate"] == 'Bearer realm="abonnement"'


def test_a_token_records_when_it_was_last_used(api: Api, org: Any, writer: str) -> None:
    from abonnement.accounts.models import ApiToken

    assert ApiToken.objects.get(organization=org, name="Product backend").last_used_at is None
    api.get(f"/organizations/{org.pk}", writer)
    used = ApiToken.objects.get(organization=org, name="Product backend")
    assert used.last_used_at == datetime(2027, 1, 15, 10, 0, tzinfo=UTC)


def test_a_token_of_a_deactivated_user_is_unauthenticated(api: Api, org: Any) -> None:
    from abonnement.accounts.services import deactivate_user

    admin = admin_of(org)
    eve = create_user(
        organization=org,
        email="eve@testi.example",
        name="Eve",
        permissions_granted=["manage_subscription"],
        actor=admin,
        now=NOW,
    ).user
    from abonnement.core.actor import Actor

    secret = create_organization_token(
        organization=org, name="Eve's", scopes=["read"], actor=Actor.portal(eve), now=NOW
    ).secret
    assert api.get(f"/organizations/{org.pk}", secret).status == 200
    deactivate_user(organization=org, user_id=eve.pk, license="keep", actor=admin, now=NOW)
    assert api.get(f"/organizations/{org.pk}", secret).status == 401


def test_org_token_helper_scopes(org: Any) -> None:
    from abonnement.accounts.models import ApiToken

    org_token(org, ["write"], name="Writer only")
    assert ApiToken.objects.get(name="Writer only").scopes == ["write"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/organizations", {"name": ""}),
        ("POST", "/webhook-endpoints", {"url": "ftp://x", "events": ["order.paid"]}),
        ("PATCH", "/webhook-endpoints/00000000-0000-7000-8000-000000000000", {"enabled": "x"}),
        ("POST", "/clock", {"now": "not a time"}),
    ],
)
def test_a_vendor_call_refuses_other_tokens_before_reading_the_body(
    api: Api, org: Any, writer: str, vendor: str, method: str, path: str, body: Any
) -> None:
    before = changes()
    refused = api.call(method, path, writer, body)
    assert (refused.status, refused.code) == (403, "permission_denied")
    assert refused.body["detail"] == "Only the vendor or its customer service can do this."
    # The vendor with the same body is told what is wrong with it.
    assert api.call(method, path, vendor, body).status in (404, 422)
    assert changes() == before
