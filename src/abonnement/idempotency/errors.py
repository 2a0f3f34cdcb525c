from django.utils.translation import gettext as _

from abonnement.core.errors import DomainError


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    status = 422

    def __init__(self) -> None:
        super().__init__(
            _(
                "This Idempotency-Key was used with a different request in the last 24 hours. "
                "Use a new key for a new request."
            )
        )


class IdempotencyInProgress(DomainError):
    code = "idempotency_in_progress"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            _("A request with this Idempotency-Key is still being processed. Retry shortly.")
        )
