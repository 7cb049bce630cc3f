"""The real processes: ``blocktime serve`` (HTTP mode on waitress) and ``blocktime run`` choosing
Socket Mode when ``SLACK_APP_TOKEN`` is set."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bot.app import create_app
from bot.bootstrap import listener_limit
from bot.clock import SystemClock
from bot.config import Settings
from bot.services import Actor, Context
from storage.db import Database
from tests.e2e.processes import SCRIPT, environment, free_port, wait_healthy
from tests.e2e.slack_harness import SlackDriver
from tests.fakes.slack_api import FakeSlack
from tests.helpers import do, entry_count


def test_serve_answers_signed_slash_commands_over_http(
    database: Database, ctx: Context, fake_slack: FakeSlack, process: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    do(ctx, Actor.local_admin(), "client add acme Acme")
    do(ctx, Actor.local_admin(), "topup acme 10")
    port = free_port()
    process.append(
        subprocess.Popen(
            [str(SCRIPT), "serve", "--port", str(port)],
            cwd=tmp_path,
            env=environment(database, fake_slack),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    wait_healthy(port)
    reply = SlackDriver(port, fake_slack).command("/logtime", "acme 15m laptop advice")
    assert reply.status == 200 and "Logged" in reply.json["text"]
    assert entry_count(ctx) == 1
    assert fake_slack.of("auth.test")[-1].headers["authorization"] == "Bearer xoxb-proc"


def test_run_starts_socket_mode_when_an_app_token_is_set(
    database: Database, fake_slack: FakeSlack, process: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    fake_slack.reset()
    env = environment(database, fake_slack, SLACK_APP_TOKEN="xapp-socket")
    process.append(
        subprocess.Popen(
            [str(SCRIPT), "run"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    opened = fake_slack.wait_for("apps.connections.open", timeout=20)[0]
    assert opened.headers["authorization"] == "Bearer xapp-socket"


def test_serve_refuses_to_start_without_slack_credentials(database: Database, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BLOCKTIME_"))}
    env["DATABASE_URL"] = database.url
    done = subprocess.run([str(SCRIPT), "serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "SLACK_SIGNING_SECRET" in done.stderr


def test_the_listener_threads_setting_sizes_the_pool_and_refuses_nonsense(
    database: Database, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    settings = Settings.from_mapping(
        {"BLOCKTIME_LISTENER_THREADS": "2", "SLACK_API_URL": fake_slack.api_url, "SLACK_BOT_TOKEN": "xoxb-t"}
    )
    app = create_app(Context(database, settings, SystemClock()))
    assert listener_limit(app) == 2
    env = environment(database, fake_slack, BLOCKTIME_LISTENER_THREADS="0")
    done = subprocess.run([str(SCRIPT), "serve"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "BLOCKTIME_LISTENER_THREADS" in done.stderr
