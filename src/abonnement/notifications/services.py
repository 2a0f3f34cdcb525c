"""Webhooks: registering endpoints, turning domain events into signed deliveries, and
delivering them (Standard Webhooks) with exponential backoff.

Contract:
- Every event of API.md that an enabled endpoint subscribes to is written to the outbox in
  the transaction of the change (both commit or neither does). Once it commits, a task
  turns the outbox rows into one message each (its ``webhook-id``) and one delivery per
  endpoint, and deletes them in that same transaction, so an event is published once; the
  first attempt is enqueued when that write commits. Rows a dead process left behind are
  published by :func:`publish_outbox` (every worker round and ``abonnement reminders``).
- An attempt is claimed by a conditional UPDATE (``attempts = n - 1`` → ``n``), so a task
  that runs twice sends once. Non-2xx answers, redirects, timeouts and network errors fail.
- A failed attempt is retried after ``WEBHOOK_RETRY_BASE_SECONDS × 2^(n-1)`` (capped), up
  to ``WEBHOOK_MAX_ATTEMPTS`` attempts. ``WEBHOOK_DISABLE_AFTER_FAILURES`` failed attempts
  in a row, over all of an endpoint's deliveries, switch the endpoint off; it stays off (and
  says so) until the vendor switches it on again.
- A pending delivery whose next attempt should have started over ``STRANDED_AFTER`` ago
  lost its task (a process died between a commit and its enqueue);
  :func:`requeue_stranded_webhooks` (every worker round and ``abonnement reminders``) gives
  it the task again.
"""

from __future__ import annotations

import base64
import http.client
import ipaddress
import json
import logging
import secrets
import socket
import ssl
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext as _
from ninja.responses import NinjaJSONEncoder
from standardwebhooks.webhooks import Webhook

from abonnement.accounts import permissions
from abonnement.core import clock
from abonnement.core.actor import Actor
from abonnement.core.errors import FieldErrors
from abonnement.core.events import Event
from abonnement.core.tasks import enqueue_many
from abonnement.notifications.events import EVENT_TYPES
from abonnement.notifications.models import (
    DeliveryStatus,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookMessage,
)

logger = logging.getLogger("abonnement.webhooks")

MAX_URL_LENGTH = 2000
USER_AGENT = "Abonnement-Webhooks/1"


# --------------------------------------------------------------------------- endpoints


@dataclass(frozen=True)
class IssuedEndpoint:
    endpoint: WebhookEndpoint
    secret: str


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _clean_url(value: object, errors: FieldErrors) -> str:
    url = value.strip() if isinstance(value, str) else ""
    try:
        if not url or len(url) > MAX_URL_LENGTH:
            raise DjangoValidationError("length")
        URLValidator(schemes=["https", "http"])(url)
        target = _Target.of(url)
    except (DjangoValidationError, ValueError):
        errors.add("url", _("Enter the endpoint's web address (https://…)."))
        return url
    if settings.WEBHOOK_ALLOW_PRIVATE:
        return url
    try:
        addresses = _resolve(target)
    except OSError:
        # Nothing to reach there now; every delivery resolves the name again and checks it.
        return url
    refused = _first_not_public(addresses)
    if refused is not None:
        errors.add(
            "url",
            _(
                "%(host)s is not a public address (%(address)s): webhooks are only sent "
                "to the internet."
            )
            % {"host": target.host, "address": refused},
        )
    return url


# --------------------------------------------------------------------------- addresses

# Address blocks that carry an IPv4 address in their last 32 bits (NAT64, IPv4-compatible).
_EMBEDDING_IPV4 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("::/96"))
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")


