"""E-mails of accounts, sent after commit by the worker (django-tasks).

Each task takes plain values, re-reads the user and calls one function of
``accounts.passwords``; each is safe to run twice (see there).
"""

from __future__ import annotations

from django_tasks import task


@task()
def send_invitation_email(user_id: int, state: str, inviter: str) -> str:
    from abonnement.accounts.passwords import deliver_invitation

    return deliver_invitation(user_id=user_id, state=state, inviter=inviter)


@task()
def send_password_reset_email(email: str, audience: str) -> str:
    from abonnement.accounts.passwords import deliver_password_reset

    if audience not in ("portal", "backoffice"):
        return f"skipped: unknown audience {audience!r}"
    return deliver_password_reset(
        email=email, audience="backoffice" if audience == "backoffice" else "portal"
    )
