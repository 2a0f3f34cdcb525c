"""Who does something, and through which channel. Every service takes one."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from abonnement.accounts.models import User


class ActorType(StrEnum):
    USER = "user"
    STAFF = "staff"
    TOKEN = "token"
    SYSTEM = "system"


class Channel(StrEnum):
    PORTAL = "portal"
    API = "api"
    BACK_OFFICE = "back_office"
    MARKETPLACE = "marketplace"
    SCHEDULED_JOB = "scheduled_job"
    CLI = "cli"


@dataclass(frozen=True)
class Actor:
    """The acting party.

    ``user`` is the person on whose behalf the change happens (an organisation token acts for
    the user who created it). ``vendor`` marks the vendor's own API calls: they act on any
    organisation and are the only ones that change a marketplace-managed subscription.
    """

    type: ActorType
    channel: Channel
    name: str
    user: User | None = None
    vendor: bool = False
    token_id: Any = None

    @classmethod
    def system(cls, name: str = "Scheduled job") -> Actor:
        return cls(type=ActorType.SYSTEM, channel=Channel.SCHEDULED_JOB, name=name)

    @classmethod
    def portal(cls, user: User) -> Actor:
        return cls(type=ActorType.USER, channel=Channel.PORTAL, name=user.display_name, user=user)

    @classmethod
    def staff(cls, user: User) -> Actor:
        return cls(
            type=ActorType.STAFF, channel=Channel.BACK_OFFICE, name=user.display_name, user=user
        )

    @classmethod
    def vendor_token(cls, name: str, token_id: Any = None) -> Actor:
        return cls(
            type=ActorType.TOKEN, channel=Channel.API, name=name, vendor=True, token_id=token_id
        )

    @classmethod
    def organization_token(cls, name: str, user: User, token_id: Any = None) -> Actor:
        return cls(
            type=ActorType.TOKEN, channel=Channel.API, name=name, user=user, token_id=token_id
        )

    @classmethod
    def cli(cls) -> Actor:
        return cls(type=ActorType.SYSTEM, channel=Channel.CLI, name="Operator (command line)")

    @property
    def is_staff(self) -> bool:
        return self.type is ActorType.STAFF

    @property
    def is_trusted(self) -> bool:
        """Vendor tokens, staff, the system and the operator's CLI act on any organisation."""
        return self.vendor or self.type in (ActorType.STAFF, ActorType.SYSTEM)
