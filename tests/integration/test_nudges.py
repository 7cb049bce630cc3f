"""The nudge's memory: who replied in which linked ticket thread and when, until a nudge asked about it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.clock import FixedClock
from bot.domain.commands import Link
from bot.domain.roles import Standing
from bot.services import Actor, Context
from bot.services.channels import link_channel
from bot.services.nudges import note_reply, nudge
from bot.services.people import remember_person
from storage.models import OutboxMessage, ThreadActivity
from tests.helpers import do

THREAD = "1795597200.000100"


def _kept(ctx: Context) -> int:
    with ctx.db.unit_of_work(read_only=True) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(ThreadActivity)) or 0)


def test_a_reply_after_the_days_nudge_is_asked_about_the_next_day(ctx: Context, clock: FixedClock) -> None:
    from dataclasses import replace

    ctx.settings = replace(ctx.settings, alert_channel="CALERTS")
    do(ctx, Actor.local_admin(), "client add acme Acme")
    link_channel(ctx, Actor.local_admin(), "CACME", Link("acme"))
    tech = Actor("UTECH", "Tess", standing=Standing.STAFF)
    remember_person(ctx, "UTECH", "T0", Standing.STAFF, "Tess")  # what Slack said when the reply came in
    today = clock.now().date()
    assert nudge(ctx, today) == "0 people nudged about 0 threads without time"
    clock.advance(hours=2)  # 17:00, after the day's nudge
    assert note_reply(ctx, tech, "CACME", THREAD)
    assert _kept(ctx) == 1
    clock.advance(days=1)
    assert nudge(ctx, today + timedelta(days=1)) == "1 people nudged about 1 threads without time"
    assert _kept(ctx) == 0
    assert note_reply(ctx, Actor("UGONE", "Gone", standing=Standing.STAFF), "CACME", THREAD)
    remember_person(ctx, "UGONE", "T0", Standing.EXTERNAL, "Gone")  # deactivated since
    assert nudge(ctx, today + timedelta(days=1)) == "0 people nudged about 0 threads without time"
    with ctx.db.unit_of_work(read_only=True) as uow:
        assert uow.session.scalar(select(OutboxMessage.target).where(OutboxMessage.kind == "nudge")) == "UTECH"


def test_nudges_off_keeps_nothing_and_a_client_contact_is_never_kept(ctx: Context) -> None:
    do(ctx, Actor.local_admin(), "client add acme Acme")
    link_channel(ctx, Actor.local_admin(), "CACME", Link("acme"))
    tech = Actor("UTECH", "Tess", standing=Standing.STAFF)
    do(ctx, tech, "nudges off")
    assert not note_reply(ctx, tech, "CACME", THREAD)
    assert not note_reply(ctx, Actor("UEXT", "Eve", standing=Standing.EXTERNAL), "CACME", THREAD)
    assert _kept(ctx) == 0
    do(ctx, tech, "nudges on")
    assert note_reply(ctx, tech, "CACME", THREAD) and _kept(ctx) == 1
