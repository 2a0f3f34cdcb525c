"""Links that let a person choose a password: invitations (7 days) and resets (1 hour).

Django's ``PasswordResetTokenGenerator`` does the cryptography (an HMAC over the user's
state, keyed by ``SECRET_KEY``); nothing is stored. A link stops working once it has been
used, because what it hashes changes: the password (set by following it), ``last_login``
(signing in), ``invited_at`` (a newer invitation replaces the older one) and
``is_active``. Its age is read from the business clock, so the simulated clock moves it too.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode

from abonnement.accounts.models import User
from abonnement.core import clock

INVITATION_SECONDS = 7 * 24 * 60 * 60
RESET_SECONDS = 60 * 60


class _ClockedTokens(PasswordResetTokenGenerator):
    """A token generator with its own salt and lifetime, timed by the business clock."""

    lifetime_seconds = RESET_SECONDS

    def _now(self) -> datetime:
        # Django counts seconds from a naive datetime; the clock's instant, in UTC.
        return clock.now().astimezone(UTC).replace(tzinfo=None)

    def _make_hash_value(self, user: User, timestamp: int) -> str:  # type: ignore[override]
        invited = "" if user.invited_at is None else user.invited_at.replace(microsecond=0)
        return f"{super()._make_hash_value(user, timestamp)}{invited}{user.is_active}"

    def check_token(self, user: User | None, token: str | None) -> bool:  # type: ignore[override]
        if user is None or not token or not super().check_token(user, token):
            return False
        try:
            issued = int(token.split("-")[0], 36)
        except ValueError:
            return False
        return self._num_seconds(self._now()) - issued <= self.lifetime_seconds


class InvitationTokens(_ClockedTokens):
    key_salt = "abonnement.accounts.tokens.InvitationTokens"
    lifetime_seconds = INVITATION_SECONDS


class ResetTokens(_ClockedTokens):
    key_salt = "abonnement.accounts.tokens.ResetTokens"
    lifetime_seconds = RESET_SECONDS


invitation_tokens = InvitationTokens()
reset_tokens = ResetTokens()


def encode_user(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def decode_user(uidb64: str) -> User | None:
    """The user a link names, or None for a malformed or unknown one."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    return User.objects.filter(pk=pk).first()
