"""The overage hold (issue 26, part 6): how much overage a client may run up before new time is
refused, what an approval lifts it by, and who may approve from the client's side.

``client set acme hold-at 2h`` (or ``25%``: of the size of the client's last block) sets the limit;
``approve acme 2h`` (an account manager) or the client-safe card's **Approve up to 2 more hours** (a
client contact) adds approved minutes on top of it. An entry that would take the open overage past
limit + approved is refused and nothing is written; entries already logged never change. Approvals
count until the overage is paid off (``ClientLedger.settle_overage`` clears them then); one given while
the client is not in overage is a pre-approval, kept for its next overage and spent once that is paid off.

Pure: the ledger (``bot.domain.client_ledger``) reads ``HoldLimit`` from its terms and
``bot.domain.charges.plan_entry`` decides ``EntryPlan.held``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain.durations import format_duration, looks_like_duration, parse_duration
from bot.domain.errors import ParseError

EXAMPLE = "client set acme hold-at 2h  (or hold-at 25%, hold-at none)"
DEFAULT_CLIENT_APPROVAL = 120  # what the card offers when the hold is at 0: "Approve up to 2 more hours"
MAX_HOLD = 1000 * 60  # 1000h, the largest limit (beyond it, say none)


@dataclass(frozen=True)
class HoldLimit:
    """A client's hold: ``minutes`` (hold-at 2h) or ``percent`` of ``last_block_minutes`` (hold-at 25%),
    plus what was approved on top (``approved_minutes``)."""

    minutes: int | None = None
    percent: int | None = None
    last_block_minutes: int = 0
    approved_minutes: int = 0

    @property
    def limit(self) -> int:
        """The overage allowed before anyone approves more (a percentage rounds down to the minute)."""
        if self.minutes is not None:
            return self.minutes
        return self.last_block_minutes * (self.percent or 0) // 100

    @property
    def allowed(self) -> int:
        """The overage allowed now: the limit and every approval since the overage was last paid off."""
        return self.limit + self.approved_minutes

    def held(self, open_overage: int, added: int) -> bool:
        """Whether an entry adding ``added`` minutes of overage to ``open_overage`` goes past the hold.
        An entry that adds no overage (a non-billable one, or one the blocks pay for) is never held."""
        return added > 0 and open_overage + added > self.allowed

    def setting(self) -> str:
        """``2h``, ``25% of the last block (2h 30m)``: the setting in words."""
        if self.minutes is not None:
            return format_duration(self.minutes)
        return f"{self.percent}% of the last block ({format_duration(self.limit)})"

    def client_approval_minutes(self) -> int:
        """What one click of the client's button approves: the hold's own size (2h for hold-at 2h)."""
        return self.limit or DEFAULT_CLIENT_APPROVAL


def hold_limit(
    minutes: int | None, percent: int | None, approved: int, last_block_minutes: int = 0
) -> HoldLimit | None:
    """The hold as the client's settings give it; None when it has none (hold-at none)."""
    if minutes is None and percent is None:
        return None
    return HoldLimit(minutes, percent, last_block_minutes, approved)


def parse_hold_at(text: str) -> dict[str, object]:
    """``2h`` -> hold_at_minutes; ``25%`` -> hold_at_percent; ``none`` clears both. Returns the
    client's columns to set (the other one cleared: a hold is one or the other)."""
    word = text.strip().lower()
    if word in ("none", "off", "no"):
        return {"hold_at_minutes": None, "hold_at_percent": None}
    if word.endswith("%"):
        digits = word[:-1].strip()
        if not (digits.isascii() and digits.isdigit()) or not 0 <= int(digits) <= 1000:
            raise ParseError(f"`hold-at {text}`: a percentage is a whole number from 0% to 1000%.", EXAMPLE)
        return {"hold_at_minutes": None, "hold_at_percent": int(digits)}
    if word in ("0", "0m", "0h"):
        return {"hold_at_minutes": 0, "hold_at_percent": None}
    if word.isascii() and word.isdigit():
        raise ParseError(f"`hold-at {text}` has no unit: write {word}h or {word}%.", EXAMPLE)
    if not looks_like_duration(word) or word.startswith("-"):
        raise ParseError(f"`hold-at {text}`: say how much overage, as 2h, 25% or none.", EXAMPLE)
    try:
        minutes = parse_duration(word, max_minutes=MAX_HOLD)
    except ParseError as error:  # more than 1000h
        raise ParseError(f"`hold-at {text}`: {error.message}", EXAMPLE) from None
    return {"hold_at_minutes": minutes, "hold_at_percent": None}


def parse_approval(text: str) -> int:
    """``2h``: how much more overage an approval allows (more than nothing, at most 1000h)."""
    word = text.strip().lower()
    if word.isascii() and word.isdigit():
        raise ParseError(f"`{text}` has no unit: write {word}h.", "approve acme 2h")
    if not looks_like_duration(word) or word.startswith("-"):
        raise ParseError(f"`{text}` is not an amount of time to approve.", "approve acme 2h")
    try:
        return parse_duration(word, max_minutes=MAX_HOLD)
    except ParseError as error:  # zero, or more than 1000h
        raise ParseError(f"`approve {text}`: {error.message}", "approve acme 2h") from None


