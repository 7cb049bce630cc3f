"""Requests per share link, counted in memory: a link asked more than ``BLOCKTIME_PAGE_RATE`` allows
within its window gets 429 until the window ends. Counted per process (each worker its own), keyed by
the token's SHA-256 so the limiter's memory holds no link that works."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

MAX_KEYS = 10_000  # wrong tokens are keys too: past this many, windows that have ended are dropped


@dataclass
class _Window:
    started: float
    count: int


class RateLimiter:
    """A fixed window per key: ``limit`` requests in ``seconds``, the window starting at a key's first
    request. ``clock`` is monotonic seconds (injected by tests)."""

    def __init__(self, limit: int, seconds: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.seconds, self._clock = limit, seconds, clock
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count one request of ``key``; False when it is one too many for the current window."""
        now = self._clock()
        with self._lock:
            window = self._windows.get(key)
            if window is None or now - window.started >= self.seconds:
                if window is None and len(self._windows) >= MAX_KEYS:
                    self._forget_ended(now)
                self._windows[key] = _Window(now, 1)
                return True
            window.count += 1
            return window.count <= self.limit

    def retry_after(self, key: str) -> int:
        """Whole seconds until ``key``'s window ends (at least 1)."""
        with self._lock:
            window = self._windows.get(key)
            left = self.seconds - (self._clock() - window.started) if window else 0
        return max(1, int(left + 0.999))

    def _forget_ended(self, now: float) -> None:
        ended = [key for key, window in self._windows.items() if now - window.started >= self.seconds]
        for key in ended:
            del self._windows[key]
        if len(self._windows) >= MAX_KEYS:  # all live: a flood of distinct keys; forget the oldest half
            for key in sorted(self._windows, key=lambda k: self._windows[k].started)[: MAX_KEYS // 2]:
                del self._windows[key]
