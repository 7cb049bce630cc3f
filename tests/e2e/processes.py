"""Starting real blocktime processes for end-to-end tests."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from storage.db import Database
from tests.e2e.slack_harness import SIGNING_SECRET, SlackDriver
from tests.fakes.slack_api import FakeSlack

SCRIPT = Path(sys.executable).with_name("blocktime")


class Cli:
    """The installed ``blocktime`` command, run as a user runs it, on one database."""

    def __init__(self, url: str, cwd: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BLOCKTIME_"))}
        self.env.update(DATABASE_URL=url, BLOCKTIME_ADMINS="UADMIN", COLUMNS="200")
        self.cwd = cwd

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(SCRIPT), *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.cwd,
            input=stdin,
            timeout=60,
        )

    def json(self, *args: str) -> Any:
        done = self.run("--json", *args)
        assert done.returncode == 0, done.stdout + done.stderr
        return json.loads(done.stdout)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def environment(database: Database, fake: FakeSlack, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BLOCKTIME_"))}
    env.update(
        DATABASE_URL=database.url,
        SLACK_BOT_TOKEN="xoxb-proc",
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.api_url,
        BLOCKTIME_ADMINS="UADMIN",
        **extra,
    )
    return env


def wait_healthy(port: int, timeout: float = 20.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if SlackDriver(port, FakeSlack.__new__(FakeSlack)).get("/healthz").status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("blocktime serve did not become healthy")