@dataclass(frozen=True)
class _Target:
    """Where an endpoint URL points: scheme, host (a name or an address), port, and path."""

    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def of(cls, url: str) -> _Target:
        """Raises ValueError for a URL without a host or with a port out of range."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)  # ValueError: bad port
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.scheme, parts.hostname, port, path)

    @staticmethod
    def host_of(url: str) -> str:
        return urlsplit(url).hostname or url


@dataclass(frozen=True)
class _Address:
    family: int
    sockaddr: tuple[Any, ...]

    @property
    def ip(self) -> str:
        return str(self.sockaddr[0])


def _resolve(target: _Target) -> list[_Address]:
    """Every address the host resolves to (an address literal resolves to itself)."""
    found = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    addresses: list[_Address] = []
    for family, _type, _proto, _name, sockaddr in found:
        address = _Address(int(family), tuple(sockaddr))
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise OSError(f"{target.host} has no address")
    return addresses


def is_public(text: str) -> bool:
    """Whether an IP address is one of the internet's: not loopback, private (RFC 1918,
    shared, unique-local), link-local, multicast, reserved or unspecified, nor one of those
    carried inside an IPv6 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo)."""
    ip = ipaddress.ip_address(text.split("%", 1)[0])  # an IPv6 scope (fe80::1%eth0) aside
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            candidates.append(ip.sixtofour)
        if ip.teredo is not None:
            candidates.extend(ip.teredo)
        if any(ip in network for network in _EMBEDDING_IPV4):
            candidates.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return not any(
        not candidate.is_global
        or candidate.is_loopback
        or candidate.is_private
        or candidate.is_link_local
        or candidate.is_multicast
        or candidate.is_reserved
        or candidate.is_unspecified
        or (
            isinstance(candidate, ipaddress.IPv6Address)
            and (candidate in _UNIQUE_LOCAL or candidate.is_site_local)
        )
        for candidate in candidates
    )


def _first_not_public(addresses: Sequence[_Address]) -> str | None:
    return next((a.ip for a in addresses if not is_public(a.ip)), None)


def _clean_events(value: object, errors: FieldErrors) -> list[str]:
    if not isinstance(value, list | tuple) or not value:
        errors.add("events", _("Choose at least one event."))
        return []
    unknown = sorted({str(v) for v in value} - set(EVENT_TYPES))
    if unknown:
        errors.add(
            "events",
            _("Unknown event: %(names)s.") % {"names": ", ".join(unknown)},
        )
    return [e for e in EVENT_TYPES if e in value]


def _clean_description(value: object, errors: FieldErrors) -> str:
    from abonnement.billing.validators import clean_text
    from abonnement.core.errors import ValidationFailed

    try:
        return clean_text(
            value if isinstance(value, str) else "", "description", required=False, max_length=200
        )
    except ValidationFailed as error:
        errors.errors.extend(error.errors)
        return ""


@transaction.atomic(durable=True)
def create_endpoint(
    *, url: object, events: object, description: object = "", actor: Actor, now: datetime
) -> IssuedEndpoint:
    """Register an endpoint (vendor only); its signing secret is returned once."""
    permissions.require_vendor_or_staff(actor)
    errors = FieldErrors()
    clean_url = _clean_url(url, errors)
    clean_events = _clean_events(events, errors)
    clean_description = _clean_description(description, errors)
    errors.raise_if_any()
    secret = _new_secret()
    endpoint = WebhookEndpoint.objects.create(
        url=clean_url,
        events=clean_events,
        description=clean_description,
        secret=secret,
        created_at=now,
    )
    logger.info("webhook endpoint %s registered for %s", endpoint.pk, clean_url)
    return IssuedEndpoint(endpoint, secret)


UNCHANGED: Any = object()


@transaction.atomic(durable=True)
def update_endpoint(
    *,
    endpoint_id: object,
    url: object = UNCHANGED,
    events: object = UNCHANGED,
    description: object = UNCHANGED,
    enabled: object = UNCHANGED,
    actor: Actor,
    now: datetime,
) -> WebhookEndpoint:
    """Change an endpoint; switching it on again starts its failure count afresh."""
    from abonnement.notifications.selectors import get_endpoint

    permissions.require_vendor_or_staff(actor)
    errors = FieldErrors()
    changes: dict[str, Any] = {}
    if url is not UNCHANGED:
        changes["url"] = _clean_url(url, errors)
    if events is not UNCHANGED:
        changes["events"] = _clean_events(events, errors)
    if description is not UNCHANGED:
        changes["description"] = _clean_description(description, errors)
    if enabled is not UNCHANGED and not isinstance(enabled, bool):
        errors.add("enabled", _("Give true or false."))
    errors.raise_if_any()
    endpoint = get_endpoint(endpoint_id=endpoint_id, actor=actor, lock=True)
    if enabled is True and not endpoint.enabled:
        changes.update(enabled=True, consecutive_failures=0, disabled_at=None, disabled_reason="")
    elif enabled is False and endpoint.enabled:
        changes.update(
            enabled=False, disabled_at=now, disabled_reason=_("Switched off by the vendor.")
        )
    for field, value in changes.items():
        setattr(endpoint, field, value)
    if changes:
        endpoint.save(update_fields=list(changes))
    return endpoint


@transaction.atomic(durable=True)
def delete_endpoint(*, endpoint_id: object, actor: Actor, now: datetime) -> None:
    """Remove an endpoint with its deliveries and their log."""
    from abonnement.notifications.selectors import get_endpoint

    endpoint = get_endpoint(endpoint_id=endpoint_id, actor=actor, lock=True)
    endpoint.delete()
    logger.info("webhook endpoint %s deleted", endpoint_id)


# --------------------------------------------------------------------------- publishing


# Outbox rows published per transaction (a rollover batch records thousands at once).
OUTBOX_CHUNK = 1000


def _wanted_event_types() -> set[str]:
    return {
        event_type
        for events in WebhookEndpoint.objects.filter(enabled=True).values_list("events", flat=True)
        for event_type in events
    }


def _encoded(data: dict[str, Any]) -> str:
    return json.dumps(data, cls=NinjaJSONEncoder, separators=(",", ":"))


def record_events(events: Sequence[Event]) -> None:
    """The in-transaction listener (``core.events``): the events an enabled endpoint wants
    go into the outbox with the change, to be published as soon as it commits.

    Each carries the snapshot of its payload's ``data``, read here, in the transaction of
    the change, with a fixed number of queries per event type for the batch, unless it was
    emitted with ``snapshot=False`` (then it is read when published; see ``payloads``)."""
    from abonnement.notifications.payloads import build_data

    wanted = _wanted_event_types()
    chosen = [event for event in events if event.type in wanted]
    if not chosen:
        return
    snapshots = iter([_encoded(data) for data in build_data([e for e in chosen if e.snapshot])])
    rows = []
    for event in chosen:
        row = OutboxEvent(
            event_type=event.type,
            organization_id=uuid.UUID(event.organization_id),
            data=event.data,
            occurred_at=event.at,
        )
        if event.snapshot:
            row.data_snapshot = next(snapshots)
        rows.append(row)
    OutboxEvent.objects.bulk_create(rows)
    ids = [row.pk for row in rows]
    transaction.on_commit(lambda: _enqueue_publishing(ids))


def _enqueue_publishing(outbox_ids: list[int]) -> None:
    """After the commit, a worker publishes the rows (a rollover batch's thousands do not
    hold up the rollover); a lost task leaves them for :func:`publish_outbox`."""
    from abonnement.notifications.tasks import publish_webhook_events

    enqueue_many(
        publish_webhook_events,
        [
            {"outbox_ids": outbox_ids[i : i + OUTBOX_CHUNK]}
            for i in range(0, len(outbox_ids), OUTBOX_CHUNK)
        ],
    )


def publish_recorded(ids: Sequence[int]) -> None:
    """Publish the given outbox rows (at most ``OUTBOX_CHUNK``, as the commit enqueued them),
    those no other publisher holds; the task of a commit.

    Never raises: whatever is not published here stays in the outbox for
    :func:`publish_outbox`.
    """
    try:
        _publish_outbox(OutboxEvent.objects.filter(pk__in=list(ids)), now=clock.now())
    except Exception:
        logger.exception("%s webhook events stay in the outbox for the next sweep", len(ids))


def publish_outbox(*, now: datetime) -> int:
    """Publish every event left in the outbox (its process died between the commit of the
    change and the publishing); returns how many. Safe beside any number of publishers: a
    row is taken under a lock that others skip, and deleted as it is published."""
    published, after = 0, 0
    while taken := _publish_outbox(
        OutboxEvent.objects.filter(pk__gt=after), now=now, limit=OUTBOX_CHUNK
    ):
        published += len(taken)
        after = taken[-1]  # each pass moves on, whatever another publisher holds
    return published


def _publish_outbox(
    rows: QuerySet[OutboxEvent], *, now: datetime, limit: int | None = None
) -> list[int]:
    """Publish and delete what of ``rows`` no one else holds; returns their ids in order."""
    with transaction.atomic():
        taken = list(rows.order_by("pk").select_for_update(skip_locked=True)[:limit])
        if not taken:
            return []
        _publish(
            [
                _Recorded(
                    Event(r.event_type, str(r.organization_id), r.data, at=r.occurred_at),
                    r.data_snapshot,
                )
                for r in taken
            ],
            now=now,
        )
        ids = [r.pk for r in taken]
        OutboxEvent.objects.filter(pk__in=ids).delete()
    return ids


@dataclass(frozen=True)
class _Recorded:
    event: Event
    data: str | None  # the snapshot of the payload's data (JSON); None: read it now


def _publish(recorded: Sequence[_Recorded], *, now: datetime) -> None:
    """One message per event (its payload's ``data`` the snapshot taken with the change, or
    read now, for the batch at once, where there is none) and one delivery per endpoint."""
    from abonnement.notifications.payloads import build_data

    endpoints = list(WebhookEndpoint.objects.filter(enabled=True).only("id", "events"))
    wanted = {event_type for endpoint in endpoints for event_type in endpoint.events}
    chosen = [r for r in recorded if r.event.type in wanted]
    if not chosen:
        return
    read = iter(build_data([r.event for r in chosen if r.data is None]))
    payloads = [
        {
            "type": r.event.type,
            "timestamp": r.event.at,
            "data": next(read) if r.data is None else json.loads(r.data),
        }
        for r in chosen
    ]
    messages: list[WebhookMessage] = []
    deliveries: list[WebhookDelivery] = []
    for event, payload in zip((r.event for r in chosen), payloads, strict=True):
        message = WebhookMessage(
            id=f"msg_{uuid.uuid4().hex}",
            event_type=event.type,
            organization_id=uuid.UUID(event.organization_id),
            body=_encoded(payload),
            created_at=event.at,
        )
        messages.append(message)
        deliveries.extend(
            WebhookDelivery(endpoint_id=endpoint.pk, message=message, created_at=now)
            for endpoint in endpoints
            if event.type in endpoint.events
        )
    with transaction.atomic():
        WebhookMessage.objects.bulk_create(messages)
        WebhookDelivery.objects.bulk_create(deliveries)
        ids = [str(delivery.pk) for delivery in deliveries]
        transaction.on_commit(lambda: _enqueue_first_attempts(ids))


def _enqueue_first_attempts(delivery_ids: list[str]) -> None:
    from abonnement.notifications.tasks import deliver_webhook

    enqueue_many(deliver_webhook, [{"delivery_id": i, "attempt": 1} for i in delivery_ids])


# --------------------------------------------------------------------------- delivering


def retry_delay(attempt: int) -> timedelta:
    """How long to wait after failed attempt ``attempt`` (1-based): exponential, capped."""
    seconds = settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
    return timedelta(seconds=min(seconds, settings.WEBHOOK_RETRY_MAX_SECONDS))


@dataclass(frozen=True)
class SendResult:
    succeeded: bool
    status: int | None
    error: str
    duration_ms: int


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """HTTP to one address checked beforehand, whatever the host name resolves to by now;
    the request still names the host (``Host``)."""

    def __init__(self, target: _Target, address: _Address, *, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = address

    def _open_socket(self) -> socket.socket:
        sock = socket.socket(self.address.family, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self.address.sockaddr)
        except OSError:
            sock.close()
            raise
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def connect(self) -> None:
        self.sock = self._open_socket()


def _tls_context() -> ssl.SSLContext:
    """The system's trusted certificates, host names checked."""
    return ssl.create_default_context()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """HTTPS to one checked address: the TLS handshake sends the host name (SNI) and the
    certificate must be valid for it, as when connecting by name."""

    default_port = http.client.HTTPS_PORT

    def __init__(self, target: _Target, address: _Address, *, timeout: float) -> None:
        super().__init__(target, address, timeout=timeout)
        self.tls = _tls_context()

    def connect(self) -> None:
        self.sock = self.tls.wrap_socket(self._open_socket(), server_hostname=self.host)


