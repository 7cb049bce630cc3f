"""How blocks' writes to the PSA look in Slack (issue 26, part 2): the digest's list of blocks the PSA
refused, and a block's PSA state in a reply or App Home ("synced #addition:7", "failed: why")."""

from __future__ import annotations

from collections.abc import Mapping

from bot.domain.durations import format_duration
from bot.domain.notices import PsaFailures
from bot.domain.psa_blocks import state_text
from handlers.views.blockkit import escape


def psa_block_lines(psa: PsaFailures) -> list[str]:
    """The digest's lines of blocks that did not reach the PSA, each in the PSA's words."""
    if not psa.failed_block_count:
        return []
    lines = [f"*Blocks that did not reach {escape(psa.name)}* ({psa.failed_block_count})"]
    lines += [
        f"• `{b.client}` block {b.block_number or b.block_id}, {format_duration(b.minutes)}"
        f"{' (its void)' if b.voided else ''}: {escape(b.error)}"
        for b in psa.failed_blocks
    ]
    if psa.failed_block_count > len(psa.failed_blocks):
        lines.append(f"…and {psa.failed_block_count - len(psa.failed_blocks)} more (`blocktime psa retry`).")
    return lines


def psa_block_state(psa: Mapping[str, str | None] | None) -> str:
    """A block's PSA state in words: "queued", "synced #addition:7", "failed: why" ("" for none)."""
    return state_text(psa)
