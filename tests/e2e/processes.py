"""Starting real blocktime processes for end-to-end tests."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.clock import Clock
from storage.db import Database
from tests.e2e.slack_harness import SIGNING_SECRET, SlackDriver
from tests.fakes.slack_api import FakeSlack
from tests.helpers import eventually

SCRIPT = Path(sys.executable).with_name("blocktime")


class Cli:
    """The ``blocktime`` command on one database, as a user runs it: its ``main`` with these arguments,
    environment, working directory, standard input and output (``process=False``, the default: the same
    code without a Python start-up per command, which costs about a second here), or the installed
    script in a process of its own (``process=True``: start-up, exit status and pipes as the shell
    sees them). ``clock`` is the time the in-process CLI acts at (``main``'s own clock argument), so a
    test's seeded data and its CLI agree on today; a process of its own keeps the system clock."""

    def __init__(self, url: str, cwd: Path, process: bool = False, clock: Clock | None = None) -> None:
        if process and clock is not None:
            raise ValueError("a CLI process of its own reads the system clock: give a clock only in-process")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BLOCKTIME_"))}
        self.env.update(DATABASE_URL=url, BLOCKTIME_ADMINS="UADMIN", COLUMNS="200")
        self.cwd = cwd
        self.process = process
        self.clock = clock

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        if not self.process:
            return self._in_process(list(args), stdin)
        return subprocess.run(
            [str(SCRIPT), *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.cwd,
            input=stdin,
            timeout=60,
        )

    def _in_process(self, args: list[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        from bot.cli import main

        out, err = io.StringIO(), io.StringIO()
        saved_env, saved_cwd, saved_stdin = dict(os.environ), os.getcwd(), sys.stdin
        os.environ.clear()
        os.environ.update(self.env)
        os.chdir(self.cwd)
        sys.stdin = io.StringIO(stdin or "")
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(args, self.clock)
                except SystemExit as exit_:
                    code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        finally:
            sys.stdin = saved_stdin
            os.chdir(saved_cwd)
            os.environ.clear()
            os.environ.update(saved_env)
        return subprocess.CompletedProcess([str(SCRIPT), *args], code, out.getvalue(), err.getvalue())

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
    def healthy() -> bool:
        try:
            return SlackDriver(port, FakeSlack.__new__(FakeSlack)).get("/healthz").status == 200
        except OSError:  # not listening yet
            return False

    eventually(healthy, timeout=timeout, interval=0.1, message="blocktime serve did not become healthy")
