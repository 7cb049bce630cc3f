"""A client's refill policy (``client set acme refill ...``) and the one decision it makes: what a fall
through the client's lowest threshold does.

- ``notify`` (the default): the low-balance alert only, as before;
- ``draft``: the alert carries a ready block (``Add 10h, unpaid, invoice to follow``) that a manager
  confirms with one click, or opens in the top-up form first;
- ``auto``: the block is added in the same posting as the entry that crossed (``ClientLedger``), unpaid
  unless the policy says ``paid``; at most ``cap`` refills a calendar month (the client's zone), past which
  it behaves like draft and says why.

One refill per run-down: a refill clears the client's ``refill_armed``, and only a change that leaves
the usable balance above the lowest threshold (a top-up, a void, the next change after a refill that
lifted it) arms it again. The refill level is the lowest threshold above zero (the digest's "low"); a
client whose only threshold is ``0`` refills when it runs out. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.dates import month_start
from bot.domain.durations import format_duration, parse_duration
from bot.domain.errors import ParseError
from bot.domain.thresholds import Threshold, lowest_above_zero

MODES = ("notify", "draft", "auto")
EXAMPLE = "client set acme refill auto 10h paid max 2 per month"
DRAFT_NOTE = "invoice to follow"


@dataclass(frozen=True)
class RefillPolicy:
    """What the client's refill setting says, and the state it is read with (under the row lock):
    ``armed`` (``refill_armed``) and the refills already added this calendar month."""

    mode: str = "notify"
    minutes: int = 0
    paid: bool = False
    cap: int = 1
    armed: bool = True

    @property
    def rule(self) -> str:
        """The setting in the words that set it: ``refill auto 10h``, ``refill draft 10h paid``."""
        if self.mode == "notify" or not self.minutes:
            return "refill notify"
        paid = " paid" if self.paid else ""
        cap = f" max {self.cap} per month" if self.mode == "auto" and self.cap != 1 else ""
        return f"refill {self.mode} {format_duration(self.minutes)}{paid}{cap}"


@dataclass(frozen=True)
class RefillDecision:
    """What a crossing of the refill level does: a block ``added`` (auto) or ``draft``ed for a manager's
    click, with the rule that decided it and, for a draft that auto fell back to, why."""

    action: str  # "added" | "draft"
    minutes: int
    paid: bool
    rule: str
    reason: str | None = None


def policy_of(mode: str | None, minutes: int | None, paid: bool, cap: int | None, armed: bool) -> RefillPolicy:
    """The policy a client's row holds (``refill_mode`` None is notify)."""
    if mode not in ("draft", "auto") or not minutes:
        return RefillPolicy(armed=armed)
    return RefillPolicy(mode, minutes, paid, cap if cap is not None and cap > 0 else 1, armed)


def refill_level(thresholds: Sequence[Threshold], block_minutes: int) -> int:
    """The balance at or under which a client refills: its lowest threshold above zero, else zero."""
    lowest = lowest_above_zero(tuple(thresholds), block_minutes)
    return lowest.level(block_minutes) if lowest is not None else 0


def decide(
    policy: RefillPolicy, before: int, after: int, level: int, this_month: int, waiting: str | None = None
) -> RefillDecision | None:
    """The refill a change of the usable balance ``before -> after`` calls for: only a fall from above
    ``level`` to at or under it, while armed, does anything (one refill per run-down however many
    thresholds the change went through); an auto refill past its monthly cap is a draft that says so.
    ``waiting``: under pay-first, the unpaid block held for payment (``bot.domain.payments.waiting_block``);
    while one waits, auto sells no second block (a draft that says so, the cap unspent)."""
    if policy.mode == "notify" or not policy.armed or not after <= level < before:
        return None
    if policy.mode == "draft":
        return RefillDecision("draft", policy.minutes, policy.paid, policy.rule)
    if waiting is not None:
        return RefillDecision("draft", policy.minutes, policy.paid, policy.rule, f"{waiting} is waiting for payment")
    if this_month >= policy.cap:
        times = "refill" if policy.cap == 1 else "refills"
        reason = f"the cap of {policy.cap} {times} a month is reached, so this one waits for a manager"
        return RefillDecision("draft", policy.minutes, policy.paid, policy.rule, reason)
    return RefillDecision("added", policy.minutes, policy.paid, policy.rule)


