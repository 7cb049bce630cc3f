"""blocktime serve against a bare Bolt app on the same server and settings, at concurrency 1, 8, 32."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from bench.common import (
    PYTHON,
    SCRIPT,
    add_clients,
    base_env,
    children,
    context_switches,
    cpu_seconds,
    free_port,
    load,
    pg_schema,
    rss_mb,
    start,
    stop,
    wait_port,
)

CONCURRENCY = (1, 8, 32)
# The goals are judged at concurrency 32, where a 2-core VM's drift between two 3-second runs is as
# large as the effects measured: there the two apps take turns for this many rounds, and the ratio
# is the median of the rounds' ratios.
ROUNDS_AT_32 = 3
CLIENTS = "acme,globex,initech,umbrella,hooli,wayne,stark,tyrell"


def prepare(env: dict[str, str]) -> None:
    add_clients(env, CLIENTS, "100000")


def measured(pid: int, run: Callable[[], dict]) -> dict:  # type: ignore[type-arg]
    """``run``'s figures plus the server's CPU per answered request (its workers' when it has them)."""
    processes = children(pid) or [pid]
    before, switched = cpu_seconds(processes), context_switches(processes)
    figures = run()
    used = cpu_seconds(processes) - before
    switched = context_switches(processes) - switched
    requests = figures["requests"]
    figures["cpu_ms_per_request"] = round(used * 1000 / requests, 2) if requests else None
    figures["switches_per_request"] = round(switched / requests, 1) if requests else None
    return figures


def compare(database: str, slack_api: str, seconds: float, logs: Path, workers: int = 1) -> list[dict]:  # type: ignore[type-arg]
    """Rows of figures for one database, both apps run with ``workers`` processes."""
    rows = []
    with ExitStack() as stack:
        if database == "postgres":
            url = stack.enter_context(pg_schema())
        else:
            folder = stack.enter_context(tempfile.TemporaryDirectory())
            url = f"sqlite:///{folder}/bench.db"
        env = base_env(url, slack_api)
        prepare(env)
        port, bare_port = free_port(), free_port()
        processes = ["--workers", str(workers)]
        server = start([SCRIPT, "serve", "--port", str(port), *processes], env, logs / f"serve-{database}.log")
        bare = start(
            [PYTHON, "-m", "bench.bare", "--port", str(bare_port), *processes], env, logs / f"bare-{database}.log"
        )
        try:
            wait_port(port)
            wait_port(bare_port, "/")
            load(port, 50, 1, CLIENTS, "warmup")  # every bench user in the users.info cache; pools
            load(bare_port, 50, 1, CLIENTS, "warmup")
            for concurrency in CONCURRENCY:
                rounds = []
                for turn in range(ROUNDS_AT_32 if concurrency == 32 else 1):
                    tag = f"{database}-c{concurrency}-{turn}"
                    ours = measured(server.pid, lambda c=concurrency, t=tag: load(port, c, seconds, CLIENTS, t))
                    theirs = measured(bare.pid, lambda c=concurrency, t=tag: load(bare_port, c, seconds, CLIENTS, t))
                    rounds.append((ours, theirs, ours["rps"] / theirs["rps"] if theirs["rps"] else 0.0))
                ours, theirs, ratio = sorted(rounds, key=lambda r: r[2])[len(rounds) // 2]  # the median round
                rows.append(
                    {
                        "database": database,
                        "workers": workers,
                        "concurrency": concurrency,
                        "blocktime": ours,
                        "bare": theirs,
                        "ratio": round(ratio, 2),
                        "round_ratios": [round(r[2], 2) for r in rounds],
                    }
                )
            serving = children(server.pid) or [server.pid]
            rows.append({"database": database, "workers": workers, "rss_mb": max(rss_mb(p) for p in serving)})
        finally:
            stop(server)
            stop(bare)
    return rows
