"""API test fixtures: a client that speaks JSON with bearer tokens, the business clock set to
NOW, tokens of every kind made through the real services, and a real webhook receiver with
the database worker's task runner (for the webhook tests)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client, TestCase
from django_tasks_db.models import DBTaskResult
from standardwebhooks.webhooks import Webhook

from abonnement.accounts.models import User
from abonnement.accounts.services import (
    create_organization_token,
    create_user,
    create_vendor_token,
    update_user,
)
from abonnement.core.actor import Actor
from tests.conftest import NOW, admin_of, make_organization

NO_BODY: Any = object()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    content: bytes

    @cached_property
    def body(self) -> Any:
        return json.loads(self.content)

    @property
    def code(self) -> str | None:
        return self.body.get("code") if self.content else None


class Api:
    """Calls /api/v1 with a JSON body and ``Authorization: Bearer``."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = NO_BODY,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data: Any = b""
        if raw is not None:
            data = raw
        elif body is not NO_BODY:
            data = json.dumps(body)
        url = path if path.startswith("/api/") else f"/api/v1{path}"
        response = self.client.generic(
            method, url, data=data, content_type="application/json", headers=sent
        )
        return Reply(response.status_code, dict(response.items()), response.content)

    def get(self, path: str, token: str | None = None, **kw: Any) -> Reply:
        return self.call("GET", path, token, **kw)

    def post(self, path: str, token: str | None = None, body: Any = NO_BODY, **kw: Any) -> Reply:
        return self.call("POST", path, token, body, **kw)

    def put(self, path: str, token: str | None = None, body: Any = NO_BODY, **kw: Any) -> Reply:
        return self.call("PUT", path, token, body, **kw)

    def patch(self, path: str, token: str | None = None, body: Any = NO_BODY, **kw: Any) -> Reply:
        return self.call("PATCH", path, token, body, **kw)

    def delete(self, path: str, token: str | None = None, **kw: Any) -> Reply:
        return self.call("DELETE", path, token, **kw)


@pytest.fixture(autouse=True)
def _api_environment(settings: Any) -> None:
    """Each test starts with an empty rate-limit cache and the generous default limit."""
    settings.API_RATE_LIMIT = "1200/min"
    cache.clear()


@pytest.fixture
def clock(db: Any, settings: Any) -> None:
    """The business clock stands at NOW (2027-01-15 10:00 UTC)."""
    from abonnement.core.models import SimulatedClock

    settings.SIMULATED_CLOCK = True
    SimulatedClock.objects.update_or_create(pk=1, defaults={"now": NOW})


@pytest.fixture
def api(clock: None) -> Api:
    return Api(Client())


@pytest.fixture
def vendor(clock: None) -> str:
    return create_vendor_token(name="Vendor CRM", actor=Actor.cli(), now=NOW).secret


def org_token(organization: Any, scopes: list[str], name: str = "Product backend") -> str:
    return create_organization_token(
        organization=organization, name=name, scopes=scopes, actor=admin_of(organization), now=NOW
    ).secret


@pytest.fixture
def writer(org: Any) -> str:
    """Read + write, acting for the organisation's administrator."""
    return org_token(org, ["read", "write"])


@pytest.fixture
def reader(org: Any) -> str:
    return org_token(org, ["read"], name="Dashboards")


@pytest.fixture
def stranger(catalog: None) -> str:
    """A read + write token of another organisation."""
    other = make_organization(name="Muu Oy", admin_email="admin@muu.example")
    return org_token(other, ["read", "write"])


@pytest.fixture
def powerless(org: Any) -> str:
    """A read + write token whose user has since lost both permissions."""
    admin = admin_of(org)
    bob = create_user(
        organization=org,
        email="bob@testi.example",
        name="Bob Builder",
        permissions_granted=["manage_subscription", "manage_users"],
        actor=admin,
        now=NOW,
    ).user
    secret = create_organization_token(
        organization=org,
        name="Bob's script",
        scopes=["read", "write"],
        actor=Actor.portal(bob),
        now=NOW,
    ).secret
    update_user(organization=org, user_id=bob.pk, permissions_granted=[], actor=admin, now=NOW)
    return secret


def admin_user(organization: Any) -> User:
    user = admin_of(organization).user
    assert user is not None
    return user


# --------------------------------------------------------------------------- webhooks


class CommittingApi(Api):
    """Each test runs in one transaction; this runs what a request defers to "after commit"
    (the webhook listener, the enqueueing of attempts) when the request ends, as a commit
    would."""

    def call(self, *args: Any, **kwargs: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().call(*args, **kwargs)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next status of ``statuses`` (the last one repeats)."""

    statuses: list[int] = field(default_factory=lambda: [204])
    received: list[Received] = field(default_factory=list)
    url: str = ""
    answer_body: bytes = b"ok"

    def answer(self) -> int:
        index = min(len(self.received) - 1, len(self.statuses) - 1)
        return self.statuses[index]


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    settings.WEBHOOK_ALLOW_PRIVATE = True  # it listens on 127.0.0.1
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.received.append(Received(headers, self.rfile.read(length)))
            status = state.answer()
            self.send_response(status)
            self.send_header("Content-Length", str(len(state.answer_body)))
            self.end_headers()
            self.wfile.write(state.answer_body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def fast_retries(settings: Any) -> None:
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    settings.WEBHOOK_TIMEOUT_SECONDS = 5


def run_worker() -> None:
    """The database worker's own task runner, until nothing is ready (as ``--batch``)."""
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    while (task := DBTaskResult.objects.ready().get_locked()) is not None:
        task.claim(worker.worker_id)
        with TestCase.captureOnCommitCallbacks(execute=True):
            worker.run_task(task)


def register(api: Api, vendor: str, url: str, events: list[str]) -> dict[str, Any]:
    reply = api.post("/webhook-endpoints", vendor, {"url": url, "events": events})
    assert reply.status == 201, reply.content
    return reply.body


def verified(secret: str, message: Received) -> Any:
    return Webhook(secret).verify(message.body, message.headers)
