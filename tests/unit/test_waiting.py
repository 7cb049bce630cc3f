"""The suite's one way to wait for another thread or process: ``eventually`` a positive event, or,
where none can follow, ``stays`` for an explicit bounded time."""

from __future__ import annotations

import pytest

from tests.helpers import eventually, stays


def test_eventually_returns_the_first_truthy_value_the_condition_gives() -> None:
    answers = iter([None, 0, [], "ready", "later"])
    assert eventually(lambda: next(answers), interval=0) == "ready"


def test_eventually_gives_up_with_the_message_and_the_last_value() -> None:
    answers = iter([[], ["partial"]])
    with pytest.raises(AssertionError, match=r"no reply came within 0s; last value: \[\]"):
        eventually(lambda: next(answers), timeout=0, message="no reply came")


def test_eventually_looks_once_more_at_the_deadline() -> None:
    answers = iter([False, "just in time"])
    assert eventually(lambda: next(answers), timeout=0.05, interval=1) == "just in time"


def test_stays_passes_when_the_condition_holds_throughout() -> None:
    looks: list[int] = []
    stays(lambda: looks.append(1) or True, for_seconds=0.05, interval=0.01)
    assert len(looks) >= 2


def test_stays_fails_at_the_first_look_the_condition_does_not_hold() -> None:
    answers = iter([True, True, False, True])
    with pytest.raises(AssertionError, match="the waiter returned early, .* False"):
        stays(lambda: next(answers), for_seconds=10, interval=0, message="the waiter returned early")
