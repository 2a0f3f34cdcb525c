"""One error family for every business refusal.

Every interface (API handler, portal view, CLI) renders a ``DomainError`` the same way:
``code`` is the machine-readable code of API.md, ``message`` is translatable text for people,
``errors`` carries per-field messages for ``validation_error``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    code: str = "domain_error"
    status: int = 409

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        errors: list[FieldError] | None = None,
    ) -> None:
        super().__init__(str(message))
        self.message = str(message)
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.errors = list(errors or [])


class ValidationFailed(DomainError):
    code = "validation_error"
    status = 422

    def __init__(self, errors: list[FieldError], message: str = "") -> None:
        from django.utils.translation import gettext

        super().__init__(message or gettext("Some fields are not valid."), errors=errors)

    @classmethod
    def single(cls, field: str, message: str) -> ValidationFailed:
        return cls([FieldError(field, str(message))])

    def for_field(self, field: str) -> list[str]:
        return [e.message for e in self.errors if e.field == field]


class NotFound(DomainError):
    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    code = "permission_denied"
    status = 403


class FieldErrors:
    """Collects field errors so a service can report all of them at once."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append(FieldError(field, str(message)))

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)
