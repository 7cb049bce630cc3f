"""Each PSA end to end (ConnectWise PSA, HaloPSA, Autotask, each a local fake of its API): /logtime over
signed HTTP to a time record in the PSA, where the entry stands in `entries` and the App Home, the
digest's Retry button, and the `blocktime psa` CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from bot.bootstrap import transports_for
from bot.clock import FixedClock
from bot.jobs.dispatcher import Dispatcher
from bot.jobs.scheduler import run_job
from bot.services import Actor, Context
from bot.services.queries import my_day
from storage.db import Database
from tests.conftest import psa_settings
from tests.e2e.processes import Cli
from tests.e2e.slack_harness import RunningApp, SlackDriver, assert_valid_message
from tests.fakes.slack_api import FakeSlack
from tests.helpers import do


@pytest.fixture
def psa_ctx(database: Database, psa_fake: Any, slack_ctx: Context, clock: FixedClock) -> Context:
    settings = replace(
        psa_settings(psa_fake),
        slack_bot_token=slack_ctx.settings.slack_bot_token,
        slack_signing_secret=slack_ctx.settings.slack_signing_secret,
        slack_api_url=slack_ctx.settings.slack_api_url,
        managers_channel="CMANAGERS",
    )
    ctx = Context(database, settings, clock)
    admin = Actor.local_admin()
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "topup acme 10")
    do(ctx, admin, "role <@UMGR> manager")
    return ctx


@pytest.fixture
def psa_slack(psa_ctx: Context, fake_slack: FakeSlack) -> Iterator[SlackDriver]:
    fake_slack.reset()
    fake_slack.names.update({"UTECH": "Tess Tech", "UMGR": "Max Manager"})
    fake_slack.user_facts["UTECH"] = {
        "profile": {"real_name": "Tess Tech", "display_name": "Tess", "team": "T0", "email": "tess@msp.example"}
    }
    running = RunningApp(psa_ctx)
    yield SlackDriver(running.port, fake_slack, running.app)
    running.stop()


def test_logtime_in_slack_lands_in_the_psa_and_says_where_it_stands(
    psa_slack: SlackDriver, psa_ctx: Context, psa_fake: Any, fake_slack: FakeSlack
) -> None:
    do(psa_ctx, Actor.local_admin(), "client set acme psa-company 250 psa-agreement 30")
    reply = psa_slack.command("/logtime", "acme 15m laptop advice #1234")
    assert reply.status == 200
    answer = reply.json
    assert_valid_message(answer["blocks"], answer["text"])
    assert f"Queued for {psa_fake.label}." in json.dumps(answer["blocks"])
    psa_slack.settle()
    assert Dispatcher(psa_ctx, transports_for(psa_ctx)).run_once() == 1
    [record] = psa_fake.records()
    # the member came from the Slack profile's e-mail (users.info), matched to the PSA's member 17
    assert (record.member, record.ticket, record.agreement, record.minutes) == (17, 1234, 30, 15)
    shown = psa_slack.command("/blocktime", "entries acme", user="UMGR").json
    assert f"PSA: synced (#{record.id})" in json.dumps(shown["blocks"])
    today = my_day(psa_ctx, "UTECH").entries_today
    assert today[0].psa == f"synced (#{record.id})"
    edited = psa_slack.command("/blocktime", f"edit {today[0].id} 30m laptop advice #1234")
    assert edited.status == 200 and "queued" in json.dumps(edited.json).lower(), edited.json
    psa_slack.settle()
    assert Dispatcher(psa_ctx, transports_for(psa_ctx)).run_once() == 1
    [moved] = psa_fake.records()  # the same record, now 30 minutes
    assert (moved.id, moved.minutes) == (record.id, 30) and psa_fake.count("update") == 1
    today = my_day(psa_ctx, "UTECH").entries_today
    assert [e.psa for e in today] == [f"synced (#{record.id})"]
    psa_slack.click("undo_entry", str(today[0].id))  # Undo: a void, so the record goes too
    fake_slack.wait_for("response_url")
    psa_slack.settle()
    assert Dispatcher(psa_ctx, transports_for(psa_ctx)).run_once() == 1
    assert psa_fake.records() == [] and psa_fake.count("delete") == 1
    assert my_day(psa_ctx, "UTECH").entries_today == []


def test_the_digest_lists_failed_entries_and_its_retry_button_sends_them_again(
    psa_slack: SlackDriver, psa_ctx: Context, psa_fake: Any, fake_slack: FakeSlack
) -> None:
    label = psa_fake.label
    psa_slack.command("/logtime", "acme 30m printer #1234")  # acme is not linked to a company yet
    psa_slack.settle()
    dispatch = Dispatcher(psa_ctx, transports_for(psa_ctx))
    dispatch.run_once()
    assert psa_fake.records() == []
    run_job(psa_ctx, "digest", date(2026, 11, 25))
    dispatch.run_once()
    digest = [c for c in fake_slack.of("chat.postMessage") if c.params.get("channel") == "CMANAGERS"][-1].params
    assert_valid_message(digest["blocks"], digest["text"])
    text = json.dumps(digest["blocks"])
    assert f"did not reach {label}" in text and "blocktime psa link acme" in text
    assert f"1 entry not in {label}" in digest["text"]
    retry = next(b for b in digest["blocks"] if b.get("block_id") == "psa_retry")
    assert retry["elements"][0]["action_id"] == "psa_retry"
    psa_slack.click("psa_retry", "all", user="UTECH", channel="CMANAGERS")
    assert "Only account managers" in fake_slack.wait_for("response_url")[0].params["text"]
    do(psa_ctx, Actor.local_admin(), "client set acme psa-company 250 psa-agreement 30")
    psa_slack.click("psa_retry", "all", user="UMGR", channel="CMANAGERS")
    handled = fake_slack.wait_for("response_url", 2)[-1].params
    assert f"1 failed entry queued for {label} again" in json.dumps(handled["blocks"])
    assert dispatch.run_once() == 1 and len(psa_fake.records()) == 1


def test_the_psa_cli_checks_links_reconciles_and_imports(cli: Cli, psa_fake: Any, database: Database) -> None:
    cli.env.update(psa_fake.env())
    assert cli.run("client", "add", "acme", "Acme", "Corp").returncode == 0
    missing = cli.run("--json", "psa", "check")
    assert missing.returncode == 1, missing.stderr
    assert json.loads(missing.stdout)["data"]["missing"]["clients"] == ["acme"]
    listed = cli.run("psa", "link", "acme")
    assert "250  Acme Corp (" in listed.stdout and "agreement 30" not in listed.stdout  # two candidates
    linked = cli.run("psa", "link", "acme", "250")
    assert "linked to Acme Corp (company 250), agreement 30" in linked.stdout, linked.stdout + linked.stderr
    assert cli.run("client", "set", "acme", "psa-ticket", "5000").returncode == 0  # for time with no #ticket
    assert cli.run("psa", "check").returncode == 0
    assert cli.run("psa", "member", "UADMIN", "17").returncode == 0
    imported = cli.run("--json", "psa", "import-blocks", "acme", "confirm")
    assert [b["status"] for b in json.loads(imported.stdout)["data"]["blocks"]] == ["imported"]
    logged = cli.run("--as", "UADMIN", "logtime", "acme", "1h", "server", "patching")
    assert f"Queued for {psa_fake.label}." in logged.stdout, logged.stdout + logged.stderr
    [record] = psa_fake.records()  # the CLI delivers what it queued before it exits
    assert record.ticket in (5000, None)  # the client's ticket for other time (ConnectWise: the company)
    psa_fake.tamper(record.id, 120)  # changed by hand in the PSA
    found = json.loads(cli.run("--json", "psa", "reconcile", "acme", "this", "month").stdout)["data"]
    assert [(d["kind"], d["ours_minutes"], d["theirs_minutes"]) for d in found["differences"]] == [("hours", 60, 120)]
    usage = cli.run("psa", "import-blocks")
    assert usage.returncode == 2 and "Usage: blocktime psa" in usage.stderr


def test_an_unknown_psa_or_missing_settings_are_refused_at_start(cli: Cli) -> None:
    cli.env.update(PSA="kaseya")
    done = cli.run("balance")
    assert done.returncode == 2 and "use PSA=connectwise, halopsa or autotask" in done.stderr
    for vendor, setting in (
        ("connectwise", "CONNECTWISE_URL"),
        ("halopsa", "HALOPSA_CLIENT_SECRET"),
        ("autotask", "AUTOTASK_INTEGRATION_CODE"),
    ):
        cli.env.update(PSA=vendor)
        done = cli.run("balance")
        assert done.returncode == 2 and setting in done.stderr, done.stderr


def test_psa_check_says_refused_credentials_apart_from_missing_mappings_and_an_outage(cli: Cli, psa_fake: Any) -> None:
    """Exit 1 is "something is not mapped yet", 3 "the PSA is out of reach", 4 "the PSA refused our keys":
    a wrong key is none of the first two, and a script must tell them apart."""
    env = psa_fake.env()
    cli.env.update(env, **{name: "wrong" for name in env if name.endswith(("_PRIVATE_KEY", "SECRET"))})
    refused = cli.run("psa", "check")
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "refused" in refused.stderr.lower() or " 401" in refused.stderr, refused.stderr
    cli.env.update(env)
    psa_fake.faults.down = True
    try:
        assert cli.run("psa", "check").returncode == 3
    finally:
        psa_fake.faults.down = False
    assert cli.run("psa", "check").returncode in (0, 1)


def test_the_digest_lists_failed_blocks_and_its_retry_button_sends_them_again(
    psa_slack: SlackDriver, psa_ctx: Context, psa_fake: Any, fake_slack: FakeSlack
) -> None:
    """Issue 26: a block the PSA refused is in the digest, in the PSA's words, and Retry sends it again."""
    label, admin = psa_fake.label, Actor.local_admin()
    do(psa_ctx, admin, "client set acme psa-company 250 psa-agreement 30 psa-product 12")
    words = psa_fake.refuse_blocks()
    do(psa_ctx, admin, "topup acme 5")
    dispatch = Dispatcher(psa_ctx, transports_for(psa_ctx))
    dispatch.run_once()
    run_job(psa_ctx, "digest", date(2026, 11, 25))
    dispatch.run_once()
    digest = [c for c in fake_slack.of("chat.postMessage") if c.params.get("channel") == "CMANAGERS"][-1].params
    assert_valid_message(digest["blocks"], digest["text"])
    text = json.dumps(digest["blocks"])
    assert f"Blocks that did not reach {label}" in text and words in text
    assert f"1 block not in {label}" in digest["text"]
    psa_fake.seed()  # fixed in the PSA
    psa_slack.click("psa_retry", "all", user="UMGR", channel="CMANAGERS")
    handled = fake_slack.wait_for("response_url")[-1].params
    assert f"1 failed block queued for {label} again" in json.dumps(handled["blocks"])
    assert dispatch.run_once() == 1 and len(psa_fake.blocks_written()) == 1


def test_blocks_json_says_where_each_block_stands_in_the_psa(cli: Cli, psa_fake: Any) -> None:
    cli.env.update(psa_fake.env(PSA_PRODUCT_ID="12"))
    assert cli.run("client", "add", "acme", "Acme", "Corp").returncode == 0
    assert cli.run("client", "set", "acme", "psa-company", "250", "psa-agreement", "30").returncode == 0
    assert cli.run("topup", "acme", "5").returncode == 0  # the CLI delivers what it queued before it exits
    [written] = psa_fake.blocks_written()
    shown = cli.json("blocks", "acme")["blocks"]
    assert [b["psa"] for b in shown] == [{"state": "synced", "id": written["psa_id"], "error": None}]
    assert "synced" in cli.run("blocks", "acme").stdout
