from django.utils.translation import gettext as _

from abonnement.core.errors import DomainError
from abonnement.subscriptions.errors import LastSubscriptionAdmin, NoFreeLicense

__all__ = [
    "LastSubscriptionAdmin",
    "LinkExpired",
    "NoFreeLicense",
    "RateLimited",
    "UserInactive",
]


class UserInactive(DomainError):
    """The user is deactivated: no invitation, portal link or sign-in for them."""

    code = "user_inactive"
    status = 409

    def __init__(self) -> None:
        super().__init__(_("This user is deactivated."))


class LinkExpired(DomainError):
    """A set-password link (invitation or reset) that is used, expired, replaced or forged."""

    code = "link_expired"
    status = 410

    def __init__(self) -> None:
        super().__init__(_("This link has expired or has already been used. Ask for a new one."))


class RateLimited(DomainError):
    """Too many requests of one kind (password links) from one address or for one account."""

    code = "rate_limited"
    status = 429

    def __init__(self, *, minutes: int) -> None:
        super().__init__(
            _("Too many requests. Wait %(minutes)d minutes and try again.") % {"minutes": minutes}
        )
