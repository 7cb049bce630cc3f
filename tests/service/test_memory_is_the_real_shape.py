"""The in-memory unit of work answers to the same names as the real one: every repository of
``storage.db.UnitOfWork``, every method with the same parameters. (What it does is checked by the use
cases of this ring agreeing with the integration ring's, which run the same services on SQL.)"""

from __future__ import annotations

import inspect

from sqlalchemy.orm import Session

from storage import postings, repos
from storage.db import UnitOfWork
from tests.fakes import memory
from tests.fakes.memory import MemoryDatabase


def _real_repositories() -> dict[str, type]:
    """The repositories a real unit of work holds (one on a session bound to nothing: no query runs)."""
    unit = UnitOfWork(Session())
    return {name: type(value) for name, value in vars(unit).items() if isinstance(value, repos._Repository)}


def test_the_memory_unit_of_work_has_every_repository() -> None:
    fake = MemoryDatabase().unit_of_work()
    real = _real_repositories()
    assert len(real) >= 13
    for name, cls in real.items():
        assert type(getattr(fake, name)).__name__ == cls.__name__, name


def test_every_repository_method_is_there_with_the_same_parameters() -> None:
    missing = []
    for name, cls in _real_repositories().items():
        fake = getattr(memory, cls.__name__)
        for method, function in inspect.getmembers(cls, inspect.isfunction):
            if method.startswith("_"):
                continue
            ours = getattr(fake, method, None)
            if ours is None:
                missing.append(f"{name}.{method}")
            elif ours is not getattr(memory.LedgerLines, "_not_here", None) and list(
                inspect.signature(ours).parameters
            ) != list(inspect.signature(function).parameters):
                missing.append(f"{name}.{method}: {inspect.signature(ours)} != {inspect.signature(function)}")
    assert missing == []


def test_the_ledger_has_the_one_writers_reads_and_save_with_the_same_parameters() -> None:
    fake = MemoryDatabase().unit_of_work().ledger
    assert type(fake).__name__ == postings.Ledger.__name__
    real = {
        name: function
        for name, function in inspect.getmembers(postings.Ledger, inspect.isfunction)
        if not name.startswith("_")
    }
    assert set(real) == {"blocks", "blocks_by_id", "overage_entries", "entries_by_id", "live_draws", "save"}
    for name, function in real.items():
        ours = getattr(fake, name)
        assert list(inspect.signature(ours).parameters) == list(inspect.signature(function).parameters)[1:], name
