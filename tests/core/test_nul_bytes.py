"""A NUL character (U+0000) is refused at the edge (core/nul.py): 404 in a path; in a query,
a form field, a JSON string or a cookie, 422 problem+json from the API and a 400 page from
the portal and the back office. PostgreSQL answered 500 when one reached a lookup."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from abonnement.accounts.services import create_organization_token
from abonnement.core.nul import _fields_with_nul
from abonnement.features.models import FeatureSwitch
from abonnement.history.models import HistoryEntry
from tests.conftest import NOW, admin_of

pytestmark = pytest.mark.django_db

NOT_ALLOWED = "The request contained a character that is not allowed."
NUL_MESSAGE = "Value error, Text cannot contain the NUL character."
UUID = "3f2b8c1e-5d4a-4e6b-9c7d-1a2b3c4d5e6f"


@pytest.fixture(autouse=True)
def _clock(settings: Any, db: Any) -> Iterator[None]:
    from abonnement.core.models import SimulatedClock

    settings.SIMULATED_CLOCK = True
    settings.API_RATE_LIMIT = "100000/min"
    SimulatedClock.objects.update_or_create(pk=1, defaults={"now": NOW})
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def token(org: Any) -> str:
    return create_organization_token(
        organization=org, name="Backend", scopes=["read", "write"], actor=admin_of(org), now=NOW
    ).secret


@pytest.fixture
def portal(org: Any) -> Client:
    client = Client()
    client.force_login(admin_of(org).user)
    return client


def problem(response: Any) -> dict[str, Any]:
    assert response["Content-Type"] == "application/problem+json"
    return json.loads(response.content)


def not_found() -> dict[str, Any]:
    return {
        "type": "urn:abonnement:problem:not_found",
        "title": "Not found",
        "status": 404,
        "code": "not_found",
        "detail": "Not found.",
    }


def invalid(*fields: str) -> dict[str, Any]:
    return {
        "type": "urn:abonnement:problem:validation_error",
        "title": "Validation error",
        "status": 422,
        "code": "validation_error",
        "detail": "Some fields are not valid.",
        "errors": [{"field": field, "message": NUL_MESSAGE} for field in fields],
    }


def state(org: Any) -> tuple[Any, ...]:
    """What a request could have changed: the features and the history."""
    return (
        list(FeatureSwitch.objects.filter(organization=org).values().order_by("pk")),
        HistoryEntry.objects.count(),
    )


class TestTheSituationsOfTheIssue:
    """The three requests that answered 500 on PostgreSQL, signed in, on real routes."""

    def test_a_feature_code_of_nul_is_not_found(self, org: Any, token: str) -> None:
        before = state(org)
        response = Client().put(
            f"/api/v1/organizations/{org.pk}/features/%00",
            data=json.dumps({"enabled": True}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert (response.status_code, problem(response)) == (404, not_found())
        assert state(org) == before

    def test_a_preview_of_a_code_with_nul_is_not_found(self, org: Any, token: str) -> None:
        before = state(org)
        response = Client().post(
            f"/api/v1/organizations/{org.pk}/features/sso%00/preview",
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert (response.status_code, problem(response)) == (404, not_found())
        assert state(org) == before

    def test_a_user_search_for_nul_is_a_bad_request(self, portal: Client) -> None:
        response = portal.get("/settings/users/?q=%00")
        assert response.status_code == 400
        assert NOT_ALLOWED in response.content.decode()
        assert "<h1>This could not be done</h1>" in response.content.decode()

    def test_the_same_search_without_nul_still_works(self, portal: Client) -> None:
        assert portal.get("/settings/users/?q=anna").status_code == 200

    def test_a_feature_change_with_nul_in_the_body_changes_nothing(
        self, org: Any, token: str
    ) -> None:
        before = state(org)
        response = Client().put(
            f"/api/v1/organizations/{org.pk}/features/sso",
            data=b'{"enabled": true, "reason": "x\\u0000"}',
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert (response.status_code, problem(response)) == (422, invalid("reason"))
        assert state(org) == before


def routes(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[str]:
    """Every route of the URL conf, as its pattern text (``path()`` or regex)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern, prefix + str(pattern.pattern))
        else:
            assert isinstance(pattern, URLPattern)
            yield prefix + str(pattern.pattern)


def plausible(route: str, org: Any) -> tuple[str, str]:
    """The route with a plausible value for each parameter, and the same with ``%00`` put
    into the last value (or into the last segment, for a route without one)."""
    values = {"int": "1", "uuid": UUID, "path": "1", "slug": "sso"}
    named = {"org": str(org.pk), "code": "sso", "uidb64": "MQ", "token": "abc-def"}

    def value(match: re.Match[str]) -> str:
        converter, name = match.group(1) or "str", match.group(2)
        return "\x01" + (named.get(name) or values.get(converter) or "1") + "\x02"

    text = re.sub(r"\(\?P<\w+>[^)]*\)", "\x011\x02", route).replace("^", "").replace("$", "")
    text = re.sub(r"<(?:(\w+):)?(\w+)>", value, text)
    text = text.replace("\\", "")
    if "\x02" in text:
        head, _, tail = text.rpartition("\x02")
        with_nul = head + "%00" + tail
    elif text.endswith("/"):
        with_nul = text[:-1] + "%00/"
    else:
        with_nul = text + "%00"
    clean = text.replace("\x01", "").replace("\x02", "")
    return "/" + clean, "/" + with_nul.replace("\x01", "").replace("\x02", "")


