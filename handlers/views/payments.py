"""Blocks waiting for payment (issue 26, part 1), as App Home and the managers' digest show them: one
section per unpaid block with its **Mark paid** button (``block_mark_paid``; its value is what
``block paid`` takes: the client's handle and the block's number). Pure (no I/O)."""

from __future__ import annotations

from slack_sdk.models.blocks import Block, ButtonElement, ConfirmObject

from bot.domain.durations import format_duration
from bot.domain.notices import UnpaidBlock
from handlers.views.blockkit import context, escape, section

MARK_PAID_ACTION = "block_mark_paid"  # value: "<client handle> <block number>" (``block paid acme 3``)


def unpaid_words(block: UnpaidBlock) -> str:
    """``Acme (acme) block 3: 10h, INV-1042, 9h left``."""
    ref = f", {escape(block.reference)}" if block.reference else ""
    return (
        f"*{escape(block.display_name)}* (`{block.client}`) block {block.block_number or block.block_id}: "
        f"{format_duration(block.minutes)}{ref}, {format_duration(block.remaining_minutes)} left"
    )


def mark_paid_button(block: UnpaidBlock) -> ButtonElement:
    number = block.block_number or block.block_id
    return ButtonElement(
        text="Mark paid",
        action_id=MARK_PAID_ACTION,
        value=f"{block.client} {number}",
        confirm=ConfirmObject(
            title="Mark this block paid?",
            text=f"Block {number} of {block.display_name} ({format_duration(block.minutes)}) is paid.",
            confirm="Mark paid",
            deny="Not yet",
        ),
    )


def unpaid_blocks(unpaid: list[UnpaidBlock] | tuple[UnpaidBlock, ...], room: int, more: str) -> list[Block]:
    """A heading and one section per unpaid block with its Mark paid button, in at most ``room`` blocks;
    ``more`` says where the rest are listed."""
    if not unpaid or room < 3:
        return []
    shown = list(unpaid[: room - 2])
    blocks: list[Block] = [section(f"*Waiting for payment* ({len(unpaid)} block{'' if len(unpaid) == 1 else 's'})")]
    blocks += [section(unpaid_words(b), accessory=mark_paid_button(b)) for b in shown]
    if len(unpaid) > len(shown):
        blocks.append(context(f"…and {len(unpaid) - len(shown)} more: {more}."))
    return blocks
