"""Paid and unpaid blocks, and pay-first (issue 26, part 1): which blocks may pay for work, the unpaid
figures a balance shows apart, and who may mark a block paid or unpaid.

A block can be sold before it is paid (an invoice is out). By default unpaid blocks are used like paid
ones and only listed as unpaid; under the client's **pay-first** setting, work draws only from paid
blocks (then overage, by the client's overage policy), so an unpaid block's hours are **held for
payment**: bought (the account holds them) but not usable balance until the block is marked paid.

Marking is ours where the PSA gives no paid flag (ConnectWise additions, HaloPSA pre-pay); Autotask's
contract blocks carry ``isPaid``, read on import. A paid block becomes unpaid again only by an admin,
with a reason."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol, TypeVar

from bot.domain.charges import HeldBlock, is_current
from bot.domain.durations import format_duration
from bot.domain.errors import ParseError, Refused
from bot.domain.roles import Role, require

PAID_WORDS = frozenset({"paid"})
UNPAID_WORDS = frozenset({"unpaid"})


class PaidBlock(HeldBlock, Protocol):
    """What the rules need of a block to speak of its payment."""

    @property
    def paid(self) -> bool: ...


class NamedPaidBlock(PaidBlock, Protocol):
    """A block as a reply names it: its number and the invoice reference it was sold on."""

    @property
    def number(self) -> int | None: ...

    @property
    def reference(self) -> str | None: ...


B = TypeVar("B", bound=PaidBlock)


def drawable(blocks: Iterable[B], pay_first: bool) -> list[B]:
    """The blocks work may draw from: all of them, or under pay-first only the paid ones."""
    return [b for b in blocks if b.paid or not pay_first]


@dataclass(frozen=True)
class Unpaid:
    """Unpaid hours, shown apart: ``minutes`` left in current unpaid blocks (usable unless pay-first),
    ``held`` the part of them pay-first keeps from use until payment."""

    minutes: int = 0
    held: int = 0

    def words(self) -> str | None:
        """``4h unpaid`` or, under pay-first, ``4h unpaid, held for payment``; None when all is paid."""
        if not self.minutes:
            return None
        return f"{format_duration(self.minutes)} unpaid" + (", held for payment" if self.held else "")


def unpaid(blocks: Iterable[PaidBlock], today: date, pay_first: bool) -> Unpaid:
    """The unpaid minutes of the blocks current ``today`` (a block waiting to start is counted there)."""
    minutes = sum(b.remaining_minutes for b in blocks if not b.paid and is_current(b, today))
    return Unpaid(minutes, minutes if pay_first else 0)


def waiting_block(blocks: Iterable[NamedPaidBlock], today: date, pay_first: bool) -> str | None:
    """Under pay-first, the first current unpaid block held for payment, in words: ``block 1 (INV-1042,
    10h)``; None when none waits (or pay-first is off)."""
    if not pay_first:
        return None
    held = [b for b in blocks if not b.paid and b.remaining_minutes > 0 and is_current(b, today)]
    if not held:
        return None
    block = min(held, key=lambda b: (b.number or 0, b.id))
    number, size = block.number or block.id, format_duration(block.remaining_minutes)
    return f"block {number} ({block.reference}, {size})" if block.reference else f"block {number} ({size})"


def left_words(remaining: int, figures: Unpaid) -> str:
    """``10h left (4h unpaid)``: the balance with its unpaid part said apart."""
    text = f"{format_duration(remaining)} left"
    said = figures.words()
    return f"{text} ({said})" if said else text


def held_note(display_name: str, held: int, overage: int) -> str | None:
    """What a technician's confirmation says when pay-first kept an unpaid block from paying."""
    if not held:
        return None
    went = "; this went to overage" if overage else ""
    return f"{display_name} has {format_duration(held)} unpaid waiting for payment (pay-first){went}."


# -- marking a block paid or unpaid ------------------------------------------------------------------


def check_mark_paid(role: Role) -> None:
    require(role, Role.MANAGER, "mark a block paid")


def check_mark_unpaid(role: Role, reason: str) -> None:
    """A paid block becomes unpaid again only by an admin, who says why."""
    require(role, Role.ADMIN, "mark a paid block unpaid")
    if not reason.strip():
        raise ParseError(
            "Say why the block is unpaid again: a reason is required.", "block unpaid acme 3 card charge reversed"
        )


def refuse_voided(label: str, display_name: str, voided: bool) -> None:
    """A voided block has nothing left to pay for."""
    if voided:
        raise Refused(f"{label} of {display_name} is voided: there is nothing to mark.")


@dataclass(frozen=True)
class Payment:
    """A block marked paid or unpaid: what the ledger line and the reply say."""

    paid: bool
    label: str  # "Block 3"
    minutes: int
    reference: str | None
    reason: str = ""

    @property
    def kind(self) -> str:
        return "paid" if self.paid else "unpaid"

    def note(self) -> str:
        ref = f" {self.reference}" if self.reference else ""
        why = f": {self.reason}" if self.reason else ""
        return f"{self.label} ({format_duration(self.minutes)}{ref}) marked {self.kind}{why}"[:200]


def read_payment_words(words: Sequence[str]) -> tuple[bool | None, list[str]]:
    """``paid``/``unpaid`` anywhere among a top-up's words: (paid or None if neither, the other words).
    Both at once is refused."""
    said = {w.lower() for w in words} & (PAID_WORDS | UNPAID_WORDS)
    if len(said) > 1:
        raise ParseError("A block is either paid or unpaid: give one.", "topup acme 10h unpaid invoice INV-1042")
    rest = [w for w in words if w.lower() not in PAID_WORDS | UNPAID_WORDS]
    if not said:
        return None, rest
    return said == PAID_WORDS, rest
