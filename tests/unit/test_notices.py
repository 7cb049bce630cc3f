"""The outbox's typed notices (``bot.domain.notices``) on their own: each kind reads back as stored, in
the same keys and order, rows queued before a fact was added still read, and each names its event."""

from __future__ import annotations

import pytest

from bot.domain import notices as n
from tests.notice_samples import STORED


def test_every_kind_has_one_type_and_a_sample() -> None:
    assert [kind.kind for kind in n.NOTICES] == list(n.BY_KIND)
    assert set(n.BY_KIND) == set(STORED)
    assert len(set(n.NOTICES)) == len(n.NOTICES)


@pytest.mark.parametrize("kind", sorted(STORED))
def test_a_stored_row_reads_back_as_the_same_json_in_the_same_order(kind: str) -> None:
    stored = STORED[kind]
    notice = n.notice_from_json(stored)
    assert type(notice) is n.BY_KIND[kind]
    assert notice.to_json() == stored
    assert list(notice.to_json()) == list(stored)


def test_events_name_what_happened() -> None:
    assert n.ThresholdCrossed.event() == "blocktime.threshold_crossed"
    assert n.BlockForfeited.event() == "blocktime.expiry"
    assert n.Digest.event() == "blocktime.digest"


def test_an_alert_queued_before_it_carried_the_overdraft_says_nothing_of_it() -> None:
    old = {k: v for k, v in STORED["threshold"].items() if k != "overdraft_minutes"}
    alert = n.notice_from_json(old)
    assert isinstance(alert, n.ThresholdCrossed) and not alert.overdraft_known
    assert "overdraft_minutes" not in alert.to_json() and "overdraft_known" not in alert.to_json()
    known = n.notice_from_json({**old, "overdraft_minutes": None})
    assert isinstance(known, n.ThresholdCrossed) and known.overdraft_known
    assert known.to_json()["overdraft_minutes"] is None


def test_parts_are_typed_and_tuples_on_the_way_in_lists_on_the_way_out() -> None:
    digest = n.notice_from_json(STORED["digest"])
    assert isinstance(digest, n.Digest)
    assert isinstance(digest.low[0], n.LowClient) and digest.low[0].threshold == "2h"
    assert isinstance(digest.expiring[0], n.ExpiringBlock) and digest.expiring[0].block_number == 2
    assert digest.psa is not None and digest.psa.failed[0].error == "no such member"
    assert isinstance(digest.to_json()["low"], list)
    statement = n.notice_from_json(STORED["statement"])
    assert isinstance(statement, n.Statement)
    assert statement.by_technician == (("Tess Tech", 90),)
    assert statement.to_json()["by_technician"] == [["Tess Tech", 90]]
    assert isinstance(statement.late[0], n.LateEntry) and statement.late[0].recorded_on == "2026-10-01"


def test_unknown_keys_are_left_out_and_missing_ones_take_their_defaults() -> None:
    row = {**STORED["renewal"], "something_new": 1}
    renewed = n.notice_from_json(row)
    assert "something_new" not in renewed.to_json()
    alert = n.notice_from_json({k: v for k, v in STORED["threshold"].items() if k != "at"})
    assert isinstance(alert, n.ThresholdCrossed) and alert.at is None


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(KeyError):
        n.notice_from_json({"kind": "nonsense"})
