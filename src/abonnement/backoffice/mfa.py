"""Staff's second factor: a TOTP authenticator and one-time recovery codes (django-otp).

A staff member without a confirmed ``TOTPDevice`` enrols at the first sign-in: an
unconfirmed device is made, its secret shown as a QR code (drawn here, as inline SVG) and
as text, and the first correct code confirms it and creates ten recovery codes (a
``StaticDevice``; each code works once). Every later sign-in needs a code from the
authenticator or a recovery code.

TOTP is real time by definition (the code on the staff member's phone), so these services
read no business clock; django-otp reads the wall clock, and its own throttling (a wait
that doubles with each wrong code of a device) works beside the sign-in limits.

A refused code still counts against the device: the services that check a code commit
that count before they raise, which is why the refusal is raised outside the transaction.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

import segno
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from abonnement.accounts.models import User
from abonnement.core.errors import DomainError

RECOVERY_CODES = 10
AUTHENTICATOR_NAME = "Authenticator"
RECOVERY_NAME = "Recovery codes"


class WrongCode(DomainError):
    code = "wrong_code"
    status = 422

    def __init__(self, *, enrolment: bool = False) -> None:
        if enrolment:
            message = _("That code is not right. Enter the 6-digit code the app shows now.")
        else:
            message = _(
                "That code is not right. Enter the 6-digit code your authenticator app shows "
                "now, or one of your recovery codes."
            )
        super().__init__(message)


class TooManyWrongCodes(DomainError):
    code = "too_many_wrong_codes"
    status = 429

    def __init__(self, seconds: int) -> None:
        super().__init__(
            ngettext(
                "Too many wrong codes. Wait %(seconds)d second and try again.",
                "Too many wrong codes. Wait %(seconds)d seconds and try again.",
                seconds,
            )
            % {"seconds": seconds}
        )


@dataclass(frozen=True)
class Enrolment:
    device: TOTPDevice
    recovery_codes: list[str]


def is_enrolled(user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


@transaction.atomic(durable=True)
def enrolment_device(*, user: User) -> TOTPDevice:
    """The authenticator being enrolled: the same unconfirmed device until it is confirmed,
    so reloading the page keeps the secret already scanned."""
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("pk")
        .first()
    )
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def secret(device: TOTPDevice) -> str:
    """The secret as authenticator apps take it typed in: base32, in groups of four."""
    text = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The ``otpauth://`` URL as an inline SVG QR code, drawn here: no image leaves the
    installation, and the markup has no ``style`` attribute or script (the CSP allows it)."""
    return str(
        segno.make(device.config_url, error="m").svg_inline(
            scale=4, border=4, title=_("QR code for your authenticator app")
        )
    )


def _wait_seconds(device: Device) -> int | None:
    """Seconds until django-otp lets the device check a code again, or None."""
    allowed, details = device.verify_is_allowed()
    if allowed:
        return None
    locked_until: datetime | None = (details or {}).get("locked_until")
    if locked_until is None:
        return 1
    return max(1, int((locked_until - timezone.now()).total_seconds() + 0.999))


@dataclass(frozen=True)
class _Outcome:
    device: Device | None = None
    wait: int | None = None
    codes: list[str] | None = None


@transaction.atomic(durable=True)
def _confirm(user: User, code: str) -> _Outcome:
    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user=user, confirmed=False)
        .order_by("pk")
        .first()
    )
    if device is None:
        return _Outcome()
    wait = _wait_seconds(device)
    if wait is not None:
        return _Outcome(wait=wait)
    if not device.verify_token(code):
        return _Outcome()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    # One authenticator and one set of recovery codes per staff member.
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    StaticDevice.objects.filter(user=user).delete()
    recovery = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _index in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=recovery, token=t) for t in codes)
    return _Outcome(device=device, codes=codes)


def confirm_enrolment(*, user: User, code: str) -> Enrolment:
    """Confirm the authenticator with its first code; returns the recovery codes, which
    are shown once. ``WrongCode`` / ``TooManyWrongCodes`` change nothing else."""
    outcome = _confirm(user, normalise(code))
    if outcome.wait is not None:
        raise TooManyWrongCodes(outcome.wait)
    if outcome.device is None or outcome.codes is None:
        raise WrongCode(enrolment=True)
    assert isinstance(outcome.device, TOTPDevice)
    return Enrolment(device=outcome.device, recovery_codes=outcome.codes)


@transaction.atomic(durable=True)
def _check(user: User, code: str) -> _Outcome:
    # Six digits is the authenticator; anything else can only be a recovery code.
    device: Device | None
    if code.isdigit() and len(code) == 6:
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    else:
        device = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
    if device is None or not code:
        return _Outcome()
    wait = _wait_seconds(device)
    if wait is not None:
        return _Outcome(wait=wait)
    # A recovery code is deleted as it is accepted: it works once.
    return _Outcome(device=device if device.verify_token(code) else None)


def verify_second_factor(*, user: User, code: str) -> Device:
    """The device that accepts ``code`` (the authenticator, or the recovery codes, whose
    accepted code is used up); ``WrongCode`` or ``TooManyWrongCodes`` otherwise."""
    outcome = _check(user, normalise(code))
    if outcome.wait is not None:
        raise TooManyWrongCodes(outcome.wait)
    if outcome.device is None:
        raise WrongCode()
    return outcome.device


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def normalise(code: str) -> str:
    """What people type: spaces and dashes dropped (``123 456``), recovery codes in any case."""
    return "".join(code.split()).replace("-", "").lower()
