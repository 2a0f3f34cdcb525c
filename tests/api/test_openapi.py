"""The served OpenAPI document agrees with API.md, its docs work offline, and Schemathesis
finds no server error and no answer that breaks the document."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from abonnement.accounts.services import create_organization_token
from abonnement.notifications.services import create_endpoint
from abonnement.orders.models import Order
from tests.api.conftest import Api
from tests.conftest import NOW, VENDOR, add_users, admin_of

API_MD = Path(__file__).resolve().parents[3] / "shared" / "API.md"
ORG = "/api/v1/organizations/{org}"
# Every call of API.md, as method and path.
CONTRACT = {
    ("GET", "/api/v1/catalog"),
    ("POST", "/api/v1/organizations"),
    ("GET", "/api/v1/organizations"),
    ("GET", ORG),
    ("PATCH", ORG),
    ("PUT", ORG + "/vat-number"),
    ("POST", ORG + "/tokens"),
    ("GET", ORG + "/subscription"),
    ("PUT", ORG + "/subscription/licenses"),
    ("POST", ORG + "/subscription/licenses/preview"),
    ("PUT", ORG + "/subscription/storage"),
    ("POST", ORG + "/subscription/storage/preview"),
    ("POST", ORG + "/edition-requests"),
    ("GET", ORG + "/edition-requests"),
    ("PUT", ORG + "/subscription/next-edition"),
    ("DELETE", ORG + "/subscription/next-edition"),
    ("GET", ORG + "/users"),
    ("POST", ORG + "/users"),
    ("PATCH", ORG + "/users/{user}"),
    ("POST", ORG + "/users/{user}/deactivate"),
    ("POST", ORG + "/users/{user}/reactivate"),
    ("GET", ORG + "/features"),
    ("PUT", ORG + "/features/{code}"),
    ("GET", ORG + "/entitlements"),
    ("GET", ORG + "/billing-details"),
    ("PUT", ORG + "/billing-details"),
    ("GET", ORG + "/orders"),
    ("GET", ORG + "/orders/{id}"),
    ("GET", ORG + "/orders/{id}/confirmation.pdf"),
    ("POST", ORG + "/orders/{id}/resend"),
    ("GET", ORG + "/invoices"),
    ("GET", ORG + "/invoices/{id}"),
    ("GET", ORG + "/invoices/{id}.pdf"),
    ("GET", ORG + "/invoices/{id}/ubl.xml"),
    ("GET", ORG + "/invoices/{id}/finvoice.xml"),
    ("POST", ORG + "/invoices/{id}/resend"),
    ("GET", ORG + "/history"),
    ("GET", "/api/v1/clock"),
    ("POST", "/api/v1/clock"),
    ("POST", "/api/v1/webhook-endpoints"),
    ("GET", "/api/v1/webhook-endpoints"),
    ("DELETE", "/api/v1/webhook-endpoints/{id}"),
    # From ../shared/API-next.md, "Sign-in and embedding".
    ("POST", ORG + "/portal-sessions"),
    # From ../shared/API-next.md, "Subscription".
    ("PUT", ORG + "/usage"),
    # From ../shared/API-next.md, "Users".
    ("POST", ORG + "/users/{user}/invite"),
}


def served_operations(api: Api) -> set[tuple[str, str]]:
    document = api.get("/openapi.json").body
    return {
        (method.upper(), path) for path, methods in document["paths"].items() for method in methods
    }


def test_the_document_has_every_call_of_the_contract(api: Api) -> None:
    assert served_operations(api) >= CONTRACT


@pytest.mark.skipif(not API_MD.exists(), reason=f"{API_MD} is not beside the project")
def test_the_document_has_every_path_written_in_api_md(api: Api) -> None:
    text = API_MD.read_text()
    written = set(re.findall(r"`(?:[A-Z]+(?:/[A-Z]+)* )?(/api/v1/[^`\s]*)`", text))
    written |= {ORG + rest for rest in re.findall(r"`[A-Z]+ …(/[^`\s]*)`", text)}
    assert written, "no path found in API.md"
    served = {path for _method, path in served_operations(api)}
    # The document itself and its browsable page are not operations.
    assert written - served == {"/api/v1/openapi.json", "/api/v1/docs"}


def test_errors_are_documented_as_problem_json_and_writes_take_a_key(api: Api) -> None:
    document = api.get("/openapi.json").body
    licenses = document["paths"][ORG + "/subscription/licenses"]["put"]
    assert set(licenses["responses"]) == {"200", "400", "401", "403", "404", "409", "422", "429"}
    assert list(licenses["responses"]["409"]["content"]) == ["application/problem+json"]
    assert {"name": "Idempotency-Key", "in": "header"}.items() <= next(
        p for p in licenses["parameters"] if p["name"] == "Idempotency-Key"
    ).items()
    assert document["components"]["securitySchemes"]["BearerToken"] == {
        "type": "http",
        "scheme": "bearer",
    }


PATCHES = {
    ORG: ("OrganizationPatchIn", ["name", "purchase_channel"]),
    ORG + "/users/{user}": ("UserPatchIn", ["name", "permissions"]),
    "/api/v1/webhook-endpoints/{id}": (
        "WebhookEndpointPatchIn",
        ["url", "events", "description", "enabled"],
    ),
}


def test_patch_bodies_do_not_offer_null_which_they_refuse(api: Api, org: Any, vendor: str) -> None:
    """A PATCH field is left out to keep its value; ``null`` is a 422 (``patched_fields``).
    The document must not offer what the server refuses: each field has its own type only."""
    document = api.get("/openapi.json").body
    schemas = document["components"]["schemas"]
    served = {path for path, methods in document["paths"].items() if "patch" in methods}
    assert served == set(PATCHES)
    user = add_users(org, 1)[0]
    hook = create_endpoint(
        url="https://hooks.example/x", events=["order.created"], actor=VENDOR, now=NOW
    ).endpoint
    ids = {"org": str(org.pk), "user": str(user.pk), "id": str(hook.pk)}
    for path, (name, fields) in PATCHES.items():
        body = document["paths"][path]["patch"]["requestBody"]["content"]["application/json"]
        assert body["schema"] == {"$ref": f"#/components/schemas/{name}"}
        properties = schemas[name]["properties"]
        assert list(properties) == fields
        for field, schema in properties.items():
            assert "anyOf" not in schema and "null" not in str(schema.get("type")), (name, field)
            assert schema.get("default") is None, (name, field)
        reply = api.patch(path.replace("/api/v1", "").format(**ids), vendor, dict.fromkeys(fields))
        assert (reply.status, reply.code) == (422, "validation_error")
        assert reply.body["errors"] == [
            {"field": field, "message": "Give a value, or leave the field out."} for field in fields
        ]
    assert schemas["OrganizationPatchIn"]["properties"] == {
        "name": {
            "type": "string",
            "title": "Name",
            "description": "Organisation administrators too.",
        },
        "purchase_channel": {
            "allOf": [{"$ref": "#/components/schemas/PurchaseChannelIn"}],
            "title": "Purchase Channel",
            "description": "Vendor only.",
        },
    }
    assert schemas["UserPatchIn"]["properties"]["permissions"] == {
        "type": "array",
        "title": "Permissions",
        "items": {"type": "string", "enum": ["manage_subscription", "manage_users"]},
    }
    assert schemas["WebhookEndpointPatchIn"]["properties"]["enabled"] == {
        "type": "boolean",
        "title": "Enabled",
        "description": "true switches an endpoint that was switched off on again.",
    }
    org.refresh_from_db()
    user.refresh_from_db()
    hook.refresh_from_db()
    assert (org.name, org.purchase_channel) == ("Testi Oy", "direct")
    assert (user.name, user.manage_users, user.manage_subscription) == ("User 0", False, False)
    assert (hook.url, hook.events, hook.description, hook.enabled) == (
        "https://hooks.example/x",
        ["order.created"],
        "",
        True,
    )


def test_the_docs_page_works_offline(api: Api) -> None:
    page = api.client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "/static/ninja/swagger-ui.css" in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "the docs load something remote"
    for asset in ("swagger-ui-bundle.js", "swagger-ui-init.js", "swagger-ui.css"):
        served = api.client.get(f"/static/ninja/{asset}")
        assert served.status_code == 200, asset
        body = b"".join(served.streaming_content) if served.streaming else served.content
        assert len(body) > 100


# --------------------------------------------------------------------------- Schemathesis

EXAMPLES_PER_OPERATION = 5
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def wsgi() -> Iterator[Any]:
    """Django's WSGI application inside the test's transaction (as the test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    api: Api, org: Any, vendor: str, writer: str, wsgi: Any
) -> None:
    admin = admin_of(org)
    user = add_users(org, 2)[0]
    spare_token = create_organization_token(
        organization=org, name="Spare", scopes=["read"], actor=admin, now=NOW
    ).token
    hook = create_endpoint(
        url="https://hooks.example/x", events=["order.created"], actor=VENDOR, now=NOW
    ).endpoint
    order = Order.objects.get(organization=org)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", wsgi)

    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        path = operation.path
        ids = {
            "org": str(org.pk),
            "user": str(user.pk),
            "code": "sso",
            "id": str(
                hook.pk
                if "webhook-endpoints" in path
                else spare_token.pk
                if "/tokens/" in path
                else order.pk
            ),
        }
        params = {name: value for name, value in ids.items() if "{" + name + "}" in path}
        strategies = [
            operation.as_strategy(
                generation_mode=mode,
                path_parameters=params,
                headers={"Authorization": f"Bearer {token}"},
            )
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
            for token in (vendor, writer)
        ]

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=st.one_of(strategies))
        def exercise(case: Any) -> None:
            response = case.call()
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}")
                return
            try:
                case.validate_response(response, checks=CHECKS)
            except Exception as error:
                failures.append(f"{case.method} {case.formatted_path}: {error}"[:2000])

        exercise()
    assert operations >= 45
    assert failures == []
