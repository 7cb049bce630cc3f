"""Plain results the services return; interfaces render them (Slack blocks, rich tables, JSON).
``as_dict()`` gives the JSON shape that ``--json`` prints: minutes as integers, money as strings."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bot.domain.refills import policy_of as refill_policy_of
from bot.domain.thresholds import percent_left


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class Result:
    def as_dict(self) -> dict[str, Any]:
        return _plain(asdict(self))  # type: ignore[call-overload,no-any-return]


@dataclass(frozen=True)
class BlockView(Result):
    id: int
    minutes: int
    remaining_minutes: int
    forfeited_minutes: int
    drawn_minutes: int
    start_on: date
    expires_on: date | None
    price: Decimal | None
    currency: str | None
    reference: str | None
    renew_months: int | None
    voided: bool
    expired: bool
    closing_on: date | None = None  # expired, open for late work until this day, then forfeited
    renewal_of_id: int | None = None
    number: int | None = None  # the client's own numbering: its second block is block 2
    waiting: bool = False  # bought, but starts later: not usable before start_on
    paid: bool = True  # False: sold on an invoice still to be paid (``block paid acme 3`` marks it)
    paid_at: datetime | None = None
    # where it stands in the PSA: {"state": "queued|synced|failed|none", "id": ..., "error": ...} (issue 26)
    psa: dict[str, str | None] | None = None
    source: str = "topup"  # topup | renewal | refill | recurring | psa
    period_start: date | None = None  # a recurring allotment's period
    rolled_in_minutes: int = 0  # rolled over into it from the last period, and out of it into the next
    rolled_out_minutes: int = 0

    @property
    def label(self) -> str:
        return f"Block {self.number or self.id}"


def renewal_label(months: int | None) -> str | None:
    """``12`` -> ``renews yearly``: the renewal rule as a reply or a table says it."""
    if months is None:
        return None
    named = {1: "monthly", 3: "quarterly", 12: "yearly"}
    return f"renews {named[months]}" if months in named else f"renews every {months} months"


@dataclass(frozen=True)
class EntryView(Result):
    id: int
    client: str
    user_id: str
    user_name: str
    minutes: int
    typed: str
    billable_minutes: int
    overage_minutes: int
    non_billable: bool
    work_date: date
    note: str
    ticket: str | None
    source: str
    created_at: datetime
    voided: bool
    movement: str = "entry"
    work_type: str = "standard"
    multiplier: Decimal = Decimal(1)  # in statements: entry, or void (an entry taken back, figures negated)
    recorded_on: date | None = None  # in statements: the day the movement was recorded
    psa: str | None = None  # where it stands in the PSA (synced (#1001), queued, failed: why), when connected
    psa_id: str | None = None  # the PSA's record
    started_at: datetime | None = None  # the timer's start, for an entry logged from a timer
    replaces_id: int | None = None  # an edit's entry: the entry it corrected

    @property
    def late(self) -> bool:
        """Recorded after the day the work was done: shown as "work of 15 Oct, logged 30 Nov"."""
        return self.recorded_on is not None and self.work_date < self.recorded_on


@dataclass(frozen=True)
class BalanceView(Result):
    client: str
    display_name: str
    remaining_minutes: int
    purchased_minutes: int
    used_minutes: int
    forfeited_minutes: int
    overage_minutes: int
    billed_overage_minutes: int
    current_block_minutes: int
    used_this_month_minutes: int
    archived: bool
    # Expired hours still open for late work dated inside their block; forfeited after closing_on.
    in_grace_minutes: int = 0
    # Bought in blocks that start later: held by the account, not usable before the first start date.
    waiting_minutes: int = 0
    waiting_starts_on: date | None = None
    waiting: str | None = None  # "10h waiting to start on 15 Dec 2026, 5h on 1 Jan 2027"
    blocks: list[BlockView] = field(default_factory=list)
    last_entries: list[EntryView] = field(default_factory=list)
    # usable minutes in unpaid blocks, and the part of them pay-first holds until payment
    unpaid_minutes: int = 0
    held_for_payment_minutes: int = 0
    pay_first: bool = False

    @property
    def percent_left(self) -> int | None:
        return percent_left(self.remaining_minutes, self.current_block_minutes)

    @property
    def next_expiry(self) -> date | None:
        dates = [b.expires_on for b in self.blocks if b.expires_on and b.remaining_minutes > 0 and not b.expired]
        return min(dates) if dates else None

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data["percent_left"] = self.percent_left
        data["next_expiry"] = _plain(self.next_expiry)
        return data


@dataclass(frozen=True)
class LogResult(Result):
    entry_id: int
    client: str
    display_name: str
    minutes: int
    typed: str
    billable_minutes: int
    non_billable: bool
    overage_minutes: int
    work_date: date
    note: str
    ticket: str | None
    remaining_minutes: int
    percent_left: int | None
    duplicate: bool = False
    replaces_entry_id: int | None = None
    # Minutes today's blocks paid because the blocks valid on the work date had nothing left.
    from_later_blocks_minutes: int = 0
    work_type: str = "standard"
    multiplier: Decimal = Decimal(1)
    logged_on: date | None = None  # the recorded date (client's calendar), which statement shows it
    after_hours: str | None = None  # why the after-hours work type was applied, when it was
    psa: str | None = None  # "queued for ConnectWise PSA" when a PSA is connected
    waiting_minutes: int = 0  # bought in blocks that start later (not in remaining_minutes)
    waiting: str | None = None  # "10h waiting to start on 15 Dec 2026"
    timer_minutes: int | None = None  # a timer's own time, when its owner logged another (stop 2h)
    billed_by: tuple[str, ...] = ()  # what made the billable time differ: the rate, the rounding, the minimum
    held_for_payment_minutes: int = 0  # unpaid hours pay-first kept from paying (bot.domain.payments)
    overage_so_far_minutes: int = 0  # the client's open overage after this entry (part 6)
    hold_left_minutes: int | None = None  # overage still allowed before new time is held; None: no hold
    refill: EntryRefill | None = None  # the refill this entry set off (bot.domain.refills), if it did


@dataclass(frozen=True)
class EntryRefill:
    """An entry's refill in its reply and ``--json``: the block added (``block`` its number) or, for a
    draft, the block offered to the managers (``block`` None, ``reason`` when a capped auto fell back)."""

    minutes: int
    paid: bool
    rule: str
    block: int | None = None
    action: str = "added"  # added | draft
    reason: str | None = None


@dataclass(frozen=True)
class TopUpResult(Result):
    block_id: int
    client: str
    display_name: str
    minutes: int
    expires_on: date | None
    price: Decimal | None
    currency: str | None
    reference: str | None
    carried_overage_minutes: int
    billed_overage_minutes: int
    remaining_minutes: int
    duplicate: bool = False
    renew_months: int | None = None
    starts_on: date | None = None
    waiting_minutes: int = 0  # bought in blocks that start later (not in remaining_minutes)
    waiting: str | None = None  # "10h waiting to start on 15 Dec 2026"
    block_number: int | None = None  # the client's own numbering (``void topup acme 2``); block_id is global
    paid: bool = True  # False: sold on an invoice still to be paid
    held_for_payment_minutes: int = 0  # unpaid hours pay-first keeps from use until payment

    @property
    def renewal(self) -> str | None:
        return renewal_label(self.renew_months)

    @property
    def label(self) -> str:
        """``block 2``: the block as the client's own numbering names it."""
        return f"block {self.block_number or self.block_id}"