def signed_headers(*, secret: str, message_id: str, body: str, at: datetime) -> dict[str, str]:
    """The Standard Webhooks headers for ``body``."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
    }


def _connect(target: _Target, addresses: Sequence[_Address]) -> _PinnedHTTPConnection:
    """A connection to the first of ``addresses`` that answers."""
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    failure: OSError = OSError(f"{target.host} has no address")
    for address in addresses:
        connection = kind(target, address, timeout=settings.WEBHOOK_TIMEOUT_SECONDS)
        try:
            connection.connect()
        except OSError as error:
            connection.close()
            failure = error
            continue
        return connection
    raise failure


def _send(endpoint: WebhookEndpoint, message: WebhookMessage, *, at: datetime) -> SendResult:
    """POST the message to the endpoint: its host is resolved once, every address it gives
    is checked (unless ``WEBHOOK_ALLOW_PRIVATE``), and the request goes to one of those very
    addresses, so a name that changes its answer in between cannot lead it elsewhere. No
    redirect is followed and no proxy used; the answer's status is kept, never its body."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signed_headers(secret=endpoint.secret, message_id=message.pk, body=message.body, at=at),
    }
    started = time.monotonic()
    status: int | None = None
    error = ""
    try:
        target = _Target.of(endpoint.url)
        addresses = _resolve(target)
        refused = None if settings.WEBHOOK_ALLOW_PRIVATE else _first_not_public(addresses)
        if refused is not None:
            error = f"Not sent: {target.host} resolves to {refused}, which is not a public address."
        else:
            connection = _connect(target, addresses)
            try:
                connection.request("POST", target.path, body=message.body.encode(), headers=headers)
                status = connection.getresponse().status
            finally:
                connection.close()
    except socket.gaierror as failure:
        error = f"{_Target.host_of(endpoint.url)} could not be resolved: {failure.strerror}"
    except (OSError, ValueError, http.client.HTTPException) as failure:
        error = str(failure) or type(failure).__name__
    duration_ms = int((time.monotonic() - started) * 1000)
    succeeded = status is not None and 200 <= status < 300
    return SendResult(succeeded, status, error[:500], duration_ms)


