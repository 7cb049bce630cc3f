"""Errors a user can cause: each carries a friendly message that says what was wrong and, where it
helps, a correct example. Interfaces (Slack, CLI) show ``str(error)`` as it is."""

from __future__ import annotations


class DomainError(Exception):
    """A refused request. Nothing was written."""

    def __init__(self, message: str, example: str | None = None) -> None:
        self.message = message
        self.example = example
        super().__init__(message if example is None else f"{message}\nExample: {example}")


class ParseError(DomainError):
    """The text of a command could not be understood."""


class NotFound(DomainError):
    """A client, entry or block that does not exist."""


class PermissionDenied(DomainError):
    """The actor's role does not allow the action."""


class Refused(DomainError):
    """A well-formed request that the ledger's rules do not allow (no hours left, too late to void)."""


class NeedsConfirmation(Refused):
    """Allowed, but unusual enough to be said twice (a top-up above BLOCKTIME_MAX_TOPUP)."""
