"""Alerts and jobs through real processes: delivery within seconds of the change, delivery after a
kill -9, and two processes running one job once."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

from bot.services import Actor, Context
from storage.db import Database
from tests.e2e.processes import SCRIPT, environment, free_port, wait_healthy
from tests.e2e.slack_harness import SlackDriver
from tests.fakes.slack_api import FakeSlack
from tests.helpers import do


def seed(ctx: Context) -> None:
    do(ctx, Actor.local_admin(), "client add acme Acme Corp")
    do(ctx, Actor.local_admin(), "topup acme 10")


def start_server(
    database: Database, fake: FakeSlack, tmp_path: Path, **extra: str
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = environment(database, fake, BLOCKTIME_ALERT_CHANNEL="CALERTS", **extra)
    proc = subprocess.Popen(
        [str(SCRIPT), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_healthy(port)
    return proc, port


def alert_posts(fake: FakeSlack) -> list[dict]:  # type: ignore[type-arg]
    return [c.params for c in fake.of("chat.postMessage") if c.params.get("channel") == "CALERTS"]


def test_an_alert_is_delivered_within_seconds_of_the_change(
    database: Database,
    ctx: Context,
    fake_slack: FakeSlack,
    process: list,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    seed(ctx)
    fake_slack.reset()
    proc, port = start_server(database, fake_slack, tmp_path, BLOCKTIME_DISPATCH_SECONDS="600")
    process.append(proc)
    SlackDriver(port, fake_slack).command("/logtime", "acme 6h migration")
    fake_slack.wait_for("chat.postMessage", timeout=10)  # the periodic pass is 10 minutes away: the kick did it
    assert len(alert_posts(fake_slack)) == 1 and "50%" in json.dumps(alert_posts(fake_slack)[0]["blocks"])


def test_an_alert_committed_by_a_killed_process_is_delivered_after_restart(
    database: Database,
    ctx: Context,
    fake_slack: FakeSlack,
    process: list,
    tmp_path: Path,  # type: ignore[type-arg]
) -> None:
    seed(ctx)
    fake_slack.reset()
    first, port = start_server(database, fake_slack, tmp_path, BLOCKTIME_SCHEDULER="off")
    reply = SlackDriver(port, fake_slack).command("/logtime", "acme 6h migration")
    assert "Logged" in reply.json["text"]
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert alert_posts(fake_slack) == []
    second, _ = start_server(database, fake_slack, tmp_path)
    process.append(second)
    fake_slack.wait_for("chat.postMessage", timeout=15)
    assert len(alert_posts(fake_slack)) == 1


def test_two_processes_running_the_same_job_run_it_once(
    database: Database, ctx: Context, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    seed(ctx)
    do(ctx, Actor.local_admin(), "logtime acme 9h30m big")
    fake_slack.reset()
    env = environment(database, fake_slack, BLOCKTIME_MANAGERS_CHANNEL="CMANAGERS")
    command = [str(SCRIPT), "--json", "jobs", "run", "digest", "--date", "2026-11-25"]
    procs = [
        subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    results = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    assert sorted(r["ran"] for r in results) == [False, True]
    digests = [c for c in fake_slack.of("chat.postMessage") if c.params.get("channel") == "CMANAGERS"]
    assert len(digests) == 1 and "Acme Corp" in json.dumps(digests[0].params["blocks"])