def attempt_delivery(*, delivery_id: str, attempt: int, now: datetime) -> None:
    """Make attempt number ``attempt`` of a delivery; safe to run twice (see the contract)."""
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=DeliveryStatus.PENDING, attempts=attempt - 1
    ).update(attempts=attempt, last_attempt_at=now, next_attempt_at=None)
    if not claimed:
        return
    delivery = WebhookDelivery.objects.select_related("endpoint", "message").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.enabled:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
        logger.info("webhook %s not sent: endpoint %s is off", delivery.message_id, endpoint.pk)
        return
    # The HTTP call runs outside any transaction: no lock is held while we wait.
    result = _send(endpoint, delivery.message, at=now)
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=attempt,
            attempted_at=now,
            succeeded=result.succeeded,
            response_status=result.status,
            error=result.error,
            duration_ms=result.duration_ms,
        )
        if result.succeeded:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SUCCEEDED)
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(consecutive_failures=0)
            logger.info(
                "webhook %s delivered to %s (attempt %d, HTTP %s)",
                delivery.message_id,
                endpoint.url,
                attempt,
                result.status,
            )
            return
        _record_failure(delivery, endpoint, attempt=attempt, result=result, now=now)


def _record_failure(
    delivery: WebhookDelivery,
    endpoint: WebhookEndpoint,
    *,
    attempt: int,
    result: SendResult,
    now: datetime,
) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    locked = WebhookEndpoint.objects.select_for_update(no_key=True).get(pk=endpoint.pk)
    reason = f"HTTP {result.status}" if result.status is not None else result.error
    logger.warning(
        "webhook %s to %s failed (attempt %d): %s",
        delivery.message_id,
        endpoint.url,
        attempt,
        reason,
    )
    if locked.enabled and locked.consecutive_failures >= settings.WEBHOOK_DISABLE_AFTER_FAILURES:
        locked.enabled = False
        locked.disabled_at = now
        locked.disabled_reason = _(
            "Switched off after %(count)d failed deliveries in a row (last: %(reason)s)."
        ) % {"count": locked.consecutive_failures, "reason": reason}
        locked.save(update_fields=["enabled", "disabled_at", "disabled_reason"])
        logger.warning("webhook endpoint %s switched off: %s", endpoint.pk, reason)
    if not locked.enabled or attempt >= settings.WEBHOOK_MAX_ATTEMPTS:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
        return
    delay = retry_delay(attempt)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=now + delay)
    delivery_id = str(delivery.pk)
    transaction.on_commit(lambda: _enqueue_retry(delivery_id, attempt + 1, delay))


