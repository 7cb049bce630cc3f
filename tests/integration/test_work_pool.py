"""The listener and after-the-ack pools: shutting down waits for the work taken and refuses more."""

from __future__ import annotations

import threading

import pytest

from bot.pools import WorkPool
from tests.helpers import eventually, stays


def test_finish_waits_for_the_work_taken_and_refuses_new_work() -> None:
    pool = WorkPool(2, "test-pool")
    release, started = threading.Event(), threading.Event()
    done: list[int] = []

    def slow() -> None:
        started.set()
        release.wait(10)
        done.append(1)

    pool.submit(slow)
    queued = pool.submit(done.append, 2)  # taken, still waiting for a thread or running
    assert started.wait(5)
    finished: list[tuple[bool, list[int]]] = []  # what finish said, and the work done when it said it
    waiter = threading.Thread(target=lambda: finished.append((pool.finish(timeout=10), sorted(done))))
    waiter.start()

    def refuses_work() -> bool:
        try:
            pool.submit(lambda: None)
        except RuntimeError:
            return True
        return False

    eventually(refuses_work, message="finish() did not begin")  # from here on, finish is waiting
    # no later event can show that finish is still waiting; the work done when it returns shows it did
    stays(lambda: waiter.is_alive() and not finished, for_seconds=0.3, message="finish() did not wait")
    with pytest.raises(RuntimeError):
        pool.submit(done.append, 3)
    release.set()
    waiter.join(10)
    assert finished == [(True, [1, 2])] and sorted(done) == [1, 2] and queued.done()


def test_finish_gives_up_after_its_timeout_and_says_so() -> None:
    pool = WorkPool(1, "test-pool")
    release = threading.Event()
    pool.submit(release.wait, 10)
    assert pool.finish(timeout=0.2) is False
    release.set()
    assert pool.finish(timeout=10) is True
