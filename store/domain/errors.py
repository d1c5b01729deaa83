"""Domain errors. Surfaces map these to friendly replies in one place each."""

from __future__ import annotations


class DomainError(Exception):
    """A rule said no. The message is written for the person who asked."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class NotFound(DomainError):
    pass


class Invalid(DomainError):
    pass


class Forbidden(DomainError):
    pass


class Conflict(DomainError):
    pass