def held_message(name: str, open_overage: int, after: int, hold: HoldLimit) -> str:
    """Why new time is refused: ``Acme is 2h over; ask an account manager or the client to approve
    more``, and, when this entry is what would cross the hold, by how much."""
    over = f"{name} is {format_duration(open_overage)} over" if open_overage > 0 else f"{name} has no hours left"
    approved = f" + {format_duration(hold.approved_minutes)} approved" if hold.approved_minutes else ""
    text = f"Not recorded: {over}; ask an account manager or the client to approve more."
    if open_overage < hold.allowed:  # not held yet: this entry is what would cross the hold
        text += (
            f" This entry would take the overage to {format_duration(after)}, past its hold at "
            f"{hold.setting()}{approved}. Nothing already logged changes."
        )
    return text


def overage_words(
    name: str, entry_overage: int, overage_so_far: int, hold_left: int | None, why: str = "no block left to draw from"
) -> str:
    """The confirmation's plain words when an entry takes a client into overage (or further in):
    ``2h of it is overage (no block left to draw from): Acme is 3h over so far.``, and where the
    hold stands (``hold_left``: overage still allowed before new time is refused; None: no hold)."""
    text = f"{format_duration(entry_overage)} of it is overage ({why})"
    if overage_so_far <= 0:  # paid off since (a repeated request answers with today's figures)
        return text + "."
    text += f": {name} is {format_duration(overage_so_far)} over so far."
    if hold_left is None:
        return text
    if hold_left <= 0:
        return text + " New time is now on hold until an account manager or the client approves more."
    return text + f" {format_duration(hold_left)} more and new time is on hold."


def approval_words(name: str, minutes: int, how: str, open_overage: int, hold: HoldLimit) -> str:
    """The reply to an approval (``hold``: as the approval left it). Given while the client is not in
    overage it is a pre-approval: it counts for the next run into overage and, like any approval, is
    spent once that overage is paid off (``ClientLedger.settle_overage``)."""
    text = f"{format_duration(minutes)} more overage approved for {name} ({how})"
    allowed = format_duration(hold.allowed)
    if open_overage > 0:
        return f"{text}: it is {format_duration(open_overage)} over, and new time is held past {allowed} of overage."
    return (
        f"{text}. {name} is not in overage now: this is a pre-approval for its next overage, where new time is "
        f"held past {allowed} of overage (the hold at {hold.setting()} + "
        f"{format_duration(hold.approved_minutes)} approved). Approvals are spent once that overage is paid off."
    )


def approve_label(minutes: int) -> str:
    """``Approve up to 2 more hours`` (``1 more hour``, ``1h 30m more``)."""
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"Approve up to {hours} more hour{'s' if hours != 1 else ''}"
    return f"Approve up to {format_duration(minutes)} more"


def client_approved_this_run(approved_now: int, approvals: Sequence[tuple[int, int, bool]]) -> int:
    """How much of ``approved_now`` (the client's ``hold_approved_minutes``) the client's own people
    approved in this run into overage. ``approvals``: every approval, newest first, as (approved
    before, approved after, by the client); the run began at the approval made from nothing (the
    last payoff cleared them), and a gap in the chain (a payoff since) ends it too."""
    total, expected = 0, approved_now
    for before, after, by_client in approvals:
        if expected <= 0 or after != expected:
            break
        total += after - before if by_client else 0
        expected = before
    return total


def client_approval_offer(
    hold: HoldLimit | None,
    client_approves: bool,
    usable_minutes: int,
    held_for_payment_minutes: int,
    client_approved_minutes: int = 0,
) -> int | None:
    """What the client's card may offer to approve, in minutes, or None: the hold's own size, only
    while the client lets its people approve (``client-approves on``), a hold is set, and the next
    entry draws no block (no usable hours left: what it logs is overage, the minutes ``held`` counts).
    Never while hours are held for payment (pay-first with an unpaid block waiting): the card's
    "0m left" is then the invoice's business, not an approval of overage. The click is decided again
    by the same rule (``bot.services.overage.client_approve``). The client's own approvals total at
    most one hold-size a run into overage (``client_approved_minutes``, ``client_approved_this_run``):
    past that, only an account manager approves more."""
    if hold is None or not client_approves or usable_minutes > 0 or held_for_payment_minutes > 0:
        return None
    left = hold.client_approval_minutes() - client_approved_minutes
    return left if left > 0 else None


MANY_ORGANISATIONS = (
    "This channel is shared with more than one organisation, so an approval here cannot be taken as "
    "the client's: an account manager must approve. For your hours, ask your account manager."
)


def client_approval_refusal(
    *,
    external: bool,
    other_team: bool,
    channel_connect: bool,
    member: bool,
    linked: bool,
    team: str | None,
    channel_teams: Sequence[str] | None,
) -> str | None:
    """Why a click of the client's button is refused (None: accepted). Only a client contact may use
    it: a member of another organisation (Slack Connect), in the client's own linked channel, which
    is shared with that organisation, and of which they are a member. Staff approve with ``approve``;
    a guest of the MSP's workspace is not taken as the client's word. ``channel_teams``: the other
    organisations connected to the channel (None: Slack could not say). Shared with more than one,
    the clicker's organisation may not be the client's: refused (fail closed), as when unknown or
    when the clicker's team is not the one the channel is shared with."""
    if not external or not other_team:
        return (
            "This button is for the client's own people in their shared channel; "
            "account managers approve with `approve acme 2h`."
        )
    if not linked or not channel_connect or not member:
        return "For your hours, ask your account manager."
    if channel_teams is not None and len(set(channel_teams)) > 1:
        return MANY_ORGANISATIONS
    if channel_teams is None or team is None or team not in channel_teams:
        return "For your hours, ask your account manager."
    return None
