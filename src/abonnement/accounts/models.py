from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models


class Permission(models.TextChoices):
    MANAGE_SUBSCRIPTION = "manage_subscription", "Edit settings and manage subscription & features"
    MANAGE_USERS = "manage_users", "Manage users"


class StaffRole(models.TextChoices):
    NONE = "", "None"
    SUPPORT = "support", "Support"
    BILLING = "billing", "Billing"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("staff_role", StaffRole.BILLING)
        extra.setdefault("name", email)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A customer user (with an organisation) or a vendor staff member (without one)."""

    email = models.EmailField(unique=True)
    name = models.CharField(max_length=200)
    organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    is_active = models.BooleanField(default=True)
    manage_subscription = models.BooleanField(default=False)
    manage_users = models.BooleanField(default=False)
    is_staff = models.BooleanField(default=False)
    staff_role = models.CharField(
        max_length=10, choices=StaffRole.choices, blank=True, default=StaffRole.NONE
    )
    language = models.CharField(max_length=5, blank=True, default="")
    date_joined = models.DateTimeField(auto_now_add=True)
    # When the latest invitation (a link to choose a password) was sent; null if never.
    # ``last_login`` (Django's) is the last sign-in, written from the business clock.
    invited_at = models.DateTimeField(null=True, blank=True)
    # Part of every session's auth hash: raising it ends all the user's sessions at once
    # (deactivation, password change or reset) without finding them in the session store.
    session_generation = models.PositiveIntegerField(default=0)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        ordering = ["name", "email"]
        indexes = [models.Index(fields=["organization", "is_active"], name="user_org_active")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(organization__isnull=True) | models.Q(is_staff=False),
                name="staff_has_no_organization",
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Django's hash of the password, salted with the session generation as well."""
        from django.utils.crypto import salted_hmac

        return salted_hmac(
            "abonnement.accounts.User.session_auth_hash",
            f"{self.password}:{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    @property
    def display_name(self) -> str:
        return self.name or self.email

    @property
    def permissions(self) -> list[str]:
        result = []
        if self.manage_subscription:
            result.append(Permission.MANAGE_SUBSCRIPTION.value)
        if self.manage_users:
            result.append(Permission.MANAGE_USERS.value)
        return result


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, the token is shown once."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    token_hash = models.CharField(max_length=64, unique=True)
    vendor = models.BooleanField(default=False)
    organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens"
    )
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(vendor=True, organization__isnull=True)
                | models.Q(vendor=False, organization__isnull=False, user__isnull=False),
                name="token_vendor_or_organization",
            )
        ]


class SignInFailures(models.Model):
    """Failed sign-ins in the current window, per account or client address (a hash of it).

    Counted in the database, with one atomic upsert per failure, so every web process and
    machine counts against the same limit and no two failures are counted as one.
    """

    key = models.CharField(max_length=80, primary_key=True)
    failures = models.PositiveIntegerField()
    window_ends = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.key}: {self.failures} until {self.window_ends:%Y-%m-%d %H:%M}"


class PortalSession(models.Model):
    """A single-use link the vendor's product makes to send a signed-in user into the portal.

    Only the SHA-256 of the secret is stored; the link is the secret. Redeeming it marks
    ``used_at`` in one conditional UPDATE, so of two parallel redemptions exactly one wins.
    """

    token_hash = models.CharField(max_length=64, unique=True)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="portal_sessions"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="portal_sessions")
    section = models.CharField(max_length=20, default="overview")
    language = models.CharField(max_length=5, blank=True, default="")
    return_url = models.CharField(max_length=2000, blank=True, default="")
    created_by = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"portal session for {self.user_id} until {self.expires_at:%Y-%m-%d %H:%M}"


class StaffChange(models.Model):
    """The history of the staff accounts (``abonnement staff``): who changed which account,
    when and how. Staff have no organisation, so these entries cannot go into an
    organisation's history; like it, this table is only ever appended to."""

    class Action(models.TextChoices):
        CREATED = "created", "Created and invited"
        DEACTIVATED = "deactivated", "Deactivated, sessions ended"
        MFA_RESET = "mfa_reset", "Authenticator removed, sessions ended"

    at = models.DateTimeField()
    actor_name = models.CharField(max_length=200)
    channel = models.CharField(max_length=20)
    action = models.CharField(max_length=20, choices=Action.choices)
    account = models.ForeignKey(User, on_delete=models.PROTECT, related_name="staff_changes")
    after = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.account_id}"
