"""A block's renewal (bot.domain.renewals): the next block of the same size, paid as the block it renews
was (issue 26), and the renewal's alert saying an unpaid one so."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bot.domain.notices import BlockRenewed, notice_from_json
from bot.domain.renewals import renewal
from bot.phrasebook import email_message, summary
from handlers.views.outbox import slack_message


@pytest.mark.parametrize("paid", [True, False])
def test_a_renewal_is_paid_as_the_block_it_renews_was(paid: bool) -> None:
    top_up = renewal(
        "acme",
        minutes=600,
        start_on=date(2026, 10, 1),
        expires_on=date(2026, 10, 31),
        renew_months=1,
        price=Decimal("950"),
        currency="USD",
        label="block 3",
        paid=paid,
    )
    assert top_up.paid is paid
    assert (top_up.starts_on, top_up.expires_on, top_up.minutes, top_up.price) == (
        date(2026, 11, 1),
        date(2026, 11, 30),
        600,
        Decimal("950"),
    )
    assert top_up.reference is None and top_up.renew_months == 1  # not invoiced yet; renews again
    assert top_up.note == ("renewal of block 3" if paid else "renewal of block 3, unpaid: invoice to follow")


def renewed(**changes: object) -> BlockRenewed:
    facts: dict[str, object] = {
        "client": "acme",
        "display_name": "Acme",
        "block_id": 4,
        "block_number": 4,
        "minutes": 600,
        "start_on": "2026-11-01",
        "expires_on": "2026-11-30",
        "remaining_minutes": 900,
    }
    return BlockRenewed(**{**facts, **changes})  # type: ignore[arg-type]


def test_the_renewal_of_an_unpaid_block_says_it_is_unpaid_everywhere() -> None:
    notice = renewed(paid=False)
    assert summary(notice) == "Acme: renewed with 10h, unpaid (invoice to follow), expires 2026-11-30."
    assert "new block 4 of 10h, unpaid (invoice to follow) from 2026-11-01" in str(slack_message(notice)[1])
    assert "unpaid (invoice to follow)" in email_message(notice)[0] + email_message(notice)[1]


def test_a_paid_renewal_and_one_queued_before_the_flag_read_as_before() -> None:
    said = "Acme: renewed with 10h, expires 2026-11-30."
    assert summary(renewed()) == said
    assert "paid" not in renewed().to_json()  # as a renewal's facts were before issue 26
    assert notice_from_json(renewed(paid=False).to_json()) == renewed(paid=False)
    assert "new block 4 of 10h from 2026-11-01" in str(slack_message(renewed())[1])
