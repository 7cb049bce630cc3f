"""What the PSA tests share: an MSP's client linked to the fakes' records, and delivering the outbox."""

from __future__ import annotations

import random

from bot.bootstrap import connect, transports_for
from bot.jobs.dispatcher import Dispatcher
from bot.psa import Psa
from bot.services import Actor, Context, psa_admin
from tests.helpers import do

TECH = Actor("UTECH", "Tess Tech")


def linked(ctx: Context) -> Context:
    """Acme linked to company 250 and agreement 30, its other time on ticket 5000; Tess is member 17."""
    admin = Actor.local_admin()
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "topup acme 10")
    do(ctx, admin, "client set acme psa-company 250 psa-agreement 30 psa-ticket 5000")
    psa_admin.member(ctx, admin, None, "UTECH", "17")
    return ctx


def deliver(ctx: Context) -> int:
    """One pass of the outbox dispatcher: how many messages it delivered."""
    return Dispatcher(ctx, transports_for(ctx), rng=random.Random(0)).run_once()


def psa_of(ctx: Context) -> Psa:
    psa = connect(ctx.settings)
    assert psa is not None
    return psa