@dataclass(frozen=True)
class RefillKept:
    """A refill block that the voided entry's logging added: kept (a sale, perhaps in the PSA already),
    and said in the void's reply so a manager can void it too (``refill_block`` in ``--json``)."""

    number: int
    minutes: int
    paid: bool


@dataclass(frozen=True)
class VoidResult(Result):
    kind: str  # entry | topup
    id: int  # the entry's id, or the block's global id
    client: str
    display_name: str
    minutes: int
    remaining_minutes: int
    number: int | None = None  # a top-up's block number, the client's own numbering (``void topup acme 2``)
    refill_block: RefillKept | None = None  # an entry's: the refill its logging added, still live

    @property
    def label(self) -> str:
        """``Entry #42`` or ``Block 2``: what was voided, as the user names it."""
        return f"Entry #{self.id}" if self.kind == "entry" else f"Block {self.number or self.id}"


@dataclass(frozen=True)
class ClientView(Result):
    id: int
    handle: str
    display_name: str
    aliases: list[str]
    account_manager: str | None
    alert_channel: str | None
    timezone: str
    archived: bool
    rounding_minutes: int
    minimum_minutes: int
    overdraft_minutes: int | None
    overage_policy: str
    thresholds: str
    alert_email: str | None = None
    alert_webhook: str | None = None
    expiry_grace_days: int = 7
    client_view: bool = False
    client_notes: bool = False
    statement_channel: str | None = None
    statement_emails: str | None = None  # "ap@acme.example,ceo@acme.example"
    work_hours: str | None = None  # "mon-fri 08:00-18:00"; None = no after-hours rule
    psa_company_id: str | None = None  # the client's company and agreement in the PSA
    psa_agreement_id: str | None = None
    psa_ticket_id: str | None = None  # the PSA ticket for time that names none
    psa_alert: str = "off"  # the follow-up a low balance opens in the PSA: activity | ticket | off
    psa_alert_default: bool = True  # psa_alert is the PSA_ALERT setting's (the client sets none of its own)
    pay_first: bool = False  # time draws only from paid blocks (then overage)
    psa_product_id: str | None = None  # the PSA product a block is sold as (issue 26)
    # a recurring allotment (issue 26): monthly | quarterly | yearly, its size, the rollover cap, the
    # latest period granted
    recurring_period: str | None = None
    recurring_minutes: int | None = None
    rollover_minutes: int | None = None
    recurring_last_start: date | None = None
    # refill policy (bot.domain.refills): notify | draft | auto, the block's size, paid, the monthly cap of
    # auto refills, and whether the next fall through the lowest threshold refills (one per run-down)
    refill_mode: str = "notify"
    refill_minutes: int | None = None
    refill_paid: bool = False
    refill_cap: int = 1
    refill_armed: bool = True
    hold_at_minutes: int | None = None  # overage hold (part 6): hold-at 2h ...
    hold_at_percent: int | None = None  # ... or hold-at 25% (of the last block)
    hold_approved_minutes: int = 0  # approved on top of the hold since the overage was last paid off
    client_approves: bool = False  # the client card lets the client's people approve more overage
    buy_offers: str | None = None  # the blocks the client may buy on its page: 10h 950.00 USD, 20h 1800.00 USD

    @property
    def refill(self) -> str:
        """The refill setting in its own words: ``refill auto 10h max 2 per month``."""
        return refill_policy_of(self.refill_mode, self.refill_minutes, self.refill_paid, self.refill_cap, True).rule


