"""The outbox's notices as typed facts: one frozen dataclass per kind, stored in the outbox as JSON
(``to_json``: a ``kind`` and the facts' keys) and read back by the dispatcher (``notice_from_json``).

A notice is phrased by ``bot.phrasebook`` (its one line, its e-mail) and laid out for Slack by
``handlers.views.outbox``, each chosen by the notice's type. Rows queued before a fact was added read
it as its default (the phrase then says less), so every row in an outbox still delivers. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from typing import Any, ClassVar, Self, TypeVar

Part = TypeVar("Part")


def _plain(value: Any) -> Any:
    """A fact as JSON holds it: a part (a digest's line, a late entry) as an object, a tuple as a list."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _known(cls: type[Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of ``data`` that ``cls`` has a field for (a row's ``kind`` is its type's)."""
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def _parts(cls: type[Part], rows: Iterable[Mapping[str, Any]] | None) -> tuple[Part, ...]:
    return tuple(cls(**_known(cls, row)) for row in rows or ())


def _pairs(rows: Iterable[Any] | None) -> tuple[tuple[str, int], ...]:
    return tuple((str(name), int(minutes)) for name, minutes in rows or ())


@dataclass(frozen=True, kw_only=True)
class Notice:
    """What happened, in facts a phrase can say in any medium. ``kind`` names it in the outbox."""

    kind: ClassVar[str]
    left_out: ClassVar[frozenset[str]] = frozenset()  # fields whose None is written as no key at all

    @classmethod
    def event(cls) -> str:
        """The event a webhook receiver is told of."""
        return f"blocktime.{cls.kind}"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        for f in fields(self):
            value = getattr(self, f.name)
            if not (value is None and f.name in self.left_out):
                data[f.name] = _plain(value)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(**_known(cls, data))


@dataclass(frozen=True, kw_only=True)
class ThresholdCrossed(Notice):
    """A client's balance crossed one of its thresholds: low, used up or overdrawn."""

    kind = "threshold"
    # a refill's facts (``bot.domain.refills``), absent from an alert without one
    left_out = frozenset(
        {"refill", "refill_minutes", "refill_paid", "refill_rule", "refill_reason", "refill_block", "refill_line"}
    )
    client: str
    display_name: str | None = None
    account_manager: str | None = None
    remaining_minutes: int
    overdraft_minutes: int | None = None  # None: no limit
    overdraft_known: bool = True  # alerts queued before they carried the client's overdraft say nothing of it
    percent_left: int | None = None
    block_minutes: int | None = None
    used_30d_minutes: int
    burn_per_day_minutes: str | None = None  # minutes a day, as a decimal string
    run_out_on: str | None = None
    next_expiry: str | None = None
    threshold: str
    level_minutes: int | None = None
    before_minutes: int | None = None
    at: str | None = None
    refill: str | None = None  # "added" (auto) | "draft" (a ready block for a manager's click)
    refill_minutes: int | None = None
    refill_paid: bool | None = None
    refill_rule: str | None = None  # "refill auto 10h": the setting that decided it
    refill_reason: str | None = None  # why an auto refill is only a draft (its monthly cap)
    refill_block: int | None = None  # the added block's number (the client's own numbering)
    refill_line: int | None = None  # the crossing's ledger line: a draft's confirmation is keyed on it

    @classmethod
    def event(cls) -> str:
        return "blocktime.threshold_crossed"

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        del data["overdraft_known"]
        if not self.overdraft_known:
            del data["overdraft_minutes"]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(**{**_known(cls, data), "overdraft_known": "overdraft_minutes" in data})


@dataclass(frozen=True, kw_only=True)
class BlockForfeited(Notice):
    """Unused hours of a block forfeited: it expired (its grace period over), or by policy."""

    kind = "expiry"
    client: str
    display_name: str | None = None
    account_manager: str | None = None
    block_id: int
    block_number: int | None = None
    block_minutes: int
    forfeited_minutes: int
    expires_on: str
    reason: str | None = None
    remaining_minutes: int
    reference: str | None = None
    # a recurring period's block: what of its unused hours rolled into the next period's block (number)
    rolled_over_minutes: int = 0
    rolled_into_block: int | None = None


@dataclass(frozen=True, kw_only=True)
class BlockRenewed(Notice):
    """A block renewed by its renewal rule: a new block of the same size."""

    kind = "renewal"
    left_out = frozenset({"paid"})  # a renewal of a paid block says nothing of payment, as before issue 26
    client: str
    display_name: str | None = None
    block_id: int
    block_number: int | None = None
    minutes: int
    start_on: str
    expires_on: str | None = None
    remaining_minutes: int
    account_manager: str | None = None
    paid: bool | None = None  # False: the renewal of an unpaid block, unpaid, its invoice to follow


@dataclass(frozen=True, kw_only=True)
class DigestClient:
    """A client in the digest's overdrawn list."""

    client: str | None = None
    display_name: str
    remaining_minutes: int


@dataclass(frozen=True, kw_only=True)
class LowClient(DigestClient):
    """A client at or under its lowest threshold above zero (``threshold``: that threshold's label)."""

    threshold: str | None = None


@dataclass(frozen=True, kw_only=True)
class ExpiringBlock(DigestClient):
    """A block with unused hours expiring soon (``remaining_minutes``: the block's)."""

    expires_on: str
    block_id: int | None = None
    block_number: int | None = None


@dataclass(frozen=True, kw_only=True)
class UnpaidBlock(DigestClient):
    """A block sold on an invoice not yet paid (``remaining_minutes``: the block's), with Mark paid."""

    block_id: int
    block_number: int | None = None
    minutes: int
    reference: str | None = None


@dataclass(frozen=True, kw_only=True)
class PsaFailure:
    """An entry the PSA refused, with the PSA's own words."""

    entry_id: int
    client: str
    user_name: str
    minutes: int
    work_date: str
    error: str


@dataclass(frozen=True, kw_only=True)
class PsaBlockFailure:
    """A block the PSA refused (its write, or its void's), with the PSA's own words (issue 26)."""

    block_id: int
    block_number: int | None
    client: str
    minutes: int
    voided: bool
    error: str


@dataclass(frozen=True, kw_only=True)
class PsaFailures:
    """The entries that did not reach the PSA (``failed``: the first of them, ``failed_count``: all),
    and the blocks (``failed_blocks``, ``failed_block_count``)."""

    name: str
    failed_count: int
    failed: tuple[PsaFailure, ...] = ()
    failed_block_count: int = 0
    failed_blocks: tuple[PsaBlockFailure, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Digest(Notice):
    """The managers' daily digest: low, overdrawn, expiring soon, and what the PSA refused."""

    kind = "digest"
    left_out = frozenset({"psa", "unpaid"})  # no PSA connected, no unpaid block: no key
    date: str
    low: tuple[LowClient, ...] = ()
    overdrawn: tuple[DigestClient, ...] = ()
    expiring: tuple[ExpiringBlock, ...] = ()
    psa: PsaFailures | None = None
    unpaid: tuple[UnpaidBlock, ...] | None = None  # blocks waiting for payment (issue 26), Mark paid on each

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        psa = data.get("psa")
        return cls(
            date=data["date"],
            low=_parts(LowClient, data["low"]),
            overdrawn=_parts(DigestClient, data["overdrawn"]),
            expiring=_parts(ExpiringBlock, data["expiring"]),
            psa=None
            if psa is None
            else PsaFailures(
                name=psa["name"],
                failed_count=psa["failed_count"],
                failed=_parts(PsaFailure, psa.get("failed")),
                failed_block_count=psa.get("failed_block_count", 0),
                failed_blocks=_parts(PsaBlockFailure, psa.get("failed_blocks")),
            ),
            unpaid=_parts(UnpaidBlock, data["unpaid"]) if data.get("unpaid") else None,
        )


@dataclass(frozen=True, kw_only=True)
class LateEntry:
    """Late work in a statement, with what became of it by the period's end."""

    entry_id: int
    work_date: str
    recorded_on: str
    minutes: int
    voided: bool = False
    replaced_by: int | None = None
    replaces: int | None = None


@dataclass(frozen=True, kw_only=True)
class GraceBlock:
    """An expired block whose hours are, on ``as_of``, still in their grace period."""

    as_of: str
    block_id: int
    block_number: int | None = None
    minutes: int
    expires_on: str
    closing_on: str


@dataclass(frozen=True, kw_only=True)
class Statement(Notice):
    """An account statement: opening + bought − used − forfeited + overage billed = closing.
    Statements queued before they carried the period's bounds (``start``, ``end``) or the later
    figures read them as none."""

    kind = "statement"
    client: str
    display_name: str
    account_manager: str | None = None
    period: str
    start: str | None = None
    end: str | None = None
    opening_minutes: int
    bought_minutes: int
    used_minutes: int
    forfeited_minutes: int
    overage_billed_minutes: int = 0
    closing_minutes: int | None = None  # None in the oldest: ``remaining_minutes`` is the closing balance
    remaining_minutes: int
    non_billable_minutes: int
    overage_minutes: int
    late_minutes: int = 0
    by_technician: tuple[tuple[str, int], ...]
    by_ticket: tuple[tuple[str, int], ...]
    by_work_type: tuple[tuple[str, int], ...] = ()
    entry_count: int = 0
    correction_count: int = 0
    late: tuple[LateEntry, ...] = ()
    in_grace: tuple[GraceBlock, ...] = ()
    unpaid_minutes: int = 0  # of the closing balance, hours in unpaid blocks (as of when it was taken)
    held_for_payment_minutes: int = 0  # of those, what pay-first holds until the invoice is paid
    rolled_over_minutes: int = 0  # a recurring allotment's hours carried into the next period

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        known = _known(cls, data)
        known.update(
            by_technician=_pairs(data["by_technician"]),
            by_ticket=_pairs(data["by_ticket"]),
            by_work_type=_pairs(data.get("by_work_type")),
            late=_parts(LateEntry, data.get("late")),
            in_grace=_parts(GraceBlock, data.get("in_grace")),
        )
        return cls(**known)


@dataclass(frozen=True, kw_only=True)
class ClientStatement(Statement):
    """The statement a client may read, in its own channel: technicians by first name, no account
    manager."""

    kind = "client_statement"
    left_out = frozenset({"account_manager"})


@dataclass(frozen=True, kw_only=True)
class StatementLine:
    """A line of a client's statement e-mail, as the client's page shows it: an entry recorded in the
    month, or one taken back (``correction``, minutes negative); the technician by first name, the note
    only with ``client-notes on``."""

    recorded_on: str
    work_date: str
    technician: str
    minutes: int
    ticket: str | None = None
    note: str | None = None
    correction: bool = False
    non_billable: bool = False


@dataclass(frozen=True, kw_only=True)
class StatementEmail(ClientStatement):
    """The client-safe statement e-mailed to one of the client's statement addresses (issue 27), with
    its lines (at most ``bot.services.statement_mail.MOST_LINES``; ``more_lines``: those left out):
    ``link_id`` is the private page link minted for this e-mail (None: no page, BLOCKTIME_PUBLIC_URL
    unset); the link's token is never a fact (``bot.services.statement_mail``)."""

    kind = "statement_email"
    left_out = frozenset({"account_manager", "link_id"})
    address: str
    link_id: int | None = None
    lines: tuple[StatementLine, ...] = ()
    more_lines: int = 0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return replace(super().from_json(data), lines=_parts(StatementLine, data.get("lines")))


@dataclass(frozen=True, kw_only=True)
class StatementBounced(Notice):
    """A statement e-mail the client's mail server refused for good (a 5xx): the managers are told,
    never the client's channel, so someone can fix the address. ``sending``: our own mail server refused
    to send it at all (a 5xx at MAIL FROM or at sign-in), a problem of our settings, not of the address."""

    kind = "statement_bounced"
    left_out = frozenset({"sending"})  # a bounce says nothing of it (as rows stored before it was known)
    client: str
    display_name: str | None = None
    account_manager: str | None = None
    period: str  # "November 2026"
    month: str  # "2026-11": how a command names it
    address: str
    error: str
    sending: bool | None = None  # True: our mail server refused to send it; else a bounce


@dataclass(frozen=True, kw_only=True)
class NudgeThread:
    """A ticket thread a staff member replied in without logging time."""

    client: str
    display_name: str
    channel: str
    thread_ts: str
    started: str


@dataclass(frozen=True, kw_only=True)
class Nudge(Notice):
    """A staff member's reminder of the threads they replied in today and logged no time for."""

    kind = "nudge"
    user: str | None = None
    date: str
    count: int
    threads: tuple[NudgeThread, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Self:
        return cls(**{**_known(cls, data), "threads": _parts(NudgeThread, data["threads"])})


@dataclass(frozen=True, kw_only=True)
class TimerCheck(Notice):
    """A timer that ran past the limit asks its owner before it is logged."""

    kind = "timer_check"
    user: str | None = None
    client: str | None = None
    display_name: str
    minutes: int
    since: str
    started_at: str


@dataclass(frozen=True, kw_only=True)
class FollowupRefused(Notice):
    """The PSA refused the follow-up a low balance opens there (issue 26, part 5), in its own words;
    managers see it at once, where the alert went."""

    kind = "psa_followup_failed"
    client: str
    display_name: str | None = None
    account_manager: str | None = None
    psa: str  # the PSA, as blocktime names it ("ConnectWise PSA")
    followup: str  # activity | ticket
    error: str


@dataclass(frozen=True, kw_only=True)
class RefillFailed(Notice):
    """A client's refill could not run (issue 26, part 3): an entry that would have called for it was
    refused by the overdraft rule (nothing was written, so no crossing). Managers see it where the
    alerts go, once a day per client."""

    kind = "refill_failed"
    client: str
    display_name: str | None = None
    account_manager: str | None = None
    rule: str  # "refill auto 10h"
    reason: str
    remaining_minutes: int
    at: str | None = None


@dataclass(frozen=True, kw_only=True)
class PurchasePaid(Notice):
    """A block bought on the client's page and paid through Stripe (issue 27): added as a paid block;
    the managers hear of it where the alerts go."""

    kind = "purchase_paid"
    client: str
    display_name: str | None = None
    account_manager: str | None = None
    minutes: int
    amount: str  # "950.00"
    currency: str
    reference: str  # our purchase reference
    block_number: int | None = None
    remaining_minutes: int | None = None


@dataclass(frozen=True, kw_only=True)
class PurchaseTrouble(Notice):
    """What Stripe said of a purchase that the managers must see (issue 27): a payment that failed, a
    refund, a dispute, or a paid event refused because it disagreed with our purchase. Hours are never
    taken back by it: the words say what to do."""

    kind = "purchase_trouble"
    client: str | None = None
    display_name: str | None = None
    account_manager: str | None = None
    trouble: str  # payment failed | refunded | partly refunded | refund updated | disputed | refused | paid late
    news: str  # in Stripe's facts: "refunded: 950.00 USD"
    reference: str | None = None
    minutes: int | None = None
    amount: str | None = None
    currency: str | None = None
    block_number: int | None = None


NOTICES: tuple[type[Notice], ...] = (
    ThresholdCrossed,
    BlockForfeited,
    BlockRenewed,
    Digest,
    Statement,
    ClientStatement,
    StatementEmail,
    StatementBounced,
    Nudge,
    TimerCheck,
    FollowupRefused,
    RefillFailed,
    PurchasePaid,
    PurchaseTrouble,
)
BY_KIND: dict[str, type[Notice]] = {notice.kind: notice for notice in NOTICES}


def notice_from_json(data: Mapping[str, Any]) -> Notice:
    """The notice an outbox row's facts hold, by their ``kind``."""
    return BY_KIND[data["kind"]].from_json(data)
