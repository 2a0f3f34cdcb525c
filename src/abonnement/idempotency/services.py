"""Idempotency keys (API.md "Conventions"): one response per token and key for 24 hours.

``claim_key`` inserts the record before the request runs, in its own short transaction, so a
concurrent retry with the same key sees it at once; the unique constraint decides who runs,
never a check-then-insert. ``complete_key`` stores the response; ``release_key`` forgets a
claim whose request did not finish (a server error), so the client may retry.

``now`` is the wall clock (``clock.real_now()``), never the simulated business clock: the
window is a transport concern, measured in the client's real time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction

from abonnement.idempotency.errors import IdempotencyInProgress, IdempotencyKeyReused
from abonnement.idempotency.models import IdempotencyRecord

RETENTION = timedelta(hours=24)


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: dict[str, str]
    body: bytes


def claim_key(
    *, token_id: int, key: str, fingerprint: str, now: datetime
) -> IdempotencyRecord | StoredResponse:
    """Claim ``key`` for this request, or return the response stored for it.

    Raises ``IdempotencyKeyReused`` when the key came with another request, and
    ``IdempotencyInProgress`` while the first request with the key is still running.
    """
    for _attempt in range(3):
        try:
            with transaction.atomic():
                # Housekeeping on the way: this token's expired keys go.
                IdempotencyRecord.objects.filter(token_id=token_id, expires_at__lte=now).delete()
                return IdempotencyRecord.objects.create(
                    token_id=token_id,
                    key=key,
                    fingerprint=fingerprint,
                    created_at=now,
                    expires_at=now + RETENTION,
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(token_id=token_id, key=key).first()
            if existing is None:
                continue  # released or expired meanwhile: claim it again
            if existing.expires_at <= now:
                IdempotencyRecord.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
                continue
            if existing.fingerprint != fingerprint:
                raise IdempotencyKeyReused() from None
            if not existing.completed or existing.response_status is None:
                raise IdempotencyInProgress() from None
            return StoredResponse(
                status=existing.response_status,
                headers=dict(existing.response_headers),
                body=bytes(existing.response_body),
            )
    raise IdempotencyInProgress()


def complete_key(
    record: IdempotencyRecord, *, status: int, headers: dict[str, str], body: bytes
) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        completed=True, response_status=status, response_headers=headers, response_body=body
    )


def release_key(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, completed=False).delete()
