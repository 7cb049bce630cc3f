"""What a block becomes in the MSP's PSA, and where a block stands there (issue 26, part 2).

Pure rules shared by every PSA: a vendor module (``bot.psa``) only turns a :class:`PsaBlock` into its
API's record (a ConnectWise agreement addition, an Autotask contract block, a HaloPSA pre-pay record).
Minutes stay whole numbers here; hours appear only at the vendor's edge (:func:`hours_of`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

KIND = "psa_block"  # the outbox row of a block's write to the PSA (destination ``psa``)
REFERENCE = "blocktime:"  # our reference, as the PSA's record carries it: "blocktime:<hex>"
IMPORTED = "psa"  # a block's source when it came from the PSA (``psa import-blocks``): never written back


@dataclass(frozen=True)
class PsaBlock:
    """One block as the PSA should hold it."""

    reference: str  # ours, stored in the PSA's record, so a retry finds a record it already created
    company_id: str
    agreement_id: str
    product_id: str | None  # the PSA's product a block is sold as (ConnectWise)
    minutes: int
    price: Decimal | None  # the block's price, as sold here
    purchased_on: date  # the day it was sold, on the client's clock
    start_on: date
    expires_on: date | None
    paid: bool
    note: str  # what the PSA's record says of it: "10h block 3, INV-1042 (blocktime)"
    invoice: str | None = None  # our reference of the sale (an invoice number), when there is one
    voided_on: date | None = None  # voided: the PSA's record is cancelled as of that day

    @property
    def hours(self) -> Decimal:
        return hours_of(self.minutes)

    @property
    def hourly_rate(self) -> Decimal | None:
        if self.price is None or not self.minutes:
            return None
        return (self.price * 60 / self.minutes).quantize(Decimal("0.01"), ROUND_HALF_UP)

    @property
    def tag(self) -> str:
        """Our reference as the PSA's record carries it."""
        return REFERENCE + self.reference


def hours_of(minutes: int) -> Decimal:
    """Minutes as hours with two places (what every PSA's hours field takes)."""
    return (Decimal(minutes) / 60).quantize(Decimal("0.01"), ROUND_HALF_UP)


def carries(text: object, reference: str) -> bool:
    """Whether a PSA's field holds our reference ``reference``."""
    return (REFERENCE + reference) in str(text or "")


def ours(text: object) -> bool:
    """Whether a PSA's field holds a reference of ours (a block blocktime wrote)."""
    return REFERENCE in str(text or "")


@dataclass(frozen=True)
class BlockPsaState:
    """Where a block stands in the PSA: ``queued``, ``synced`` (its record's ``id``), ``failed``
    (``error``: why, in the PSA's words) or ``none`` (not written: no PSA, the client not linked)."""

    state: str
    id: str | None = None
    error: str | None = None

    @property
    def text(self) -> str:
        if self.state == "synced":
            return f"synced #{self.id}" if self.id else "synced"
        if self.state == "failed":
            return f"failed: {self.error}"
        return self.state

    def as_dict(self) -> dict[str, str | None]:
        return {"state": self.state, "id": self.id, "error": self.error}


def block_psa_state(status: str | None, error: str | None, psa_id: str | None) -> BlockPsaState:
    """A block's PSA state from its outbox row's ``status`` (None: no row) and the PSA id stored on it.
    An imported block has no row but its PSA id: it is in the PSA."""
    if status == "failed":
        return BlockPsaState("failed", psa_id, error or "refused")
    if status == "pending":
        return BlockPsaState("queued", psa_id)
    if status == "sent" or psa_id:
        return BlockPsaState("synced", psa_id)
    return BlockPsaState("none")


def state_text(psa: Mapping[str, str | None] | None) -> str:
    """A block's PSA state (``BlockPsaState.as_dict``) in words; "" when it is not written (none)."""
    if not psa or psa.get("state") in (None, "none"):
        return ""
    return BlockPsaState(str(psa["state"]), psa.get("id"), psa.get("error")).text
