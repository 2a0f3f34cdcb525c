"""Webhook targets (API-next.md "Webhooks", issue 18 item 8): an endpoint must resolve to a
public address when it is registered and again at every delivery, unless
``WEBHOOK_ALLOW_PRIVATE``; the request goes to the address that was checked; the delivery
log keeps the answer's status and timing, never its body."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client

from abonnement.notifications import services
from abonnement.notifications.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.api.conftest import Api, CommittingApi, Receiver, register, run_worker, verified

pytestmark = pytest.mark.django_db

PRIVATE_TARGETS = [
    "http://127.0.0.1/hooks",
    "http://10.1.2.3/hooks",
    "http://172.16.0.1/hooks",
    "http://192.168.1.1/hooks",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hooks",
    "http://[fc00::1]/hooks",
    "http://[fe80::1]/hooks",
    "http://0.0.0.0/hooks",
    "http://localhost:8000/hooks",
    "http://[::ffff:127.0.0.1]/hooks",
]
PUBLIC = "93.184.215.14"


@pytest.fixture
def api(clock: None) -> Api:
    return CommittingApi(Client())


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """The resolver's answers by name (the DNS, not our code); other names resolve as usual."""
    answers: dict[str, list[str]] = {}
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in answers:
            return [
                (
                    socket.AF_INET6 if ":" in ip else socket.AF_INET,
                    socket.SOCK_STREAM,
                    socket.IPPROTO_TCP,
                    "",
                    (ip, port, 0, 0) if ":" in ip else (ip, port),
                )
                for ip in answers[host]
            ]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize("url", PRIVATE_TARGETS)
