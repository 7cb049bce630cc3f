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


class OutOfHours(Refused):
    """An entry refused because the client has no hours left for it (its overdraft limit): a client on a
    refill policy is told to its managers (``bot.services.refills.tell_out_of_hours``)."""

    def __init__(
        self,
        message: str,
        example: str | None = None,
        *,
        client_id: int,
        minutes: int,
        left: int,
        refill_mode: str | None = None,
    ) -> None:
        super().__init__(message, example)
        self.client_id = client_id
        self.minutes = minutes
        self.left = left
        self.refill_mode = refill_mode  # the client's (None: notify, nothing to tell)
