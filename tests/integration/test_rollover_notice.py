"""The expiry notice of a recurring period's block that closed (kind ``expiry``), on both databases:
besides what was forfeited it says what rolled over into the next period's block, in every transport
(Slack, e-mail, the webhook's JSON)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from bot.clock import FixedClock
from bot.domain.notices import BlockForfeited, notice_from_json
from bot.jobs.transports import webhook_body
from bot.phrasebook import email_message
from bot.services import Actor, Context
from bot.services.allotments import renew_allotments
from handlers.views.outbox import layout
from storage.models import OutboxMessage
from tests.helpers import do


def expiry_notices(ctx: Context) -> dict[str, dict[str, Any]]:
    """The expiry notices queued, by destination."""
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "expiry"))
        return {r.destination: json.loads(r.payload) for r in rows}


def month_closed(ctx: Context, clock: FixedClock, admin: Actor, rollover: str) -> Context:
    alerting = Context(
        ctx.db,
        replace(
            ctx.settings,
            alert_channel="CALERTS",
            alert_email_to="am@example.com",
            smtp_url="smtp://127.0.0.1:9",
            alert_webhook_url="http://127.0.0.1:9/hook",
        ),
        clock,
    )
    clock.at = datetime(2026, 11, 25, 15, tzinfo=UTC)
    do(alerting, admin, "client add acme Acme")
    do(alerting, admin, f"client set acme grace 0d monthly 10h rollover {rollover}")
    do(alerting, admin, "logtime acme 8h30m server work")  # 1h30m unused at the month's end
    clock.at = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    renew_allotments(alerting)
    return alerting


def test_the_expiry_notice_says_what_rolled_over_and_into_which_block(
    ctx: Context, clock: FixedClock, admin: Actor
) -> None:
    alerting = month_closed(ctx, clock, admin, "1h")
    queued = expiry_notices(alerting)
    assert set(queued) == {"slack", "email", "webhook"}
    facts = queued["slack"]
    assert (facts["forfeited_minutes"], facts["rolled_over_minutes"], facts["rolled_into_block"]) == (30, 60, 2)
    notice = notice_from_json(facts)
    assert isinstance(notice, BlockForfeited)
    slack = json.dumps(layout(notice)[0].to_dict(), ensure_ascii=False)
    assert "30m unused" in slack and "1h rolled over into block 2." in slack, slack
    subject, body = email_message(notice_from_json(queued["email"]))
    assert "30m of block 1 forfeited (expired 2026-11-30); 1h rolled over into block 2." in body
    assert "1h rolled over into block 2" in subject
    hook = json.loads(webhook_body(queued["webhook"], 7))
    assert (hook["event"], hook["data"]["rolled_over_minutes"], hook["data"]["rolled_into_block"]) == (
        "blocktime.expiry",
        60,
        2,
    )


def test_without_a_rollover_the_notice_says_only_the_forfeit(ctx: Context, clock: FixedClock, admin: Actor) -> None:
    alerting = month_closed(ctx, clock, admin, "0")
    facts = expiry_notices(alerting)["slack"]
    assert (facts["forfeited_minutes"], facts["rolled_over_minutes"], facts["rolled_into_block"]) == (90, 0, None)
    notice = notice_from_json(facts)
    assert "rolled over" not in json.dumps(layout(notice)[0].to_dict())
    assert "rolled over" not in email_message(notice)[1]
