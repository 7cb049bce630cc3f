"""Random histories against a small reference model written here, independently of the product's code
(lists and sums): top-ups with and without expiry, renewing ones, blocks that start later, entries
typed with their words (duration, date, ``as <type>``, ``--nb``, note) in any order and with random work
dates (late, back-dated, across month ends), voids, edits (late ones across a block's closing
included), expiries with grace, overage carried and billed, the grace period and the client's time
zone changed between writes, a recurring allotment (monthly or quarterly, set, changed, turned off
and on) whose closed periods roll over into the next up to the cap, the rest forfeited,
automatic refills (``refill auto``: a block added by the entry that falls through the lowest
threshold, at most ``max`` a calendar month in the client's zone), and unpaid top-ups, blocks marked
paid and unpaid again, and pay-first turned on and off (issue 26: under pay-first only paid blocks
pay, and their unpaid hours are held apart; an unpaid block renews unpaid), and the overage hold
(``hold-at 2h``, ``hold-at 25%`` of the last block, ``hold-at none``, ``approve acme 1h``): an entry that
would take the open overage past the hold and what was approved since the overage was last paid off is
refused, nothing written.

After every step the product's balance figures equal the model's; at the end, for every month, the
statement reconciles (opening + bought - used - forfeited + overage billed = closing), opens where the
last one closed, counts each entry and each correction exactly once, and a month's statement taken once
the month was over is unchanged. On SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain.dates import parse_period
from bot.domain.errors import DomainError
from bot.jobs.tasks import renewal
from bot.services import Actor, Context
from bot.services.allotments import renew_allotments
from bot.services.hours import expire_blocks
from bot.services.reports import entry_movements, statement_facts
from storage.db import Database
from storage.models import Block, Client
from tests.conftest import NOW, FreshDatabases
from tests.helpers import balance_of, do

GRACE = 7
ROUNDING = 15
ONSITE = (3, 2)  # ``worktype add onsite 1.5``: worked minutes x 3/2, a begun minute counts
ZONES = ("UTC", "Pacific/Auckland", "America/Los_Angeles", "Asia/Tokyo")  # at 15:00 UTC: +1 day, same, +1 (00:00)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it has no such day."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    for candidate in range(day.day, 27, -1):
        try:
            return date(year, month + 1, candidate)
        except ValueError:
            continue
    return date(year, month + 1, day.day)


@dataclass
class MBlock:
    id: int
    size: int
    left: int
    start: date
    expires: date | None
    renew: int | None = None
    renewed: bool = False
    period_start: date | None = None  # a recurring allotment's period
    rolled_in: int = 0
    paid: bool = True


@dataclass
class MEntry:
    work_date: date
    billable: int
    non_billable: bool
    onsite: bool = False
    draws: dict[int, int] = field(default_factory=dict)
    open_over: int = 0
    billed: int = 0
    voided: bool = False


class Refused(Exception):
    pass


@dataclass
class Model:
    """The rules of issue 13 as plainly as they can be written."""

    today: date
    policy: str = "carry"
    overdraft: int | None = 120
    blocks: list[MBlock] = field(default_factory=list)
    entries: dict[int, MEntry] = field(default_factory=dict)
    open_over: int = 0
    forfeited: int = 0
    grace: int = GRACE
    allot: tuple[int, int, int] | None = None  # recurring allotment: (months, minutes, rollover cap)
    last_start: date | None = None
    refill: tuple[int, int] | None = None  # ``refill auto``: (minutes, a month's cap); None: notify
    refills: list[datetime] = field(default_factory=list)  # when each refill was added
    refill_id: int = 0  # the product's id of the refill block a step added, if it added one
    now: datetime = NOW
    zone: str = "UTC"

    REFILL_LEVEL = 60  # the story's thresholds: 1h,0 (the lowest above zero)
    pay_first: bool = False
    hold: tuple[str, int] | None = None  # ``hold-at``: ("m", minutes) or ("%", percent of the last block)
    approved: int = 0  # ``approve``: overage allowed on top of the hold until the overage is paid off

    def hold_allows(self) -> int:
        """How much open overage the hold allows now: its limit (a percentage of the size of the newest
        block, rounded down) and what was approved since the overage was last paid off."""
        assert self.hold is not None
        unit, value = self.hold
        newest = max(self.blocks, key=lambda b: b.id).size if self.blocks else 0
        return (value if unit == "m" else newest * value // 100) + self.approved

    def approve(self, minutes: int) -> None:
        if self.hold is None:  # no hold, nothing to approve
            raise Refused
        self.approved += minutes

    def drawable(self, b: MBlock) -> bool:
        """Under pay-first only a paid block pays for work; otherwise any block does."""
        return b.paid or not self.pay_first

    def unpaid(self) -> int:
        """Minutes left in current unpaid blocks (shown apart, held for payment under pay-first)."""
        return sum(b.left for b in self.blocks if self.current(b) and not b.paid)

    def mark(self, block_id: int, paid: bool) -> None:
        """``block paid`` / ``block unpaid``: a block marked paid pays off open overage under carry."""
        block = next(b for b in self.blocks if b.id == block_id)
        if block.paid == paid:
            return
        self.carry_to_started()
        block.paid = paid
        if paid:
            self.carry_to_started()

    def closed(self, b: MBlock) -> bool:
        return b.expires is not None and self.today > b.expires + timedelta(days=self.grace)

    def expired(self, b: MBlock) -> bool:
        return b.expires is not None and self.today > b.expires

    def current(self, b: MBlock) -> bool:
        """Usable today: started, and not expired (a block that starts later is bought, not usable)."""
        return b.start <= self.today and not self.expired(b)

    def carry_to_started(self) -> None:
        """Every write: under carry, open overage is paid off by a block once one is usable (a block
        bought to start later pays it from its start day)."""
        if self.policy == "carry" and self.open_over and any(self.current(b) and b.left for b in self.drawing()):
            self.settle()

    def expire(self) -> None:
        for b in self.blocks:
            if self.closed(b) and b.left:
                self.forfeited += b.left
                b.left = 0

    def drawing(self) -> list[MBlock]:
        return [b for b in self.blocks if self.drawable(b)]

    def usable(self) -> int:
        return sum(b.left for b in self.drawing() if self.current(b)) - self.open_over

    def account(self) -> int:
        return sum(b.left for b in self.blocks) - self.open_over

    @staticmethod
    def fifo(blocks: list[MBlock]) -> list[MBlock]:
        return sorted(blocks, key=lambda b: (b.expires is None, b.expires or date.max, b.start, b.id))

    def plan(self, minutes: int, work_date: date) -> tuple[dict[int, int], int]:
        open_blocks = [b for b in self.drawing() if b.left and not self.closed(b)]
        valid = [b for b in open_blocks if b.start <= work_date and (b.expires is None or work_date <= b.expires)]
        today = [b for b in open_blocks if b not in valid and b.start <= self.today and self.current(b)]
        draws: dict[int, int] = {}
        left = minutes
        for b in self.fifo(valid) + self.fifo(today):
            take = min(left, b.left)
            if take:
                draws[b.id] = draws.get(b.id, 0) + take
                left -= take
        return draws, left

    def take(self, entry: MEntry, draws: dict[int, int]) -> None:
        by_id = {b.id: b for b in self.blocks}
        for block_id, minutes in draws.items():
            by_id[block_id].left -= minutes
            entry.draws[block_id] = entry.draws.get(block_id, 0) + minutes

    def log(
        self,
        entry_id: int | None,
        minutes: int,
        work_date: date,
        non_billable: bool,
        kept: dict[int, int] | None = None,
        onsite: bool = False,
    ) -> MEntry:
        worked = -(-minutes * ONSITE[0] // ONSITE[1]) if onsite else minutes
        billable = 0 if non_billable else -(-worked // ROUNDING) * ROUNDING
        first: dict[int, int] = {}
        for block_id, had in (kept or {}).items():  # a correction keeps what closed blocks paid first
            first[block_id] = min(had, billable - sum(first.values()))
        draws, over = self.plan(billable - sum(first.values()), work_date)
        current = {b.id for b in self.drawing() if self.current(b)}
        after = self.usable() - sum(m for i, m in draws.items() if i in current) - over
        if over and self.overdraft is not None and after < -self.overdraft:
            raise Refused
        if over and self.hold is not None and self.open_over + over > self.hold_allows():
            raise Refused  # past the hold: new time waits for an approval
        before = self.usable()
        entry = MEntry(work_date, billable, non_billable, onsite, open_over=over)
        by_id = {b.id: b for b in self.blocks}
        for block_id, m in first.items():
            if self.closed(by_id[block_id]):
                self.forfeited -= m  # the void forfeited them; drawn again, they are not
            else:
                by_id[block_id].left -= m  # a block work may not draw from now (unpaid under pay-first)
        entry.draws.update({i: m for i, m in first.items() if m})
        self.take(entry, draws)
        self.open_over += over
        if entry_id is not None:
            self.entries[entry_id] = entry
        self.refill_after(before)
        return entry

    def refill_after(self, before: int) -> None:
        """An entry that took the usable balance from above the refill level to at or under it adds the
        refill block (once: a crossing starts above the level), unless this month's cap is reached; the
        block pays off the open overage by the client's policy, the new entry's included."""
        if self.refill is None or not self.usable() <= self.REFILL_LEVEL < before:
            return
        minutes, cap = self.refill
        zone = ZoneInfo(self.zone)
        month_began = datetime.combine(self.now.astimezone(zone).date().replace(day=1), time.min, zone)
        if sum(1 for at in self.refills if at >= month_began) >= cap:  # a calendar month in the client's zone
            return
        if self.pay_first and self.unpaid():  # an unpaid block waits for payment: no second one sold (a draft)
            return
        self.refills.append(self.now)
        # ``refill auto`` adds an unpaid block (invoice to follow): under pay-first it pays for nothing yet
        self.blocks.append(MBlock(self.refill_id or 10**9, minutes, minutes, self.today, None, paid=False))
        self.settle()

    def void(self, entry_id: int) -> None:
        entry = self.entries[entry_id]
        by_id = {b.id: b for b in self.blocks}
        for block_id, minutes in entry.draws.items():
            block = by_id[block_id]
            if self.closed(block):
                self.forfeited += minutes
            else:
                block.left += minutes
        self.open_over -= entry.open_over
        entry.voided = True
        self.settle()

    def edit(self, entry_id: int, new_id: int | None, minutes: int) -> MEntry:
        """Void and log again, the corrected entry keeping first what blocks closed since (or no longer
        drawable: unpaid under pay-first) paid for the original: a correction never costs more than the
        entry it corrects."""
        old = self.entries[entry_id]
        by_id = {b.id: b for b in self.blocks}
        kept = {i: m for i, m in old.draws.items() if self.closed(by_id[i]) or not self.drawable(by_id[i])}
        self.void(entry_id)
        return self.log(new_id, minutes, old.work_date, old.non_billable, kept, old.onsite)

    def settle(self) -> None:
        was_over = self.open_over > 0
        self.pay_off()
        if was_over and self.open_over <= 0 and self.hold is not None:
            self.approved = 0  # paid off: the approvals of that overage are spent

    def pay_off(self) -> None:
        for entry in [e for _, e in sorted(self.entries.items()) if not e.voided and e.open_over]:
            if self.policy == "bill":
                entry.billed += entry.open_over
                self.open_over -= entry.open_over
                entry.open_over = 0
                continue
            draws, still = self.plan(entry.open_over, entry.work_date)
            self.take(entry, draws)
            self.open_over -= entry.open_over - still
            entry.open_over = still
            if still:
                break

    def top_up(
        self, block_id: int, size: int, start: date, expires: date | None, renew: int | None, paid: bool = True
    ) -> None:
        self.blocks.append(MBlock(block_id, size, size, start, expires, renew, paid=paid))
        self.settle()

    def set_allotment(self, allot: tuple[int, int, int] | None) -> None:
        """Off keeps the last period granted; on again after a whole period off begins afresh."""
        if allot is not None and self.allot is None and self.last_start is not None:
            if add_months(self.last_start, allot[0]) <= self.today:
                self.last_start = None
        self.allot = allot

    def renew_allotment(self, next_id: int) -> int:
        """Grant each due period (the current month's when none ever was), oldest first; then roll each
        closed period's unused minutes into the next period's block, up to the cap."""
        made = 0
        if self.allot is not None:
            months, size, cap = self.allot
            if self.last_start is None:
                starts = [self.today.replace(day=1)]
            else:
                starts = []
                start = add_months(self.last_start, months)
                while start <= self.today:
                    starts.append(start)
                    start = add_months(start, months)
            for start in starts:
                ends = add_months(start, months) - timedelta(days=1)
                self.blocks.append(MBlock(next_id + made, size, size, start, ends, period_start=start))
                self.last_start = start
                made += 1
            by_start = {b.period_start: b for b in self.blocks if b.period_start is not None}
            for start in sorted(by_start):
                block = by_start[start]
                assert block.expires is not None
                following = by_start.get(block.expires + timedelta(days=1))
                if cap and block.left and self.closed(block) and following is not None:
                    rolled = min(block.left, cap - following.rolled_in)
                    block.left -= rolled
                    following.left += rolled
                    following.rolled_in += rolled
        return made

    def renew_due(self, next_id: int) -> int:
        """The renewal job: every renewing block gets its successor once its anniversary has come."""
        made = 0
        while True:
            due = sorted(
                (b for b in self.blocks if b.renew and not b.renewed and add_months(b.start, b.renew) <= self.today),
                key=lambda b: (b.start, b.id),
            )
            if not due:
                return made
            old = due[0]
            old.renewed = True
            assert old.renew is not None
            expires = add_months(old.expires, old.renew) if old.expires else None
            # paid as the block it renews: an unpaid block renews unpaid, its invoice to follow
            self.top_up(next_id + made, old.size, add_months(old.start, old.renew), expires, old.renew, old.paid)
            made += 1


# (hours, expires in days or never, renews monthly, starts in days: 0 = today, paid: unpaid one time in three)
topups = st.tuples(
    st.just("topup"),
    st.integers(1, 8),
    st.none() | st.integers(0, 40),
    st.booleans(),
    st.sampled_from([0, 0, 3, 12]),
    st.sampled_from([True, True, False]),
)
marks = st.tuples(st.just("mark"), st.integers(0, 10), st.booleans())  # block paid / block unpaid <reason>
pay_firsts = st.tuples(st.just("payfirst"), st.booleans())
# ``hold-at``: None (none), ("m", minutes) or ("%", percent of the last block), then (unless 0 or none)
# ``approve acme <minutes>m`` at once; and ``approve`` on its own (refused without a hold)
hold_ats = st.tuples(
    st.just("hold"),
    st.none()
    | st.tuples(st.just("m"), st.sampled_from([0, 30, 60, 120, 240]))
    | st.tuples(st.just("%"), st.sampled_from([0, 10, 25, 50, 100])),
    st.sampled_from([0, 0, 30, 60, 120]),
)
approvals = st.tuples(st.just("approve"), st.sampled_from([15, 30, 60, 120]))
# (minutes, days back, --nb, as onsite, the words' order, the date as words or ISO)
WORDS = ("duration", "date", "type", "nb", "note")
logs = st.tuples(
    st.just("log"),
    st.integers(1, 300),
    st.integers(0, 40),
    st.booleans(),
    st.booleans(),
    st.permutations(WORDS),
    st.booleans(),
)
voids = st.tuples(st.just("void"), st.integers(0, 30))
edits = st.tuples(st.just("edit"), st.integers(0, 30), st.integers(1, 200))
days = st.tuples(st.just("days"), st.integers(1, 3) | st.integers(1, 25))
policies = st.tuples(
    st.just("policy"), st.sampled_from(["carry", "bill"]), st.sampled_from(["none", "2h", "unlimited"])
)
graces = st.tuples(st.just("grace"), st.sampled_from([0, 3, 7, 14]))
zones = st.tuples(st.just("zone"), st.sampled_from(ZONES))
# (None = recurring off | monthly | quarterly, hours a period, rollover cap in hours)
allots = st.tuples(
    st.just("allot"),
    st.sampled_from([None, "monthly", "monthly", "quarterly"]),
    st.integers(1, 8),
    st.sampled_from([0, 1, 3]),
)
# (hours of ``refill auto``, its monthly cap), or 0: ``refill notify``
refill_rules = st.tuples(st.just("refill"), st.integers(0, 4), st.integers(1, 3))
stories = st.lists(
    st.one_of(
        topups,
        logs,
        logs,
        logs,
        voids,
        edits,
        edits,
        days,
        policies,
        graces,
        zones,
        allots,
        refill_rules,
        marks,
        pay_firsts,
        hold_ats,
        approvals,
    ),
    max_size=28,
)
MONTHS = {"monthly": 1, "quarterly": 3}
OVERDRAFTS = {"none": 0, "2h": 120, "unlimited": None}


class Story:
    def __init__(self, db: Database) -> None:
        self.clock = FixedClock(NOW)
        self.ctx = Context(db, Settings(), self.clock)
        self.admin = Actor.local_admin()
        do(self.ctx, self.admin, "client add acme Acme")
        do(self.ctx, self.admin, f"client set acme overdraft 2h rounding {ROUNDING}m grace {GRACE}d thresholds 1h,0")
        do(self.ctx, self.admin, "worktype add onsite 1.5")
        self.zone = "UTC"
        self.records_from: date | None = None  # the product's rule: the calendar of records never goes back
        self.model = Model(NOW.date())
        self.entry_ids: list[int] = []
        self.block_count = 0
        self.sent: dict[str, dict] = {}  # type: ignore[type-arg]
        self.refill_ids: list[int] = []
        self.refusals: list[tuple[str, str]] = []  # (the step's kind, the product's words) of each refusal

    @property
    def today(self) -> date:
        """The client's day, in its time zone."""
        return self.clock.now().astimezone(ZoneInfo(self.zone)).date()

    @property
    def recording_day(self) -> date:
        """The day a line written now is recorded on (statements go by it)."""
        return max(self.today, self.records_from or self.today)

    @property
    def latest_work_day(self) -> date:
        """The latest work date no one could call future: the client's day or the workspace's."""
        return min(self.today, self.clock.now().date())

    def date_words(self, day: date, as_words: bool) -> str:
        """``today``, ``yesterday``, ``3 days ago`` (where the client's day is the workspace's) or ISO."""
        back = (self.clock.now().date() - day).days
        if not as_words or self.zone != "UTC":
            return day.isoformat()
        return {0: "today", 1: "yesterday"}.get(back, f"{back} days ago")

    def step(self, op: tuple) -> None:  # type: ignore[type-arg]
        model = self.model
        before = copy.deepcopy(model)
        model.expire()  # every write forfeits what is past its closing day first
        if op[0] in ("topup", "log", "void", "edit"):
            model.carry_to_started()
        try:
            self._apply(op)
        except (DomainError, Refused) as error:
            self.model = before  # refused: nothing written on either side
            if isinstance(error, Refused):  # the model refused: the product must have refused too
                raise AssertionError(f"the model refused {op} but the product accepted it") from None
            self._check_refusal_is_real(op)
            self.refusals.append((op[0], str(error)))

    def _apply(self, op: tuple) -> None:  # type: ignore[type-arg]
        kind, model = op[0], self.model
        if kind == "topup":
            renews = op[3] and not op[4]
            start = self.today + timedelta(days=op[4])
            expires = None if op[2] is None else start + timedelta(days=op[2])
            renew = " renew monthly" if renews else ""
            if renews and expires is None:
                expires = add_months(self.today, 1) - timedelta(days=1)
            paid = op[5] if len(op) > 5 else True
            words = (
                f"topup acme {op[1]}"
                + ("" if paid else " unpaid")
                + (f" starts {start}" if op[4] else "")
                + (f" expires {expires}" if expires else "")
                + renew
            )
            result = do(self.ctx, self.admin, words)
            assert result.paid is paid
            self.block_count += 1
            model.top_up(result.block_id, op[1] * 60, start, expires, 1 if renews else None, paid)
        elif kind == "mark" and self.block_count:
            number = op[1] % self.block_count + 1  # a fresh database: block number n is block id n
            said = "block paid acme" if op[2] else "block unpaid acme"
            result = do(self.ctx, self.admin, f"{said} {number}" + ("" if op[2] else " cheque bounced"))
            assert result.paid is op[2]
            model.mark(number, op[2])
        elif kind == "hold":
            words = "none" if op[1] is None else f"{op[1][1]}{op[1][0]}" if op[1][0] == "%" else f"{op[1][1]}m"
            do(self.ctx, self.admin, f"client set acme hold-at {words}")
            model.hold = op[1]
            if op[1] is not None and len(op) > 2 and op[2]:
                self.approve(op[2])
        elif kind == "approve":
            self.approve(op[1])
        elif kind == "payfirst":
            do(self.ctx, self.admin, f"client set acme pay-first {'on' if op[1] else 'off'}")
            model.pay_first = op[1]
        elif kind == "log":
            work_date = self.latest_work_day - timedelta(days=op[2])
            said = {
                "duration": f"{op[1]}m",
                "date": self.date_words(work_date, op[6]),
                "type": "as onsite" if op[4] else "",
                "nb": "--nb" if op[3] else "",
                "note": "printer work",
            }
            line = " ".join(w for w in (said[part] for part in op[5]) if w)
            result = do(self.ctx, self.admin, f"logtime acme {line}")
            assert str(result.work_date) == str(work_date), line  # the date is read wherever it stands
            model.refill_id, model.now, model.zone = self.new_refill(), self.clock.now(), self.zone
            model.log(result.entry_id, op[1], work_date, op[3], onsite=op[4])
            self.entry_ids.append(result.entry_id)
        elif kind == "void" and self.entry_ids:
            entry_id = self.entry_ids[op[1] % len(self.entry_ids)]
            if model.entries[entry_id].voided:
                return
            do(self.ctx, self.admin, f"void {entry_id}")
            model.void(entry_id)
        elif kind == "edit" and self.entry_ids:
            entry_id = self.entry_ids[op[1] % len(self.entry_ids)]
            old = model.entries[entry_id]
            if old.voided:
                return
            result = do(self.ctx, self.admin, f"edit {entry_id} {op[2]}m")
            model.refill_id, model.now, model.zone = self.new_refill(), self.clock.now(), self.zone
            model.edit(entry_id, result.entry_id, op[2])
            self.entry_ids.append(result.entry_id)
        elif kind == "days":
            month = self.recording_day.replace(day=1)
            self.clock.advance(days=op[1])
            renew_allotments(self.ctx)  # the hourly job
            expire_blocks(self.ctx, self.admin)
            self.model.today = self.today
            self.block_count += self.model.renew_allotment(self.block_count + 1)
            self.model.expire()
            made = renewal(self.ctx, self.today)
            self.model.renew_due(self.block_count + 1)
            self.model.expire()  # a renewal that is already past its closing day is forfeited as it comes
            self.block_count += int(made.split()[1])
            self.send_statements_if_a_month_ended(month)
        elif kind == "policy":
            do(self.ctx, self.admin, f"client set acme overage {op[1]} overdraft {op[2]}")
            model.policy, model.overdraft = op[1], OVERDRAFTS[op[2]]
        elif kind == "refill":
            words = f"auto {op[1]}h max {op[2]} per month" if op[1] else "notify"
            do(self.ctx, self.admin, f"client set acme refill {words}")
            model.refill = (op[1] * 60, op[2]) if op[1] else None
        elif kind == "grace":  # a shorter grace period may close blocks: forfeited at once
            do(self.ctx, self.admin, f"client set acme grace {op[1]}d")
            model.grace = op[1]
            self.block_count += model.renew_allotment(self.block_count + 1)  # a closed period rolls over first
            model.expire()
        elif kind == "zone":  # the client's day may move on (or back): what it closes is forfeited at once
            month, before = self.recording_day.replace(day=1), self.today
            do(self.ctx, self.admin, f"client set acme timezone {op[1]}")
            self.zone = op[1]
            if self.today < before:
                self.records_from = max(before, self.records_from or before)
            model.today = self.today
            if self.today != before:
                self.block_count += model.renew_allotment(self.block_count + 1)  # a new day may begin a period
            model.expire()
            self.send_statements_if_a_month_ended(month)
        elif kind == "allot":
            words = "recurring off" if op[1] is None else f"{op[1]} {op[2]}h rollover {op[3]}h"
            do(self.ctx, self.admin, f"client set acme {words}")
            model.set_allotment(None if op[1] is None else (MONTHS[op[1]], op[2] * 60, op[3] * 60))
            self.block_count += model.renew_allotment(self.block_count + 1)
            model.expire()

    def approve(self, minutes: int) -> None:
        result = do(self.ctx, self.admin, f"approve acme {minutes}m")
        self.model.approve(minutes)
        assert result.data["hold_approved_minutes"] == self.model.approved
        assert result.data["allowed_overage_minutes"] == self.model.hold_allows()

    def new_refill(self) -> int:
        """The id of the refill block the last step added (0: none), as the model's id of it."""
        with self.ctx.db.unit_of_work(read_only=True) as uow:
            ids = list(uow.session.scalars(select(Block.id).where(Block.source == "refill").order_by(Block.id)))
        new = [i for i in ids if i not in self.refill_ids]
        self.refill_ids = ids
        self.block_count += len(new)  # the product numbers blocks in order: a refill takes the next id
        return new[0] if new else 0

    def send_statements_if_a_month_ended(self, month: date) -> None:
        """The statements of months that are over are sent: from now on they must never change."""
        if self.recording_day.replace(day=1) != month:
            for period in self.periods()[:-1]:
                self.sent.setdefault(period, self.statement(period))

    def _check_refusal_is_real(self, op: tuple) -> None:  # type: ignore[type-arg]
        """The product refused: the model must refuse the same step."""
        probe = copy.deepcopy(self.model)
        probe.expire()
        kind = op[0]
        if kind == "log":
            probe.carry_to_started()
            with pytest.raises(Refused):
                probe.log(None, op[1], self.latest_work_day - timedelta(days=op[2]), op[3], onsite=op[4])
        elif kind == "edit":
            entry_id = self.entry_ids[op[1] % len(self.entry_ids)]
            probe.carry_to_started()
            with pytest.raises(Refused):
                probe.edit(entry_id, None, op[2])
        elif kind == "approve":
            with pytest.raises(Refused):
                probe.approve(op[1])
        else:
            raise AssertionError(f"{op} was refused")

    def periods(self) -> list[str]:
        month, last, found = NOW.date().replace(day=1), self.recording_day.replace(day=1), []
        while month <= last:
            found.append(f"{month:%Y-%m}")
            month = add_months(month, 1)
        return found

    def statement(self, period: str) -> dict:  # type: ignore[type-arg]
        with self.ctx.db.unit_of_work(read_only=True) as uow:
            client = uow.session.scalar(select(Client))
            assert client is not None
            return statement_facts(uow, client, parse_period(period, self.today))

    def check_balances(self) -> None:
        view, model = balance_of(self.ctx, "acme"), self.model
        live = [e for e in model.entries.values() if not e.voided]
        in_grace = sum(b.left for b in model.blocks if model.expired(b) and not model.closed(b))
        waiting = sum(b.left for b in model.blocks if b.start > model.today)
        assert (
            view.remaining_minutes,
            view.purchased_minutes,
            view.used_minutes,
            view.forfeited_minutes,
            view.in_grace_minutes,
            view.billed_overage_minutes,
            view.overage_minutes,
            view.waiting_minutes,
            view.unpaid_minutes,
            view.held_for_payment_minutes,
        ) == (
            model.usable(),
            sum(b.size for b in model.blocks),
            sum(e.billable for e in live),
            model.forfeited,
            in_grace,
            sum(e.billed for e in live),
            model.open_over,
            waiting,
            model.unpaid(),
            model.unpaid() if model.pay_first else 0,
        )

    def check_statements(self) -> None:
        opening = 0
        entries_seen: list[int] = []
        voids_seen: list[int] = []
        for period in self.periods():
            facts = self.statement(period)
            assert facts["opening_minutes"] == opening, period
            moved = (
                facts["bought_minutes"]
                - facts["used_minutes"]
                - facts["forfeited_minutes"]
                + facts["overage_billed_minutes"]
            )
            assert facts["opening_minutes"] + moved == facts["closing_minutes"], period
            opening = facts["closing_minutes"]
            if period in self.sent:
                assert facts == self.sent[period], f"the statement of {period} changed after it was sent"
            with self.ctx.db.unit_of_work(read_only=True) as uow:
                rows = entry_movements(uow, [1], parse_period(period, self.today), {1: "acme"})
            assert sum(r.billable_minutes for r in rows) == facts["used_minutes"], period
            entries_seen += [r.id for r in rows if r.movement == "entry"]
            voids_seen += [r.id for r in rows if r.movement == "void"]
        assert opening == self.model.account()
        rolled = sum(self.statement(period)["rolled_over_minutes"] for period in self.periods())
        assert rolled == sum(b.rolled_in for b in self.model.blocks)  # each rollover in one statement
        assert sorted(entries_seen) == sorted(self.model.entries)  # each entry counted in one statement
        voided = [i for i, e in self.model.entries.items() if e.voided]
        assert sorted(voids_seen) == sorted(voided)  # and each correction once


# Histories pinned because each breaks one rule of issue 24 when the product gets it wrong:
# a new time zone whose day is earlier must not record into November, which Auckland has closed
CALENDAR_BACK = [
    ("zone", "Pacific/Auckland"),
    ("topup", 5, None, False, 0),
    ("days", 5),  # 30 November 15:00 UTC: 1 December in Auckland, November's statement is sent
    ("zone", "UTC"),
    ("log", 60, 0, False, False, ("note", "date", "duration", "type", "nb"), False),
]
# a late entry corrected downward after its block closed costs no more than the entry it corrects
LATE_EDIT_DOWN_ACROSS_A_CLOSING = [
    ("topup", 5, 10, False, 0),
    ("topup", 2, None, False, 0),
    ("log", 60, 0, False, False, ("duration", "note", "date", "type", "nb"), True),
    ("days", 20),
    ("edit", 0, 30),
]
# a block that starts later is no usable balance: no overage accepted against it, paid from its start
OVERAGE_BEFORE_A_BLOCK_STARTS = [
    ("policy", "carry", "2h"),
    ("topup", 10, 40, False, 12),
    ("log", 90, 0, False, True, ("note", "type", "duration", "date", "nb"), True),
    ("log", 60, 0, False, False, WORDS, False),
    ("days", 12),
    ("log", 15, 0, False, False, WORDS, True),
]

# an allotment granted while overage is open pays it off at the next write: a void of that entry
# takes back what it drew then, not the overage it had before
VOID_AFTER_AN_ALLOTMENT_PAID_OFF_ITS_OVERAGE = [
    ("log", 1, 0, False, False, WORDS, False),
    ("allot", "quarterly", 1, 0),
    ("void", 0),
]
# a closed month rolls over up to the cap; the rest is forfeited; missed months are caught up in order
ROLLOVER_ACROSS_MONTHS = [
    ("allot", "monthly", 5, 1),
    ("log", 60, 0, False, False, WORDS, False),
    ("days", 25),
    ("days", 25),
    ("log", 30, 3, False, False, WORDS, True),
    ("grace", 0),
    ("days", 25),
    ("days", 25),
    ("allot", None, 1, 0),
    ("days", 25),
    ("allot", "monthly", 2, 3),
]

# under pay-first an unpaid block pays for nothing: the entry is overage, paid off once the block is paid
PAY_FIRST_THEN_PAID = [
    ("policy", "carry", "2h"),
    ("payfirst", True),
    ("topup", 5, None, False, 0, False),
    ("log", 90, 0, False, False, WORDS, True),
    ("mark", 0, True),
    ("mark", 0, False),
    ("log", 30, 0, False, False, WORDS, True),
    ("payfirst", False),
    ("log", 15, 0, False, False, WORDS, True),
]

# an unpaid block renews unpaid: under pay-first the renewal pays for nothing until it is marked paid
UNPAID_BLOCK_RENEWS_UNPAID = [
    ("payfirst", True),
    ("topup", 5, None, True, 0, False),
    ("days", 25),
    ("days", 25),
    ("log", 60, 0, False, False, WORDS, True),
    ("mark", 1, True),
    ("log", 30, 0, False, False, WORDS, True),
]

# the overage hold: an entry past it is refused whole, an approval lets the next one in, the approvals are
# spent once the overage is paid off, a percentage is of the newest block, and none lifts the hold
HOLD_REFUSED_APPROVED_THEN_LOGGED = [
    ("policy", "carry", "unlimited"),
    ("hold", ("m", 60)),
    ("topup", 1, None, False, 0),
    ("log", 90, 0, False, False, WORDS, False),  # 1h from the block, 30m over: within the hold
    ("log", 60, 0, False, False, WORDS, False),  # 1h30m over would pass the hold at 1h: refused
    ("approve", 60),  # 2h allowed now
    ("log", 60, 0, False, False, WORDS, False),  # 1h30m over: logged
    ("topup", 3, None, False, 0),  # pays the 1h30m off: the approval is spent
    ("log", 180, 0, False, False, WORDS, False),  # 1h30m from the block, 1h30m over: past 1h again
    ("hold", ("%", 50)),  # half of the 3h block: 1h30m
    ("log", 180, 0, False, False, WORDS, False),  # 1h30m over: at the hold, logged
    ("log", 15, 0, False, False, WORDS, False),  # refused
    ("hold", None),
    ("approve", 30),  # no hold, nothing to approve: refused
    ("log", 15, 0, False, False, WORDS, False),  # no hold: logged
]

# an entry whose own write pays the overage off (a block bought to start later has started) spends the
# approvals with it: the entry itself is held to the hold's own limit again
HOLD_APPROVALS_SPENT_BY_THE_ENTRYS_OWN_WRITE = [
    ("policy", "carry", "unlimited"),
    ("hold", ("m", 60)),
    ("topup", 1, None, False, 0),
    ("topup", 2, None, False, 3),
    ("log", 90, 0, False, False, WORDS, False),  # 30m over
    ("approve", 60),
    ("days", 3),  # the 2h block starts
    ("log", 180, 0, False, False, WORDS, False),  # pays the 30m off, then 1h30m over: past 1h, refused
    ("log", 150, 0, False, False, WORDS, False),  # pays the 30m off, then 1h over: logged
]


def run_story(db: Database, ops: list[tuple]) -> Story:  # type: ignore[type-arg]
    story = Story(db)
    for op in ops:
        story.step(op)
        story.check_balances()
    story.check_statements()
    return story


def test_statements_reconcile_and_balances_match_the_reference_model(fresh_databases: FreshDatabases) -> None:
    @settings(
        max_examples=100 if fresh_databases.backend == "sqlite" else 40,  # the suite stays under 10 minutes
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(stories)
    @example(CALENDAR_BACK)
    @example(LATE_EDIT_DOWN_ACROSS_A_CLOSING)
    @example(OVERAGE_BEFORE_A_BLOCK_STARTS)
    @example(VOID_AFTER_AN_ALLOTMENT_PAID_OFF_ITS_OVERAGE)
    @example(ROLLOVER_ACROSS_MONTHS)
    @example(REFILLS_ACROSS_THE_CAP)
    @example(PAY_FIRST_THEN_PAID)
    @example(UNPAID_BLOCK_RENEWS_UNPAID)
    @example(HOLD_REFUSED_APPROVED_THEN_LOGGED)
    @example(HOLD_APPROVALS_SPENT_BY_THE_ENTRYS_OWN_WRITE)
    def story_holds(ops: list[tuple]) -> None:  # type: ignore[type-arg]
        with fresh_databases.open() as db:
            run_story(db, ops)

    story_holds()


@pytest.mark.parametrize("ops", [VOID_AFTER_AN_ALLOTMENT_PAID_OFF_ITS_OVERAGE, ROLLOVER_ACROSS_MONTHS])
def test_pinned_allotment_histories_hold(fresh_databases: FreshDatabases, ops: list[tuple]) -> None:  # type: ignore[type-arg]
    with fresh_databases.open() as db:
        story = run_story(db, ops)
    if ops is ROLLOVER_ACROSS_MONTHS:  # the history does what it is pinned for
        rolled = [b.rolled_in for b in story.model.blocks]
        assert sum(rolled) > 0 and story.model.forfeited > 0 and len(rolled) >= 4, rolled


def test_a_pinned_renewal_of_an_unpaid_block_holds_and_is_unpaid(fresh_databases: FreshDatabases) -> None:
    with fresh_databases.open() as db:
        story = run_story(db, UNPAID_BLOCK_RENEWS_UNPAID[:4])
        blocks = do(story.ctx, story.admin, "blocks acme").blocks
    renewals = [b for b in blocks if b.renewal_of_id is not None]
    assert len(renewals) == 1 and renewals[0].paid is False  # the history does what it is pinned for


def test_the_model_and_the_product_agree_on_a_late_entry_in_grace(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A pinned history (the issue's case 3): it proves the property test can fail on a wrong rule."""
    db = Database(f"sqlite:///{tmp_path}/x.db")
    db.migrate()
    try:
        ops = [
            ("topup", 5, 0, False, 0),
            ("topup", 10, None, False, 0),
            ("days", 1),
            ("log", 60, 1, False, False, WORDS, False),
        ]
        story = Story(db)
        for op in ops:
            story.step(op)
            story.check_balances()
        assert story.model.blocks[0].left == 240  # drawn from the expired block, in its grace period
        story.check_statements()
    finally:
        db.dispose()


# refills: one by the entry through the level, none past the cap, one again in the next month
REFILLS_ACROSS_THE_CAP = [
    ("refill", 2, 1),
    ("topup", 3, None, False, 0),
    ("log", 150, 0, False, False, WORDS, False),  # 3h -> 30m: a refill of 2h
    ("log", 120, 0, False, False, WORDS, False),  # 2h30m -> 30m: the cap of 1 is reached
    ("days", 25),  # December
    ("topup", 2, None, False, 0),
    ("log", 150, 0, False, False, WORDS, False),  # 2h30m -> 0: a refill again
    ("policy", "bill", "2h"),
    ("refill", 1, 3),
    ("log", 200, 0, False, False, WORDS, False),  # 2h -> -1h20m: the refill bills the overage
]


def test_the_model_and_the_product_agree_on_refills_and_their_cap(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path}/x.db")
    db.migrate()
    try:
        story = Story(db)
        for op in REFILLS_ACROSS_THE_CAP:
            story.step(op)
            story.check_balances()
        assert len(story.model.refills) == len(story.refill_ids) == 3
        story.check_statements()
    finally:
        db.dispose()


def test_the_model_and_the_product_agree_on_the_overage_hold(fresh_databases: FreshDatabases) -> None:
    """The pinned history crosses the hold, is refused (nothing written), is approved, then logs; the
    approval is spent once the overage is paid off; a percentage is of the newest block."""
    with fresh_databases.open() as db:
        story = run_story(db, HOLD_REFUSED_APPROVED_THEN_LOGGED)
    assert [kind for kind, _ in story.refusals] == ["log", "log", "log", "approve"], story.refusals
    first, second, third, approval = (words for _, words in story.refusals)
    assert first.startswith("Not recorded: Acme is 30m over; ask an account manager or the client to approve")
    assert "This entry would take the overage to 1h 30m, past its hold at 1h." in first
    assert "to 1h 30m, past its hold at 1h." in second  # the approval was spent with the overage it allowed
    assert third == "Not recorded: Acme is 1h 30m over; ask an account manager or the client to approve more."
    assert "has no overage hold" in approval
    assert (story.model.open_over, story.model.approved, len(story.entry_ids)) == (105, 0, 4)
    with fresh_databases.open() as db:
        spent = run_story(db, HOLD_APPROVALS_SPENT_BY_THE_ENTRYS_OWN_WRITE)
    assert [kind for kind, _ in spent.refusals] == ["log"], spent.refusals
    assert "would take the overage to 1h 30m, past its hold at 1h." in spent.refusals[0][1]  # no approval left
    assert (spent.model.open_over, spent.model.approved) == (60, 0)
