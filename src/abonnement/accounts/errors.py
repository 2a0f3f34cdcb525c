from django.utils.translation import gettext as _

from abonnement.core.errors import DomainError
from abonnement.subscriptions.errors import LastSubscriptionAdmin, NoFreeLicense

__all__ = ["LastSubscriptionAdmin", "NoFreeLicense", "UserInactive"]


class UserInactive(DomainError):
    """The user is deactivated: no invitation, portal link or sign-in for them."""

    code = "user_inactive"
    status = 409

    def __init__(self) -> None:
        super().__init__(_("This user is deactivated."))