class TestEveryRoute:
    def test_the_walk_covers_the_whole_url_conf(self, org: Any) -> None:
        walked = list(routes())
        assert len(walked) > 150
        assert any(route.startswith("api/v1/") for route in walked)
        assert any(route.startswith("backoffice/") for route in walked)
        assert "settings/users/" in walked

    def test_nul_in_any_path_query_form_or_json_is_refused(
        self, org: Any, token: str, portal: Client
    ) -> None:
        api = Client(headers={"Authorization": f"Bearer {token}"})
        seen: list[tuple[str, str, int]] = []
        wrong: list[tuple[str, str, int]] = []
        before = state(org)
        for route in routes():
            clean, with_nul = plausible(route, org)
            is_api = clean.startswith("/api/")
            client = api if is_api else portal
            answers = {
                "path": (client.get(with_nul), 404),
                "query": (client.get(clean + "?q=%00&page=1"), 422 if is_api else 400),
            }
            if is_api:
                for method in ("post", "put", "patch"):
                    answers[method] = (
                        getattr(client, method)(
                            clean,
                            data=json.dumps({"name": "a\x00b", "enabled": True}),
                            content_type="application/json",
                        ),
                        422,
                    )
            else:
                answers["form"] = (client.post(clean, {"name": "a\x00b", "next": "/"}), 400)
            for how, (response, expected) in answers.items():
                seen.append((route, how, response.status_code))
                if response.status_code != expected:
                    wrong.append((route, how, response.status_code))
                elif is_api:
                    body = problem(response)
                    field = {"path": None, "query": "q"}.get(how, "name")
                    assert body == (not_found() if field is None else invalid(field))
                else:
                    text = response.content.decode()
                    assert expected == 404 or NOT_ALLOWED in text
        assert wrong == []
        assert not [answer for answer in seen if answer[2] >= 500]
        assert len(seen) > 500
        assert state(org) == before


class TestWhatIsRefused:
    factory = RequestFactory()

    def fields(self, request: Any) -> list[str]:
        return _fields_with_nul(request)

    def json(self, body: bytes) -> list[str]:
        return self.fields(self.factory.post("/api/v1/x", body, content_type="application/json"))

    def test_a_nested_json_string_is_named_by_its_path(self) -> None:
        body = b'{"address": {"lines": ["ok", "x\\u0000"]}, "name": "fine"}'
        assert self.json(body) == ["address.lines.1"]

    def test_a_json_key_with_nul_is_refused(self) -> None:
        assert self.json(b'{"a\\u0000b": 1}') == ["a\\u0000b"]

    def test_an_escaped_backslash_before_u0000_is_text_not_nul(self) -> None:
        assert self.json(b'{"name": "C:\\\\u0000"}') == []

    def test_an_escaped_backslash_then_a_real_nul_is_refused(self) -> None:
        assert self.json(b'{"name": "C:\\\\\\u0000"}') == ["name"]

    def test_a_raw_nul_byte_in_json_is_refused(self) -> None:
        assert self.json(b'{"name": "a\x00"}') == ["body"]

    def test_a_json_body_without_nul_is_not_parsed(self, monkeypatch: Any) -> None:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise AssertionError("parsed")

        monkeypatch.setattr("abonnement.core.nul.json.loads", refuse)
        assert self.json(b'{"name": "plain", "code": "sso"}') == []

    def test_a_body_that_is_not_json_is_left_to_the_api(self) -> None:
        assert self.json(b'{"name": "\\u0000"') == []

    def test_an_encoded_percent_sign_is_not_nul(self) -> None:
        assert self.fields(self.factory.get("/settings/users/?q=%2500")) == []

    def test_a_query_parameter_name_with_nul_is_refused(self) -> None:
        assert self.fields(self.factory.get("/x?a%00=1&b=%00")) == ["a\\u0000", "b"]

    def test_a_form_field_is_refused(self) -> None:
        request = self.factory.post("/x", {"name": "a\x00", "city": "Oulu"})
        assert self.fields(request) == ["name"]

    def test_an_uploaded_file_may_hold_nul_bytes(self) -> None:
        upload = SimpleUploadedFile("logo.png", b"\x89PNG\x00\x00\x00", "image/png")
        assert self.fields(self.factory.post("/x", {"logo": upload, "name": "ok"})) == []
        upload = SimpleUploadedFile("logo.png", b"\x00", "image/png")
        assert self.fields(self.factory.post("/x", {"logo": upload, "name": "\x00"})) == ["name"]

    def test_a_cookie_with_nul_is_refused(self, portal: Client) -> None:
        portal.cookies["sessionid"] = "\x00" * 32
        response = portal.get("/settings/users/")
        assert response.status_code == 400
        assert NOT_ALLOWED in response.content.decode()