@dataclass(frozen=True)
class Message(Result):
    """A command whose answer is only words (role set, client renamed)."""

    message: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatementPreview(Result):
    """``statement acme last month``: the statement e-mail a client would get (``subject`` and ``text``, its
    plain-text part, the page's link a placeholder), its client-safe facts and lines (``statement``), and
    what ``--email`` would do: the client's ``addresses``, those ``already`` sent this month's, whether
    the month is over in the client's time zone and a mail server (``SMTP_URL``) is set."""

    client: str
    display_name: str
    period: str  # "October 2026"
    month: str  # "2026-10": how a command names it
    addresses: list[str]
    already: list[str]
    month_over: bool
    mail_server: bool
    subject: str
    text: str
    statement: dict[str, Any]


@dataclass(frozen=True)
class BalancesResult(Result):
    balances: list[BalanceView]


@dataclass(frozen=True)
class BlocksResult(Result):
    balance: BalanceView
    blocks: list[BlockView]


@dataclass(frozen=True)
class EntriesResult(Result):
    client: str
    period: str
    start: date
    end: date
    entries: list[EntryView]
    display_name: str = ""

    @property
    def billable_minutes(self) -> int:
        return sum(e.billable_minutes for e in self.entries if not e.voided)


@dataclass(frozen=True)
class ClientsResult(Result):
    clients: list[ClientView]


@dataclass(frozen=True)
class CardEntry(Result):
    work_date: date
    minutes: int  # what was deducted (0 for work not charged)
    ticket: str | None
    first_name: str
    note: str | None  # only when the client's notes are shared (client set acme client-notes on)


@dataclass(frozen=True)
class ClientCard(Result):
    """What a client may see of its own account: no prices, no policy, no other client, no sales talk."""

    client: str
    display_name: str
    remaining_minutes: int
    percent_left: int | None
    expiring: list[dict[str, Any]]  # {"minutes", "expires_on"} of current blocks that expire
    used_this_month_minutes: int
    last_entries: list[CardEntry]
    approve_minutes: int | None = None  # the client may approve this much more overage (part 6)
    approve_value: str | None = None  # the button's value (bot.services.overage.approval_value)
