"""The real web surface for the browser ring: ``blocktime web`` in a process of its own on a free loopback
port, on one database, with the ``blocktime`` CLI on the same database to seed clients, mint share links
(the real command path: ``share acme``) and read the figures the page must show (``balance acme --json``).

The process reads the system clock, and so does the CLI here (no clock given): both agree on today, and
every seeded entry is logged ``today``, so the page's month and the CLI's are the same one on any day."""

from __future__ import annotations

import http.client
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storage.db import Database
from tests.e2e.processes import SCRIPT, Cli, free_port
from tests.helpers import eventually

ADMINS = "UADMIN"


def healthy(port: int) -> bool:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:  # not listening yet
        return False
    finally:
        connection.close()


@dataclass
class Site:
    """One running ``blocktime web`` and the CLI on its database."""

    backend: str
    base_url: str
    cli: Cli
    log: Path
    process: subprocess.Popen[bytes]
    port: int
    links: dict[str, str] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)  # every link made, to be kept out of the log
    started: bool = False

    def ready(self) -> Site:
        """Wait until the server answers (once): callers seed the database while it starts."""
        if not self.started:
            eventually(
                lambda: self.process.poll() is not None or healthy(self.port),
                timeout=30,
                interval=0.1,
                message="blocktime web did not become healthy",
            )
            assert self.process.poll() is None, f"blocktime web exited: {self.log.read_text(errors='replace')}"
            self.started = True
        return self

    def run(self, *words: str) -> str:
        done = self.cli.run(*words)
        assert done.returncode == 0, f"blocktime {' '.join(words)}: {done.stdout}{done.stderr}"
        return done.stdout

    def json(self, *words: str) -> Any:
        return self.cli.json(*words)

    def share(self, handle: str) -> dict[str, Any]:
        """A new link to ``handle``'s page, made as a manager makes one (``share acme``): its ``link``
        and ``id``; the server is ready for it."""
        made: dict[str, Any] = self.json("share", handle)["data"]
        assert made["link"].startswith(f"{self.base_url}/c/"), made
        self.tokens.append(made["link"].rsplit("/c/", 1)[1])
        self.ready()
        return made

    def link(self, handle: str) -> str:
        """The module's one link to ``handle``'s page, made on first use."""
        if handle not in self.links:
            self.links[handle] = self.share(handle)["link"]
        return self.links[handle]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def tokens_logged(self) -> list[str]:
        """The links' tokens the server wrote to its log (there must be none)."""
        text = self.log.read_text(errors="replace")
        return [token for token in self.tokens if token in text]


def start_site(backend: str, database: Database, folder: Path, **settings: str) -> Site:
    """``blocktime web --host 127.0.0.1 --port <free>`` on ``database``, starting (``Site.ready`` waits)."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BLOCKTIME_", "STRIPE_"))}
    env.update(DATABASE_URL=database.url, BLOCKTIME_ADMINS=ADMINS, BLOCKTIME_PUBLIC_URL=base_url, **settings)
    log = folder / "blocktime-web.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(SCRIPT), "web", "--host", "127.0.0.1", "--port", str(port)],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    cli = Cli(database.url, folder)
    cli.env.update({k: v for k, v in env.items() if k.startswith(("BLOCKTIME_", "STRIPE_"))})
    return Site(backend, base_url, cli, log, process, port)
