"""Small Block Kit helpers shared by the Slack handlers and the alert/report messages: sections that
respect Slack's limits, and escaping of user text in mrkdwn."""

from __future__ import annotations

import re
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.durations import format_duration
from bot.phrasebook import bar

SECTION_LIMIT = 2900  # Slack allows 3000 characters per section text
MESSAGE_BLOCKS = 48  # Slack allows 50 blocks per message


def to_dicts(blocks: list[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


def clip(text: str, limit: int = SECTION_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(text: str, accessory: Any = None) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text)), accessory=accessory)


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(text, 2900))])


def section_dict(text: str) -> dict[str, Any]:
    """``section(text).to_dict()`` without the model objects, for the hot ``/logtime`` reply (model
    building and validation was ~10% of its CPU); the tests check its output with the models."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}


def context_dict(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text)}]}


def escape(text: str) -> str:
    """User text shown in mrkdwn: Slack's three control characters escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SAFE_LINK = re.compile(r"&lt;(@[UW][A-Z0-9]+|#[CG][A-Z0-9]+|https?://[^\s|&]+)(?:\|[^<>&]*)?&gt;")


def note_text(text: str) -> str:
    """A note in a reply only staff read: escaped, but user mentions, channel links and web links
    shown as Slack renders them, without their labels: a link shows the URL it goes to, never a label
    that could pass for another (``<https://evil.example|https://bank.example>``). ``<!channel>``,
    ``<!here>`` and group pings stay plain text."""
    return _SAFE_LINK.sub(lambda found: f"<{found[1]}>", escape(text))


def balance_line(remaining: int, percent: int | None) -> str:
    pct = "" if percent is None else f" {percent}%"
    return f"*{format_duration(remaining)}* left `{bar(percent)}`{pct}"


def lines_as_sections(lines: list[str], room: int = MESSAGE_BLOCKS, line_limit: int = 500) -> list[Block]:
    """Pack lines into as few sections as the 3000-character limit allows, within ``room`` blocks; a
    list's line (an entry with a long note) is clipped at ``line_limit``."""
    blocks: list[Block] = []
    chunk: list[str] = []
    for line in lines:
        if chunk and len("\n".join([*chunk, line])) > SECTION_LIMIT:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(clip(line, line_limit))
    if chunk:
        blocks.append(section("\n".join(chunk)))
    if len(blocks) > room:
        blocks = blocks[: room - 1] + [context("…and more not shown here: use the CLI or a report for the full list.")]
    return blocks
