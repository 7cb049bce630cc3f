"""The MSP's PSA, one module per vendor behind one interface (:class:`Psa`).

A vendor module turns :class:`bot.domain.psa_records.PsaTime` into its API's records and back, and says every
failure as :class:`PsaError`: ``permanent`` when the PSA refused the request as it stands (a missing
mapping, a validation error: retrying the same would fail the same; :class:`PsaAccessRefused` when it
refused blocktime's credentials), else it may be retried, after ``retry_after`` seconds when the PSA
said so (HTTP 429)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from bot.config import Settings
from bot.domain.followups import Followup
from bot.domain.psa_blocks import PsaBlock
from bot.domain.psa_records import PrepaidBlock, PsaTime, TheirTime


class PsaError(Exception):
    def __init__(self, message: str, permanent: bool = False, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.retry_after = retry_after


class PsaNotFound(PsaError):
    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class PsaAccessRefused(PsaError):
    """The PSA refused blocktime itself (HTTP 401 or 403, a refused sign-in): wrong keys or a security
    role that may not do this. Not fixed by waiting, nor by any mapping: the settings or the PSA's API
    member must change (``psa check`` exits 4)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


@dataclass(frozen=True)
class Company:
    id: str
    identifier: str
    name: str


@dataclass(frozen=True)
class Agreement:
    id: str
    name: str
    company_id: str
    kind: str  # the agreement's type, as the PSA names it
    active: bool


class Psa(Protocol):
    name: str  # "ConnectWise PSA"
    needs_ticket: bool  # records time only on tickets (HaloPSA, Autotask); else on the company too

    def whoami(self) -> str: ...  # reaches the API; its version, or raises PsaError

    def companies(self, name: str) -> list[Company]: ...  # by name (prefix) or identifier

    def company(self, company_id: str) -> Company: ...  # PsaNotFound

    def agreements(self, company_id: str) -> list[Agreement]: ...

    def agreement(self, agreement_id: str) -> Agreement: ...  # PsaNotFound

    def member_by_email(self, email: str) -> str | None: ...

    def member(self, member_id: str) -> str: ...  # its name; PsaNotFound

    def work_type_exists(self, work_type_id: str) -> bool: ...

    # the record carrying our reference; a PSA that keeps time on tickets looks on these
    def find_time(self, reference: str, tickets: Sequence[str]) -> str | None: ...

    def create_time(self, time: PsaTime) -> str: ...

    # the id of the record that now holds the time (a PSA that saves by upsert may make a new one);
    # PsaNotFound when it is gone
    def update_time(self, psa_id: str, time: PsaTime) -> str: ...

    def delete_time(self, psa_id: str) -> None: ...  # PsaNotFound when it is gone already

    def times(self, agreement_id: str, start: datetime, end: datetime) -> list[TheirTime]: ...  # [start, end)

    # the prepaid hours offered on ``today`` (a PSA whose hours renew each cycle: the cycle holding it)
    def prepaid_blocks(self, agreement_id: str, today: date) -> list[PrepaidBlock]: ...

    # a low balance's follow-up (bot.domain.followups): the record carrying its reference, else None
    def find_followup(self, followup: Followup) -> str | None: ...

    def create_followup(self, followup: Followup) -> str: ...  # the new record's id
    # -- blocks sold here (issue 26): the PSA's record of a block, named like ``PrepaidBlock.source``
    def find_block(self, block: PsaBlock) -> str | None: ...  # the record carrying ``block.reference``

    def create_block(self, block: PsaBlock) -> str: ...

    def void_block(self, psa_id: str, block: PsaBlock) -> None: ...  # cancelled as of block.voided_on

    # the record's paid flag as ``block.paid`` says (a mark since it was written); nothing where the
    # vendor's record has no paid flag
    def update_block(self, psa_id: str, block: PsaBlock) -> None: ...


LABELS = {"connectwise": "ConnectWise PSA", "halopsa": "HaloPSA", "autotask": "Autotask"}


def psa_label(settings: Settings) -> str | None:
    return LABELS.get(settings.psa or "")
