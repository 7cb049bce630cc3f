"""Shared helpers for the benchmarks: processes, ports, databases, figures."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SCRIPT = str(Path(sys.executable).with_name("blocktime"))
SECRET = "bench-signing-secret"
PG_URL = os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
    "TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


def wait_port(port: int, path: str = "/healthz", timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            get(port, path)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing answered on port {port}")


def base_env(database_url: str, slack_api: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BLOCKTIME_"))}
    env.update(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=slack_api,
        BLOCKTIME_ADMINS="UADMIN",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def start(args: list[str], env: dict[str, str], log: Path | None = None) -> subprocess.Popen[bytes]:
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    return subprocess.Popen(args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cli(env: dict[str, str], *words: str) -> str:
    done = subprocess.run([SCRIPT, *words], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"blocktime {' '.join(words)} failed: {done.stderr}")
    return done.stdout


def load(
    port: int | str,
    concurrency: int,
    seconds: float,
    clients: str,
    tag: str,
    ids: bool = False,
    duration: str = "15m",
    requests: int = 0,
) -> dict:  # type: ignore[type-arg]
    args = [
        PYTHON,
        "-m",
        "bench.loadgen",
        "--port",
        str(port),
        "--concurrency",
        str(concurrency),
        "--seconds",
        str(seconds),
        "--secret",
        SECRET,
        "--clients",
        clients,
        "--tag",
        tag,
        "--duration",
        duration,
        "--requests",
        str(requests),
    ]
    if ids:
        args.append("--ids")
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=seconds + 120)
    if done.returncode != 0:
        raise RuntimeError(done.stderr)
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def add_clients(env: dict[str, str], clients: str, hours: str) -> None:
    """Migrate, then add each client (comma-separated handles) with a block of ``hours``: one
    ``blocktime console`` process reading the commands, not two CLI starts per client."""
    script = "".join(
        f"client add {handle} {handle.title()}\ntopup {handle} {hours} confirm\n" for handle in clients.split(",")
    )
    done = subprocess.run(
        [SCRIPT, "console"], input=script, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    if done.returncode != 0:
        raise RuntimeError(f"setting up clients failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")


@contextmanager
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema; yields a DATABASE_URL that uses it."""
    schema = f"bt_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, pool_pre_ping=True)  # the PostgreSQL drill restarts the server
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def fake_slack() -> Iterator[str]:
    """The fake Slack Web API in a process of its own; yields its base URL."""
    port = free_port()
    proc = start([PYTHON, "-m", "bench.fakeslack", "--port", str(port)], dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/api/"
    finally:
        stop(proc)


def rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time used so far by ``pids`` (0 for one that is gone)."""
    total = 0.0
    for pid in pids:
        fields = _stat(pid)
        if fields:
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def context_switches(pids: list[int]) -> int:
    """Context switches so far (voluntary and not) of every thread of ``pids``: each is a thread
    giving up a core, e.g. to wait for the GIL."""
    total = 0
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                status = Path(f"/proc/{pid}/task/{task}/status").read_text()
            except OSError:
                continue
            total += sum(int(line.split()[1]) for line in status.splitlines() if "ctxt_switches:" in line)
    return total


def _stat(pid: int) -> list[str]:
    """The fields of /proc/PID/stat after the process name (state first); empty when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (the workers of ``serve --workers N``)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat(int(name))
            if fields and int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(name))
    return found
