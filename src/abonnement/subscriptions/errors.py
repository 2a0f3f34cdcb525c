from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from abonnement.core.errors import DomainError


class BelowActiveUsers(DomainError):
    code = "below_active_users"
    status = 409

    def __init__(self, *, active_users: int, requested: int) -> None:
        super().__init__(
            ngettext(
                "You cannot have fewer licences than active users: %(count)d user is active. "
                "Deactivate users in User management first.",
                "You cannot have fewer licences than active users: %(count)d users are active. "
                "Deactivate users in User management first.",
                active_users,
            )
            % {"count": active_users}
        )
        self.active_users = active_users
        self.requested = requested


class NoFreeLicense(DomainError):
    code = "no_free_license"
    status = 409

    def __init__(self) -> None:
        super().__init__(_("There is no free licence. Buy a licence to activate this user."))


class NextPeriodShort(NoFreeLicense):
    """A licence is free now, but the next period, after a scheduled removal, has none."""

    def __init__(self, *, licenses_next: int) -> None:
        DomainError.__init__(
            self,
            ngettext(
                "A licence removal is scheduled: the next period has %(count)d licence, and "
                "every one is taken. Someone who manages the subscription can activate this "
                "user, which keeps one more licence.",
                "A licence removal is scheduled: the next period has %(count)d licences, and "
                "every one is taken. Someone who manages the subscription can activate this "
                "user, which keeps one more licence.",
                licenses_next,
            )
            % {"count": licenses_next},
        )
        self.licenses_next = licenses_next


class ManagedByMarketplace(DomainError):
    code = "managed_by_marketplace"
    status = 409

    def __init__(self, marketplace: str, url: str) -> None:
        super().__init__(
            _("This subscription was bought through %(marketplace)s; change it there: %(url)s")
            % {"marketplace": marketplace, "url": url}
        )
        self.marketplace = marketplace
        self.url = url


class LastSubscriptionAdmin(DomainError):
    code = "last_subscription_admin"
    status = 409

    def __init__(self) -> None:
        super().__init__(
            _(
                "This is the last active user who can manage the subscription. Give another "
                "user that permission first."
            )
        )


class EditionChangeNotAllowed(DomainError):
    code = "permission_denied"
    status = 403

    def __init__(self) -> None:
        super().__init__(
            _("The edition is changed by customer service. Send an edition-change request.")
        )
