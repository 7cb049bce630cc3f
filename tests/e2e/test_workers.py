"""``blocktime serve --workers N``: several processes on one port (PostgreSQL), a dead worker replaced,
everything stopped by one SIGTERM; refused on SQLite."""

from __future__ import annotations

import os
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.services import Actor, Context
from storage.db import Database
from tests.conftest import NOW, _empty_pg
from tests.e2e.processes import SCRIPT, environment, free_port, wait_healthy
from tests.e2e.slack_harness import SlackDriver
from tests.fakes.slack_api import FakeSlack
from tests.helpers import do, entry_count, eventually


def children_of(pid: int) -> set[int]:
    found = set()
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                stat = Path(f"/proc/{name}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.add(int(name))
    return found


def two_workers(pid: int, without: int = 0) -> set[int] | None:
    found = children_of(pid)
    return found if len(found) == 2 and without not in found else None


@pytest.mark.postgres
def test_workers_share_the_port_and_a_dead_worker_is_replaced(
    pg_database: Database, fake_slack: FakeSlack, process: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    _empty_pg(pg_database)
    ctx = Context(pg_database, Settings(), FixedClock(NOW))
    do(ctx, Actor.local_admin(), "client add acme Acme")
    do(ctx, Actor.local_admin(), "topup acme 100")
    port = free_port()
    server = subprocess.Popen(
        [str(SCRIPT), "serve", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        env=environment(pg_database, fake_slack),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    process.append(server)
    wait_healthy(port)
    workers = eventually(lambda: two_workers(server.pid), timeout=20, interval=0.1, message="two workers did not start")
    driver = SlackDriver(port, fake_slack)

    def log(n: int) -> bool:
        reply = driver.command("/logtime", f"acme 15m job {n}", user=f"U{n % 5}", trigger_id=f"w.{n}")
        return reply.status == 200 and "Logged" in reply.json["text"]

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(log, range(40)))
    assert entry_count(ctx) == 40

    victim = sorted(workers)[0]
    os.kill(victim, signal.SIGKILL)
    replaced = eventually(
        lambda: two_workers(server.pid, without=victim),
        timeout=20,
        interval=0.1,
        message="the dead worker was not replaced",
    )
    assert len(replaced & workers) == 1
    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(log, range(40, 60)))
    assert entry_count(ctx) == 60

    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=15) == 0
    assert not children_of(server.pid)


def test_workers_are_refused_on_sqlite(tmp_path: Path, fake_slack: FakeSlack) -> None:
    database = Database(f"sqlite:///{tmp_path / 'one.db'}")
    env = environment(database, fake_slack)
    done = subprocess.run(
        [str(SCRIPT), "serve", "--workers", "2", "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    database.dispose()
    assert done.returncode == 2
    assert "needs PostgreSQL" in done.stderr and "blocktime serve" in done.stderr
