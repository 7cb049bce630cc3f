"""Thread pools that know the work they have not finished: a shutdown waits for that work (at most
``DRAIN_SECONDS``), and tests wait for it instead of sleeping."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

DRAIN_SECONDS = 30  # graceful shutdown waits this long at most for work in flight


class WorkPool(ThreadPoolExecutor):
    """A thread pool that knows the work it has not finished, so a shutdown waits for that work, and
    for at most ``DRAIN_SECONDS``: one job stuck on a dead connection must not hang the shutdown
    (``ThreadPoolExecutor.shutdown(wait=True)`` would wait for it forever)."""

    def __init__(self, threads: int, name: str) -> None:
        super().__init__(max_workers=threads, thread_name_prefix=name)
        self._unfinished: set[Future[Any]] = set()
        self._unfinished_lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._unfinished_lock:  # with ``finish``: work is either counted or refused, never lost
            future = super().submit(fn, *args, **kwargs)
            self._unfinished.add(future)
        future.add_done_callback(self._finished)  # outside the lock: it runs at once if already done
        return future

    def _finished(self, future: Future[Any]) -> None:
        with self._unfinished_lock:
            self._unfinished.discard(future)

    def idle(self, timeout: float = DRAIN_SECONDS) -> bool:
        """Wait until no work is left, work it starts included (at most ``timeout``); True when idle.
        Unlike ``finish`` the pool keeps taking work (tests wait for the work a request started)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._unfinished_lock:
                unfinished = list(self._unfinished)
            left = deadline - time.monotonic()
            if not unfinished or left <= 0:
                return not unfinished
            wait(unfinished, timeout=left)

    def finish(self, timeout: float = DRAIN_SECONDS) -> bool:
        """Take no more work, wait for the work taken (at most ``timeout``); True when all of it ended."""
        with self._unfinished_lock:
            self.shutdown(wait=False)
        return self.idle(timeout)
