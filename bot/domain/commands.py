"""The commands: what a line typed in Slack or the CLI asks for, as frozen values, and what is known of
each before it runs (:class:`Facts`). ``bot.domain.grammar`` declares each command once, beside its
parser, and turns text into them; the services carry them out."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

from bot.domain.dates import Period, parse_work_date
from bot.domain.roles import Role


@dataclass(frozen=True)
class Facts:
    """What is known of a command before it runs; ``bot.domain.grammar`` declares each command's.

    ``role`` is the least role that may ask: below technician, anyone Slack sends (the service decides
    what a client contact sees). The service still checks the role its rules need."""

    writes: bool  # changes what is stored: when the database is out of reach, the reply says nothing was recorded
    refreshes_home: bool = False  # moves hours: the asker's App Home is published again after the answer
    slow: bool = False  # too slow for Slack's 3 seconds: acknowledged first, answered afterwards
    role: Role = Role.TECHNICIAN


READS = Facts(writes=False)
WRITES = Facts(writes=True)
MOVES_HOURS = Facts(writes=True, refreshes_home=True)
SLOW_READ = Facts(writes=False, slow=True)


@dataclass(frozen=True)
class LogTime:
    client: str | None
    minutes: int
    typed: str
    when: str | None  # a date word as typed (``yesterday``); None = today in the client's timezone
    note: str
    non_billable: bool = False
    ticket: str | None = None
    work_type: str | None = None  # ``as onsite``; None = standard
    started_at: datetime | None = None  # a timer's start, kept on the entry it becomes
    at: time | None = None  # ``at 22:00``: the time of day the work was done (client's clock)
    moment: datetime | None = None  # when the work happened, as Slack knows it (a message's timestamp)

    def work_date(self, today: date) -> date:
        return resolve_when(self.when, today)


@dataclass(frozen=True)
class Balance:
    client: str | None
    public: bool = False


@dataclass(frozen=True)
class TopUp:
    client: str
    minutes: int
    expires_on: date | None = None
    starts_on: date | None = None
    price: Decimal | None = None
    currency: str | None = None
    reference: str | None = None
    renew_months: int | None = None
    note: str = ""
    confirmed: bool = False  # ``confirm``: an amount above BLOCKTIME_MAX_TOPUP is meant
    paid: bool = True  # ``unpaid``: sold on an invoice still to be paid (bot.domain.payments)


@dataclass(frozen=True)
class Blocks:
    client: str


@dataclass(frozen=True)
class MarkPaid:
    """``block paid acme 3``: the client's block 3 is paid (managers)."""

    client: str
    number: int


@dataclass(frozen=True)
class MarkUnpaid:
    """``block unpaid acme 3 <reason>``: a paid block is unpaid again (admins, with a reason)."""

    client: str
    number: int
    reason: str


@dataclass(frozen=True)
class Entries:
    client: str
    period: Period


@dataclass(frozen=True)
class VoidEntry:
    entry_id: int
    reason: str = ""


@dataclass(frozen=True)
class VoidTopUp:
    block_id: int  # the block's id; with ``client``, the client's own block number
    reason: str = ""
    client: str | None = None


@dataclass(frozen=True)
class EditEntry:
    """A correction: what it names changes, everything else is kept (``None`` = keep)."""

    entry_id: int
    minutes: int
    typed: str
    when: str | None  # None = keep the entry's work date
    note: str | None
    non_billable: bool | None = None
    work_type: str | None = None  # None = keep the entry's work type


@dataclass(frozen=True)
class ClientAdd:
    handle: str
    name: str


@dataclass(frozen=True)
class ClientAlias:
    handle: str
    alias: str


@dataclass(frozen=True)
class ClientRename:
    handle: str
    name: str


@dataclass(frozen=True)
class ClientArchive:
    handle: str
    archived: bool = True


@dataclass(frozen=True)
class ClientSet:
    """Validated settings: keys are the storage field names, values already normalised."""

    handle: str
    changes: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ClientShow:
    handle: str


