"""The App Home dashboard: every client, lowest balance first, with a bar, the next expiry and the
last entry; buttons to log time and top up. Slack allows 100 blocks in a Home tab."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    DividerBlock,
    HeaderBlock,
)
from slack_sdk.models.views import View

from bot.domain.durations import as_recorded, format_duration
from bot.domain.payments import Unpaid
from bot.domain.worktypes import STANDARD, multiplier_label
from bot.phrasebook import bar, block_source_words, percent_label
from bot.services.queries import Dashboard, MyDay
from bot.services.results import BalanceView
from handlers.views.blockkit import context, escape, section
from handlers.views.payments import unpaid_blocks
from handlers.views.replies import timer_actions

OPEN_LOG_ACTION = "home_log_time"
OPEN_TOPUP_ACTION = "home_top_up"
HOME_EDIT_ACTION = "home_edit_entry"  # value: the entry id
HOME_VOID_ACTION = "home_void_entry"
HOME_BLOCKS = 100
UNPAID_SHOWN = 8  # blocks waiting for payment shown with Mark paid (the rest: ``blocks <client>``)


ATTENTION_LIMIT = 10


def home_view(dashboard: Dashboard, can_top_up: bool = True, mine: MyDay | None = None) -> dict[str, Any]:
    """The dashboard; the Top up button and the blocks waiting for payment (Mark paid) only for those
    who may top up (account managers, admins); ``mine``: the viewer's running timer and today's
    entries, with their buttons."""
    balances = dashboard.balances
    blocks: list[Block] = [HeaderBlock(text="blocktime")]
    if dashboard.attention:
        shown = dashboard.attention[:ATTENTION_LIMIT]
        lines = [f":rotating_light: *{escape(a.display_name)}* (`{a.client}`): {escape(a.reason)}" for a in shown]
        if len(dashboard.attention) > len(shown):
            lines.append(f"…and {len(dashboard.attention) - len(shown)} more.")
        blocks += [section("*Needs attention*\n" + "\n".join(lines)), DividerBlock()]
    buttons = [ButtonElement(text="Log time", action_id=OPEN_LOG_ACTION, style="primary")]
    if can_top_up:
        buttons.append(ButtonElement(text="Top up", action_id=OPEN_TOPUP_ACTION))
    blocks.append(ActionsBlock(elements=buttons))
    if can_top_up:  # managers: blocks waiting for payment, each with Mark paid
        paying = unpaid_blocks(dashboard.unpaid, UNPAID_SHOWN + 2, "`blocks <client>` lists each client's")
        blocks += [*paying, DividerBlock()] if paying else []
    if mine is not None:
        blocks += my_blocks(mine)
    blocks += [
        section(f"*Balances, lowest first* ({len(balances)} client{'' if len(balances) == 1 else 's'})"),
        DividerBlock(),
    ]
    room = (HOME_BLOCKS - len(blocks) - 1) // 2
    for view in balances[:room]:
        blocks.extend(client_blocks(view))
    if len(balances) > room:
        blocks.append(context(f"…and {len(balances) - room} more clients: `/balance` lists them all."))
    if not balances:
        blocks.append(section("No clients yet. An admin adds one with `/blocktime client add acme Acme Corp`."))
    return View(type="home", blocks=blocks).to_dict()


def my_blocks(mine: MyDay) -> list[Block]:
    """The viewer's running timer (Stop, Discard) and entries logged today (Edit, Void)."""
    blocks: list[Block] = []
    timer = mine.timer
    if timer is not None:
        note = f" — {escape(timer.note)}" if timer.note else ""
        blocks.append(
            section(
                f":stopwatch: *Timer running* for *{escape(timer.display_name)}*: {format_duration(timer.minutes)} "
                f"since {timer.since}{note}"
            )
        )
        blocks.append(timer_actions(timer.started_at.isoformat()))
    if mine.entries_today:
        shown = len(mine.entries_today)
        partial = f" in all; the newest {shown} of {mine.count_today} shown" if mine.count_today > shown else ""
        blocks.append(section(f"*Your entries today* ({format_duration(mine.minutes_today)} deducted{partial})"))
        for entry in mine.entries_today:
            typed = as_recorded(entry.typed, entry.minutes)
            kind = f" {entry.work_type} {multiplier_label(entry.multiplier)}" if entry.work_type != STANDARD else ""
            note = f" — {escape(entry.note)}" if entry.note else ""
            psa = f"\nPSA: {escape(entry.psa)}" if entry.psa else ""  # synced, queued, or why it failed
            blocks.append(
                section(
                    f"#{entry.id} · `{entry.client}` · *{escape(typed)}*{kind} → "
                    f"{format_duration(entry.billable_minutes)}{' (non-billable)' if entry.non_billable else ''}"
                    f"{note}{psa}"
                )
            )
            blocks.append(
                ActionsBlock(
                    block_id=f"entry-{entry.id}",
                    elements=[
                        ButtonElement(text="Edit", action_id=HOME_EDIT_ACTION, value=str(entry.id)),
                        ButtonElement(
                            text="Void",
                            action_id=HOME_VOID_ACTION,
                            value=str(entry.id),
                            style="danger",
                            confirm=ConfirmObject(
                                title="Void this entry?",
                                text=f"Entry #{entry.id} ({typed} for {entry.client}) goes back to the block.",
                                confirm="Void it",
                                deny="Keep it",
                            ),
                        ),
                    ],
                )
            )
    if blocks:
        blocks.append(DividerBlock())
    return blocks


def client_blocks(view: BalanceView) -> list[Block]:
    percent = percent_label(view)
    expiry = f" · next expiry {view.next_expiry}" if view.next_expiry else ""
    warn = ":red_circle: " if view.remaining_minutes <= 0 else ""
    closing = [b.closing_on for b in view.blocks if b.closing_on is not None]
    grace = (
        f" · {format_duration(view.in_grace_minutes)} expired, closing on {min(closing)}"
        if view.in_grace_minutes
        else ""
    )
    waits = f" · {view.waiting}" if view.waiting else ""
    said = Unpaid(view.unpaid_minutes, view.held_for_payment_minutes).words()
    unpaid = f" ({said})" if said else ""
    head = (
        f"{warn}*{escape(view.display_name)}* (`{view.client}`)\n`{bar(view.percent_left)}` {percent} · "
        f"*{format_duration(view.remaining_minutes)}* left{unpaid}{grace}{waits}{expiry}"
    )
    last = view.last_entries[0] if view.last_entries else None
    detail = (
        f"Last entry: {last.work_date} · {escape(last.user_name)} · {escape(last.typed)}"
        + (f" — {escape(last.note)}" if last.note else "")
        if last
        else "No entries yet."
    )
    # where a block came from, as `blocks` says it: an allotment with hours rolled in may hold more than its size
    sourced = [
        f"{b.label}: {format_duration(b.remaining_minutes)} of {format_duration(b.minutes)} left · "
        f"{escape(block_source_words(b))}"
        for b in view.blocks
        if block_source_words(b)
    ]
    return [section(head), context("\n".join([*sourced, detail]))]


def contact_home_view(refusal: str) -> dict[str, Any]:
    """The Home tab of someone who is not the MSP's staff: no client, no figure."""
    blocks: list[Block] = [
        HeaderBlock(text="blocktime"),
        section(
            "blocktime keeps track of the support hours your IT provider's team logs.\n"
            + escape(refusal.replace(":warning: ", ""))
        ),
    ]
    return View(type="home", blocks=blocks).to_dict()
