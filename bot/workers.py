"""``blocktime serve --workers N``: N server processes behind one listening socket (pre-fork).

One Python process runs one core's worth of Bolt (the GIL), so on PostgreSQL, which takes writers
from many processes, a machine's other cores serve more requests with more processes. The parent
binds the port, forks the workers (each builds its own database pool, scheduler and dispatcher after
the fork; job leases and outbox claims already make those safe across processes), restarts a worker
that dies, and on SIGTERM or Ctrl-C stops them all. SQLite takes one writing process, so it is
refused there."""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from types import FrameType

log = logging.getLogger("blocktime.workers")
RESTART_PAUSE_SECONDS = 1.0
MAX_QUICK_DEATHS = 5  # a worker dying this many times within seconds of starting is a broken setup


def listen(host: str, port: int) -> socket.socket:
    """The shared listening socket, inherited by every worker."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.create_server((host, port), family=family, backlog=1024)
    listener.set_inheritable(True)
    return listener


def supervise(workers: int, run_worker: Callable[[], None], after_fork: Callable[[], None]) -> int:
    """Run ``workers`` processes of ``run_worker`` until told to stop; returns the exit code."""
    children: dict[int, float] = {}
    stopping = False
    quick_deaths = 0

    def start() -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            signal.signal(signal.SIGTERM, signal.SIG_DFL)  # as a single `serve` process
            signal.signal(signal.SIGINT, signal.default_int_handler)
            code = 0
            try:
                after_fork()
                run_worker()
            except BaseException:  # noqa: BLE001 - a worker reports and exits; the parent restarts it
                log.exception("worker %s failed", os.getpid())
                code = 1
            finally:
                os._exit(code)
        children[pid] = time.monotonic()
        log.info("worker %s started", pid)

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(workers):
        start()
    while children:
        pid, status = os.wait()
        started = children.pop(pid, None)
        if started is None or stopping:
            continue
        quick_deaths = quick_deaths + 1 if time.monotonic() - started < 5 else 0
        log.warning("worker %s exited (status %s); starting another", pid, status)
        if quick_deaths >= MAX_QUICK_DEATHS:
            log.error("workers keep dying right after starting; stopping (see the errors above)")
            stop(signal.SIGTERM, None)
            continue
        time.sleep(RESTART_PAUSE_SECONDS)
        if not stopping:  # a SIGTERM may have come during the pause
            start()
    return 1 if quick_deaths >= MAX_QUICK_DEATHS else 0