# Far longer than an attempt can take (WEBHOOK_TIMEOUT_SECONDS) or a task waits in a busy
# queue: a delivery left this long without its next attempt starting has lost its task.
STRANDED_AFTER = timedelta(hours=1)


def requeue_stranded_webhooks(*, now: datetime) -> int:
    """Enqueue the next attempt of every pending delivery whose task was lost; returns how many.

    Three ways to be stranded: the first attempt never started (the delivery was written at
    business time ``now`` - ``STRANDED_AFTER`` or earlier), a scheduled retry never started,
    or a worker died during an attempt it had claimed. The attempt claim makes a duplicate
    task harmless: of two tasks for the same attempt number, one sends and one does nothing.
    """
    from abonnement.notifications.tasks import deliver_webhook

    # Attempt times are real (transport), creation times are the business clock's.
    cutoff = clock.real_now() - STRANDED_AFTER
    stranded = list(
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING)
        .filter(
            Q(next_attempt_at__lt=cutoff)
            | Q(next_attempt_at__isnull=True, attempts=0, created_at__lt=now - STRANDED_AFTER)
            | Q(next_attempt_at__isnull=True, attempts__gt=0, last_attempt_at__lt=cutoff)
        )
        .values_list("pk", "attempts")
    )
    for delivery_id, attempts in stranded:
        deliver_webhook.enqueue(delivery_id=str(delivery_id), attempt=attempts + 1)
    return len(stranded)


def _enqueue_retry(delivery_id: str, attempt: int, delay: timedelta) -> None:
    from abonnement.notifications.tasks import deliver_webhook

    # The queue compares run_after with the real time, whatever the business clock says.
    deliver_webhook.using(run_after=clock.real_now() + delay).enqueue(
        delivery_id=delivery_id, attempt=attempt
    )