MAX_REFILL_MINUTES = 1000 * 60


def parse_refill(words: Sequence[str]) -> tuple[dict[str, object], int]:
    """``notify`` | ``draft 10h [paid|unpaid]`` | ``auto 10h [paid|unpaid] [max N [per month]]``: the
    client's columns, and how many words it read (the next setting may follow)."""
    if not words:
        raise ParseError("`refill` needs a mode: notify, draft 10h or auto 10h.", EXAMPLE)
    mode = words[0].lower()
    if mode not in MODES:
        raise ParseError(f"`{words[0]}` is not a refill mode: say notify, draft 10h or auto 10h.", EXAMPLE)
    if mode == "notify":
        return {"refill_mode": None, "refill_minutes": None, "refill_paid": False, "refill_cap": 1}, 1
    if len(words) < 2:
        raise ParseError(f"`refill {mode}` needs the block's size.", f"client set acme refill {mode} 10h")
    try:
        minutes = parse_duration(words[1], max_minutes=MAX_REFILL_MINUTES)
    except ParseError as error:
        raise ParseError(error.message, f"client set acme refill {mode} 10h") from error
    if minutes <= 0:
        raise ParseError("A refill adds some hours.", f"client set acme refill {mode} 10h")
    changes: dict[str, object] = {
        "refill_mode": mode,
        "refill_minutes": minutes,
        "refill_paid": False,
        "refill_cap": 1,
    }
    i = 2
    while i < len(words):
        word = words[i].lower()
        if word in ("paid", "unpaid"):
            changes["refill_paid"] = word == "paid"
            i += 1
        elif word == "max":
            if mode != "auto":
                raise ParseError("Only `refill auto` has a monthly cap.", EXAMPLE)
            count = words[i + 1] if i + 1 < len(words) else ""
            if not (count.isascii() and count.isdigit() and 1 <= int(count) <= 31):
                raise ParseError("`max` takes a number of refills a month, from 1 to 31.", EXAMPLE)
            changes["refill_cap"] = int(count)
            i += 2
            rest = [w.lower() for w in words[i : i + 2]]
            if rest[:1] == ["per"]:
                if rest != ["per", "month"]:
                    raise ParseError("The cap is per month: `max 2 per month`.", EXAMPLE)
                i += 2
        else:
            break
    return changes, i


def month_began(now: datetime, timezone: str) -> datetime:
    """When the calendar month of ``now`` began in the client's zone (the cap counts from it), in UTC."""
    zone = ZoneInfo(timezone)
    return datetime.combine(month_start(now.astimezone(zone).date()), time.min, zone).astimezone(UTC)


def refill_facts(decision: RefillDecision, block_number: int | None, line_id: int) -> dict[str, Any]:
    """The facts a low-balance alert carries of its refill (``bot.domain.notices.ThresholdCrossed``)."""
    return {
        "refill": decision.action,
        "refill_minutes": decision.minutes,
        "refill_paid": decision.paid,
        "refill_rule": decision.rule,
        "refill_reason": decision.reason,
        "refill_block": block_number,
        "refill_line": line_id,
    }


def refill_words(action: str, minutes: int, paid: bool, rule: str | None, reason: str | None) -> str:
    """The alert's line of its refill: ``Added 10h (refill auto 10h, unpaid).`` or the draft's offer."""
    size, state = format_duration(minutes), "paid" if paid else "unpaid"
    if action == "added":
        return f"Added {size} ({rule}, {state})." if rule else f"Added {size} ({state})."
    offer = f"Ready to add: {size}, {state}" + ("." if paid else f", {DRAFT_NOTE}.")
    return f"{offer} Not added automatically: {reason}." if reason else offer


def entry_refill_words(action: str, minutes: int, paid: bool, rule: str, reason: str | None) -> str:
    """The technician's confirmation of an entry that set off a refill, so a balance that went up after
    logging reads right: ``Refill: 5h added by rule refill auto 5h (unpaid).`` or the draft offered."""
    size, state = format_duration(minutes), "paid" if paid else "unpaid"
    if action == "added":
        return f"Refill: {size} added by rule {rule} ({state})."
    offered = f"Refill: the managers were offered a block of {size} to confirm (rule {rule}, {state})"
    return f"{offered}; not added automatically: {reason}." if reason else f"{offered}."