def test_a_non_public_target_is_refused_at_registration(
    api: Api, vendor: str, url: str, settings: Any
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False
    refused = api.post("/webhook-endpoints", vendor, {"url": url, "events": ["order.created"]})
    assert (refused.status, refused.code) == (422, "validation_error")
    (error,) = refused.body["errors"]
    assert error["field"] == "url"
    assert "is not a public address" in error["message"]
    assert not WebhookEndpoint.objects.exists()


def test_the_refusal_names_the_host_and_the_address(
    api: Api, vendor: str, settings: Any, dns: dict[str, list[str]]
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False
    dns["hooks.example"] = [PUBLIC, "10.0.0.7"]  # one private answer is enough to refuse
    refused = api.post(
        "/webhook-endpoints",
        vendor,
        {"url": "https://hooks.example/in", "events": ["order.created"]},
    )
    assert refused.status == 422
    assert refused.body["errors"] == [
        {
            "field": "url",
            "message": "hooks.example is not a public address (10.0.0.7): webhooks are only "
            "sent to the internet.",
        }
    ]
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", PRIVATE_TARGETS)
def test_the_setting_allows_a_non_public_target(
    api: Api, vendor: str, url: str, settings: Any
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = True
    made = register(api, vendor, url, ["order.created"])
    assert WebhookEndpoint.objects.get().url == made["url"] == url


def test_a_public_target_is_registered(
    api: Api, vendor: str, settings: Any, dns: dict[str, list[str]]
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False
    dns["hooks.example"] = [PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]
    by_name = register(api, vendor, "https://hooks.example/in", ["order.created"])
    by_address = register(api, vendor, f"https://{PUBLIC}/in", ["order.created"])
    assert sorted(WebhookEndpoint.objects.values_list("url", flat=True)) == [
        by_address["url"],
        by_name["url"],
    ]


def test_changing_the_url_to_a_private_target_is_refused_and_changes_nothing(
    api: Api, vendor: str, settings: Any
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False
    made = register(api, vendor, f"https://{PUBLIC}/in", ["order.created"])
    refused = api.patch(
        f"/webhook-endpoints/{made['id']}", vendor, {"url": "http://169.254.169.254/latest/"}
    )
    assert (refused.status, refused.body["errors"][0]["field"]) == (422, "url")
    assert WebhookEndpoint.objects.get().url == f"https://{PUBLIC}/in"


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("100.64.0.1", False),  # shared address space (carrier-grade NAT)
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("::", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:169.254.169.254", False),
        ("64:ff9b::7f00:1", False),  # NAT64 to 127.0.0.1
        ("2002:7f00:1::", False),  # 6to4 of 127.0.0.1
        ("fd12:3456::1", False),
        ("ff02::1", False),
        ("fe80::1%eth0", False),
    ],
)
def test_which_addresses_are_public(address: str, public: bool) -> None:
    from abonnement.notifications.services import is_public

    assert is_public(address) is public


def test_a_name_that_turned_private_after_registration_gets_no_request(
    api: Api,
    org: Any,
    writer: str,
    vendor: str,
    receiver: Receiver,
    fast_retries: None,
    settings: Any,
    dns: dict[str, list[str]],
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    port = receiver.url.split(":")[2].split("/")[0]
    dns["hooks.example"] = [PUBLIC]
    endpoint = register(api, vendor, f"http://hooks.example:{port}/hooks", ["order.created"])
    dns["hooks.example"] = ["127.0.0.1"]  # the name now points at this machine
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    run_worker()

    assert receiver.received == []
    (delivery,) = api.get(f"/webhook-endpoints/{endpoint['id']}/deliveries", vendor).body["data"]
    assert delivery["status"] == "failed"
    (attempt,) = delivery["attempts"]
    assert (attempt["number"], attempt["succeeded"], attempt["response_status"]) == (1, False, None)
    assert attempt["error"] == (
        "Not sent: hooks.example resolves to 127.0.0.1, which is not a public address."
    )
    shown = api.get(f"/webhook-endpoints/{endpoint['id']}", vendor).body
    assert shown["consecutive_failures"] == 1


def test_the_request_goes_to_the_resolved_address_and_names_the_host(
    api: Api,
    org: Any,
    writer: str,
    vendor: str,
    receiver: Receiver,
    fast_retries: None,
    dns: dict[str, list[str]],
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    dns["hooks.example"] = ["127.0.0.1"]
    endpoint = register(api, vendor, f"http://hooks.example:{port}/hooks?to=us", ["order.created"])
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    run_worker()

    (message,) = receiver.received
    assert message.headers["host"] == f"hooks.example:{port}"
    assert verified(endpoint["secret"], message)["type"] == "order.created"
    assert WebhookDelivery.objects.get().status == "succeeded"


def test_the_delivery_log_keeps_no_answer_body(
    api: Api, org: Any, writer: str, vendor: str, receiver: Receiver, fast_retries: None
) -> None:
    receiver.statuses = [500, 200]
    receiver.answer_body = b"root:x:0:0:root:/root:/bin/bash"
    endpoint = register(api, vendor, receiver.url, ["order.created"])
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    run_worker()

    (delivery,) = api.get(f"/webhook-endpoints/{endpoint['id']}/deliveries", vendor).body["data"]
    assert [sorted(attempt) for attempt in delivery["attempts"]] == [
        ["attempted_at", "duration_ms", "error", "number", "response_status", "succeeded"],
        ["attempted_at", "duration_ms", "error", "number", "response_status", "succeeded"],
    ]
    assert [(a["response_status"], a["error"]) for a in delivery["attempts"]] == [
        (500, ""),
        (200, ""),
    ]
    assert "response_body" not in {field.name for field in WebhookAttempt._meta.get_fields()}
    schema = api.get("/openapi.json").body
    assert "response_body" not in str(schema)


@pytest.fixture
def tls_receiver(tmp_path: Any, settings: Any) -> Iterator[tuple[int, list[str]]]:
    """An HTTPS receiver on 127.0.0.1 whose certificate names ``hooks.example`` only."""
    settings.WEBHOOK_ALLOW_PRIVATE = True
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-keyout", str(key), "-out", str(cert), "-subj", "/CN=hooks.example"),
            *("-addext", "subjectAltName=DNS:hooks.example"),
        ],
        check=True,
        capture_output=True,
    )
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            hosts.append(self.headers["Host"])
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    trusted = ssl.create_default_context(cafile=str(cert))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(services, "_tls_context", lambda: trusted)
        yield server.server_address[1], hosts
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("name", "delivered"), [("hooks.example", True), ("other.example", False)])
def test_https_to_the_resolved_address_checks_the_certificate_for_the_name(
    api: Api,
    org: Any,
    writer: str,
    vendor: str,
    fast_retries: None,
    settings: Any,
    dns: dict[str, list[str]],
    tls_receiver: tuple[int, list[str]],
    name: str,
    delivered: bool,
) -> None:
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    port, hosts = tls_receiver
    dns[name] = ["127.0.0.1"]
    endpoint = register(api, vendor, f"https://{name}:{port}/hooks", ["order.created"])
    api.put(f"/organizations/{org.pk}/subscription/licenses", writer, {"licenses": 11})
    run_worker()

    (delivery,) = api.get(f"/webhook-endpoints/{endpoint['id']}/deliveries", vendor).body["data"]
    (attempt,) = delivery["attempts"]
    if delivered:
        assert hosts == [f"hooks.example:{port}"]
        assert (delivery["status"], attempt["response_status"]) == ("succeeded", 204)
    else:
        assert hosts == []
        assert (delivery["status"], attempt["response_status"]) == ("failed", None)
        assert "certificate verify failed" in attempt["error"]
        assert "other.example" in attempt["error"]
