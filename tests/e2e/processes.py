"""Starting real blocktime processes for end-to-end tests."""

from __future__ import annotations

import os
import socket
import sys
import time
from pathlib import Path

from storage.db import Database
from tests.e2e.slack_harness import SIGNING_SECRET, SlackDriver
from tests.fakes.slack_api import FakeSlack

SCRIPT = Path(sys.executable).with_name("blocktime")


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
