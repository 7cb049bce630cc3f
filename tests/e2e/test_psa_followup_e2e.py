"""A low balance opens work in the PSA (issue 26, part 5), end to end: ``client set acme psa-alert`` from
the CLI (``--json`` too) and from Slack, the follow-up of a crossing reaching each PSA's fake from the
``blocktime`` command, and a refusal posted to Slack where the alerts go."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from bot.bootstrap import transports_for
from bot.jobs.dispatcher import Dispatcher
from bot.services import Actor, Context
from storage.db import Database
from tests.conftest import psa_settings
from tests.e2e.processes import Cli
from tests.e2e.slack_harness import RunningApp, SlackDriver, assert_valid_message
from tests.fakes.slack_api import FakeSlack
from tests.helpers import do
from tests.integration.test_psa_followup import BOARD, QUEUE, opened


def test_the_cli_sets_the_follow_up_shows_it_in_json_and_a_crossing_reaches_the_psa(
    cli: Cli, psa_fake: Any, database: Database
) -> None:
    cli.env.update(psa_fake.env(PSA_ALERT="off", CONNECTWISE_FOLLOWUP_BOARD=BOARD, AUTOTASK_FOLLOWUP_QUEUE=str(QUEUE)))
    cli.run("client", "add", "acme", "Acme", "Corp")
    cli.run("topup", "acme", "10")
    assert (
        cli.run("client", "set", "acme", "psa-company", "250", "psa-agreement", "30", "psa-ticket", "5000").returncode
        == 0
    )
    shown = cli.json("client", "show", "acme")
    assert (shown["psa_alert"], shown["psa_alert_default"]) == ("off", True)
    refused = cli.run("client", "set", "acme", "psa-alert", "email")
    said = " ".join((refused.stdout + refused.stderr).split())
    assert refused.returncode != 0 and "use activity, ticket, off or default" in said and "psa-alert ticket" in said
    changed = cli.json("client", "set", "acme", "psa-alert", "ticket")
    assert (changed["psa_alert"], changed["psa_alert_default"]) == ("ticket", False)
    assert "psa-alert ticket" in " ".join(cli.run("client", "show", "acme").stdout.split())
    assert cli.run("psa", "member", "UADMIN", "17").returncode == 0
    logged = cli.run("--as", "UADMIN", "logtime", "acme", "6h", "server", "migration")
    assert logged.returncode == 0, logged.stdout + logged.stderr
    [ticket] = opened(psa_fake)  # the CLI delivers what it queued before it exits
    assert ticket["title"] == "Acme Corp: 4h left, low on hours" and "Burn rate" in ticket["text"]
    back = cli.json("client", "set", "acme", "psa-alert", "default")
    assert (back["psa_alert"], back["psa_alert_default"]) == ("off", True)


def test_slack_sets_the_follow_up_and_a_refusal_is_posted_where_the_alerts_go(
    database: Database, connectwise: Any, slack_ctx: Context, fake_slack: FakeSlack, clock: Any
) -> None:
    settings = replace(
        psa_settings(connectwise, psa_alert="off"),
        slack_bot_token=slack_ctx.settings.slack_bot_token,
        slack_signing_secret=slack_ctx.settings.slack_signing_secret,
        slack_api_url=slack_ctx.settings.slack_api_url,
        alert_channel="CALERTS",
    )
    ctx = Context(database, settings, clock)
    admin = Actor.local_admin()
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "topup acme 10")
    do(ctx, admin, "client set acme psa-company 250 psa-agreement 30")
    fake_slack.reset()
    running = RunningApp(ctx)
    try:
        slack = SlackDriver(running.port, fake_slack, running.app)
        reply = slack.command("/blocktime", "client set acme psa-alert ticket", user="UADMIN")
        assert reply.status == 200
        assert_valid_message(reply.json.get("blocks", []), reply.json.get("text"))
        assert "psa-alert ticket" in json.dumps(reply.json)
        do(ctx, Actor("UTECH", "Tess Tech"), "logtime acme 6h server migration #1234")
        dispatch = Dispatcher(ctx, transports_for(ctx))
        dispatch.run_once()  # no CONNECTWISE_FOLLOWUP_BOARD: ConnectWise refuses the ticket
        dispatch.run_once()  # the refusal's notice
        posted = [c.params for c in fake_slack.of("chat.postMessage") if "refused" in c.params.get("text", "")]
        assert len(posted) == 1, [c.params.get("text") for c in fake_slack.of("chat.postMessage")]
        message = posted[0]
        assert message["channel"] == "CALERTS"
        assert_valid_message(message["blocks"], message["text"])
        assert "ConnectWise PSA refused the low-balance follow-up (ticket) for Acme Corp" in message["text"]
        assert "The board field is required." in message["text"]
        assert "blocktime psa retry" in json.dumps(message["blocks"])
    finally:
        running.stop()
