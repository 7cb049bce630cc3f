"""A low balance opens work in the PSA (issue 26, part 5): which follow-up a client gets, and what it says.

``client set acme psa-alert activity|ticket|off|default`` picks the kind for one client; ``PSA_ALERT``
is the default (off). An *activity* is the account manager's to-do (ConnectWise: a sales activity;
Autotask: a to-do; HaloPSA has none, so a ticket); a *ticket* lands on the follow-up board or queue
(ConnectWise: a service ticket on ``CONNECTWISE_FOLLOWUP_BOARD``; Autotask: a ticket in
``AUTOTASK_FOLLOWUP_QUEUE``; HaloPSA: a ticket).

Pure: the words come from the facts of the threshold alert (``bot.domain.notices.ThresholdCrossed``),
so the PSA, Slack and e-mail say the same figures."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bot.domain.durations import format_duration
from bot.domain.errors import ParseError

KINDS = ("activity", "ticket")
WORDS = (*KINDS, "off")
REFERENCE = "blocktime:"  # in the record's text (and its own reference field where the PSA has one)
SUMMARY_LIMIT = 100  # ConnectWise's ticket summary and activity name hold 100 characters


def parse_psa_alert(text: str) -> str | None:
    """``activity``, ``ticket`` or ``off``; ``default`` (None): the ``PSA_ALERT`` setting applies."""
    word = text.strip().lower()
    if word == "default":
        return None
    if word not in WORDS:
        raise ParseError(
            f"`{text}` is not a PSA follow-up: use activity, ticket, off or default.",
            "client set acme psa-alert ticket",
        )
    return word


def followup_kind(own: str | None, default: str) -> str | None:
    """The follow-up a crossing opens: the client's own choice, else the default; None when off."""
    chosen = own or default
    return chosen if chosen in KINDS else None


@dataclass(frozen=True)
class Followup:
    """What the PSA is asked to open, in every vendor's words: ``summary`` (a title of at most 100
    characters), ``details`` (the text; our reference is added to it), for ``company_id``,
    assigned to ``member_id`` (the account manager's PSA member; an activity needs one), on ``board``
    (a ConnectWise board's id or name, an Autotask queue's id; None: the PSA's default)."""

    reference: str
    kind: str  # activity | ticket
    company_id: str
    summary: str
    details: str
    member_id: str | None = None
    board: str | None = None
    at: datetime | None = None  # when the balance crossed (an Autotask to-do starts then)


def followup_words(
    facts: Mapping[str, Any], link: str | None, refill: Mapping[str, Any] | None = None
) -> tuple[str, str]:
    """(summary, details) of the follow-up of one threshold crossing. ``refill``: the block a refill
    added in the same change (``minutes``, ``paid``, ``rule``); then the follow-up says so and asks
    only that it be invoiced, instead of asking for a sale."""
    name = str(facts.get("display_name") or facts.get("client") or "?")
    left = int(facts.get("remaining_minutes") or 0)
    threshold = str(facts.get("threshold") or "")
    left_words = f"{format_duration(left)} left" if left >= 0 else f"{format_duration(-left)} over"
    lines = [f"{name} has {left_words} of prepaid time" + (f" (crossed {threshold})" if threshold else "") + "."]
    burn = _per_day(facts.get("burn_per_day_minutes"))
    if burn:
        run_out = facts.get("run_out_on")
        lines.append(
            f"Burn rate: {format_duration(burn)} a day over the last 30 days"
            + (f"; at this rate it runs out on {run_out}." if run_out and left > 0 else ".")
        )
    else:
        lines.append("Burn rate: no billable time in the last 30 days.")
    if facts.get("next_expiry"):
        lines.append(f"Next block expiry: {facts['next_expiry']}.")
    if refill:
        paid = "paid" if refill.get("paid") else "unpaid"
        rule = f" by rule {refill['rule']}" if refill.get("rule") else ""
        lines.append(
            f"A refill of {format_duration(int(refill.get('minutes') or 0))} ({paid}) was added automatically{rule}: "
            "nothing to sell; invoice it if it is unpaid."
        )
        action = "refilled"
    else:
        lines.append("Please contact the client about their next block of hours.")
        action = "low on hours"
    client = str(facts.get("client") or "")
    lines.append(f"Balance: {link}" if link else f"Balance in Slack: /balance {client}")
    summary = f"{name}: {left_words}, {action}"
    if len(summary) > SUMMARY_LIMIT:
        summary = summary[: SUMMARY_LIMIT - 1] + "…"
    return summary, "\n".join(lines)


def with_reference(details: str, reference: str) -> str:
    return f"{details}\n{REFERENCE}{reference}"


def _per_day(value: object) -> int:
    """Minutes a day, rounded (the alert's facts say it as a decimal string, ``"42.5"``)."""
    try:
        return int(Decimal(str(value)).to_integral_value()) if value not in (None, "") else 0
    except InvalidOperation:
        return 0
