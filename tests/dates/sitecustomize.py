"""Loaded only by ``make test-dates`` (its folder is put on PYTHONPATH), in the test run and in every
Python process it starts. Under libfaketime with real monotonic clocks, ``time.sleep`` fails with EINVAL:
glibc's ``clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ...)`` is handed a deadline that libfaketime
shifts by the fake offset. A sleep here is a timed wait on an event that is never set, which waits on
the real monotonic clock as every other timed wait in Python does."""

from __future__ import annotations

import os
import threading
import time

if os.environ.get("FAKETIME"):
    _never = threading.Event()

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        _never.wait(seconds)

    time.sleep = _sleep
