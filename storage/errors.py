"""Storage's own errors: what the layers above map to replies, without knowing the driver."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# A commit refused by a unique key: the same row written meanwhile by another process.
Conflict = IntegrityError


class DatabaseUnavailable(Exception):
    """The database could not be reached or did not answer (a lost connection, a full pool, a server
    restarting): the transaction was rolled back, nothing of it was written. ``writing``: whether the
    request meant to change something (set by the caller that knows; a read says so in its reply)."""

    def __init__(self, detail: str, writing: bool = True) -> None:
        super().__init__(detail)
        self.writing = writing


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` is the database being out of reach (not a bug or a constraint)."""
    if isinstance(error, DatabaseUnavailable | OperationalError | InterfaceError | PoolTimeout):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


class NotHere(Exception):
    """A bare unit of work (``storage.bare``) cannot serve this; nothing was committed: run the use
    case again on a full unit of work."""
