"""The listener and after-the-ack pools: shutting down waits for the work taken and refuses more."""

from __future__ import annotations

import threading

import pytest

from bot.pools import WorkPool


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
    finished: list[bool] = []
    waiter = threading.Thread(target=lambda: finished.append(pool.finish(timeout=10)))
    waiter.start()
    waiter.join(0.3)
    assert waiter.is_alive() and not finished  # still waiting for the slow work
    with pytest.raises(RuntimeError):
        pool.submit(done.append, 3)
    release.set()
    waiter.join(10)
    assert finished == [True] and sorted(done) == [1, 2] and queued.done()


def test_finish_gives_up_after_its_timeout_and_says_so() -> None:
    pool = WorkPool(1, "test-pool")
    release = threading.Event()
    pool.submit(release.wait, 10)
    assert pool.finish(timeout=0.2) is False
    release.set()
    assert pool.finish(timeout=10) is True