@dataclass(frozen=True)
class ClientList:
    include_archived: bool = False


@dataclass(frozen=True)
class SetRole:
    user: str
    role: Role


@dataclass(frozen=True)
class Link:
    client: str | None  # None = unlink
    public_replies: bool | None = None  # ``replies public|private``; None = leave as it is


@dataclass(frozen=True)
class Snooze:
    client: str
    days: int = 7


@dataclass(frozen=True)
class ApproveOverage:
    """``approve acme 2h``: an account manager lifts the client's overage hold by ``minutes``."""

    client: str
    minutes: int


@dataclass(frozen=True)
class Report:
    client: str | None  # None = every client (one CSV for invoicing)
    period: Period


@dataclass(frozen=True)
class Insights:
    pass


@dataclass(frozen=True)
class Help:
    topic: str = ""


@dataclass(frozen=True)
class TimerStart:
    client: str | None  # None: the linked channel's client
    note: str = ""
    work_type: str | None = None


@dataclass(frozen=True)
class TimerStop:
    note: str | None = None  # None: the note given at start
    minutes: int | None = None  # the real duration, for a timer left running
    keep: bool = False  # a long timer's time is right as it ran
    started_at: datetime | None = None  # from a button: only the timer that started then


@dataclass(frozen=True)
class TimerShow:
    pass


@dataclass(frozen=True)
class TimerDiscard:
    started_at: datetime | None = None  # from a button: only the timer that started then


@dataclass(frozen=True)
class NudgesSet:
    on: bool  # /blocktime nudges on|off: DMs about ticket threads without time


@dataclass(frozen=True)
class WorkTypeAdd:
    name: str
    multiplier: Decimal


@dataclass(frozen=True)
class WorkTypeList:
    include_archived: bool = False


@dataclass(frozen=True)
class WorkTypeArchive:
    name: str


@dataclass(frozen=True)
class ShareCreate:
    """``share acme [90d]``: a private page link for the client (managers); ``days`` None = the default."""

    client: str
    days: int | None = None


@dataclass(frozen=True)
class ShareList:
    """``share list``: every client's live links (never their tokens)."""


@dataclass(frozen=True)
class ShareRevoke:
    """``share revoke acme [id]``: one link, or every link of the client (``link_id`` None)."""

    client: str
    link_id: int | None = None


@dataclass(frozen=True)
class EmailStatement:
    """``statement acme last month --email``: the client-safe statement of one month that is over, e-mailed
    now to the client's statement addresses (managers); each address gets a month's statement once."""

    client: str
    period: Period


@dataclass(frozen=True)
class PreviewStatement:
    """``statement acme last month``: the client-safe statement of one month as its e-mail would carry
    it, shown only to the manager who asks; nothing is sent or written."""

    client: str
    period: Period


Command = (
    LogTime
    | Balance
    | TopUp
    | Blocks
    | Entries
    | VoidEntry
    | VoidTopUp
    | EditEntry
    | ClientAdd
    | ClientAlias
    | ClientRename
    | ClientArchive
    | ClientSet
    | ClientShow
    | ClientList
    | SetRole
    | Link
    | Snooze
    | Report
    | Insights
    | Help
    | WorkTypeAdd
    | WorkTypeList
    | WorkTypeArchive
    | TimerStart
    | TimerStop
    | TimerShow
    | TimerDiscard
    | NudgesSet
    | MarkPaid
    | MarkUnpaid
    | ApproveOverage
    | ShareCreate
    | ShareList
    | ShareRevoke
    | EmailStatement
    | PreviewStatement
)


def resolve_when(when: str | None, today: date) -> date:
    """The work date for a date word checked at parse time, against the client's own today."""
    if when is None:
        return today
    day = parse_work_date(when, today)
    assert day is not None  # the parser only keeps words that name a date
    return day


def fingerprint(command: Command) -> str:
    """What a request asked for (its parsed command), so a request id reused for another is refused."""
    return hashlib.sha256(repr(command).encode()).hexdigest()
