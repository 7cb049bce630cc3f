"""A low balance opens work in the PSA (issue 26, part 5): each PSA's fake receives the follow-up of a
threshold crossing (a ConnectWise sales activity or service ticket, an Autotask to-do or ticket, a
HaloPSA ticket), once per crossing, through the outbox: the PSA down then back, a timeout after the
PSA stored it, a refusal in the vendor's words shown to the managers; the client's setting and the
default. Every test runs against each vendor's fake on both databases."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.services import Actor, Context, psa_admin
from bot.services.psa_sync import retry_failed
from storage.db import Database
from storage.models import OutboxMessage
from tests.conftest import psa_settings
from tests.helpers import do
from tests.psa_helpers import TECH, deliver, linked

MANAGER = "UMAX0001"
HOME = "https://slack.com/app_redirect?app=A0BLOCKTIME&team=T0MSP"
QUEUE = 29683354  # the Autotask fake's follow-up queue
BOARD = "7"  # the ConnectWise fake's Account Management board


def followup_ctx(database: Database, fake: Any, clock: FixedClock, **changes: Any) -> Context:
    """Acme linked (10h block), Max its account manager and PSA member 18; follow-ups on."""
    values: dict[str, Any] = {
        "psa_alert": "ticket",
        "connectwise_followup_board": BOARD,
        "autotask_followup_queue": QUEUE,
        "home_url": HOME,
        "alert_channel": "CALERTS",
        **changes,
    }
    ctx = linked(Context(database, psa_settings(fake, **values), clock))
    admin = Actor.local_admin()
    do(ctx, admin, f"client set acme manager {MANAGER}")
    psa_admin.member(ctx, admin, None, MANAGER, "18")
    return ctx


def opened(fake: Any) -> list[dict[str, Any]]:
    """The follow-ups the fake holds, in the tests' words: kind, company, assignee, title, text."""
    found: list[dict[str, Any]] = []
    if fake.name == "connectwise":
        for a in fake.activities.values():
            found.append(
                {
                    "kind": "activity",
                    "company": a["company"]["id"],
                    "member": (a.get("assignTo") or {}).get("id"),
                    "title": a["name"],
                    "text": a["notes"],
                    "where": None,
                }
            )
        for t in fake.tickets.values():
            if t.get("externalXRef"):
                found.append(
                    {
                        "kind": "ticket",
                        "company": t["company"]["id"],
                        "member": None,
                        "title": t["summary"],
                        "text": t["initialDescription"],
                        "where": t["board"].get("id"),
                    }
                )
    elif fake.name == "autotask":
        for t in fake.tables["Tickets"].values():
            if t.get("externalID"):
                found.append(
                    {
                        "kind": "ticket",
                        "company": t["companyID"],
                        "member": None,
                        "title": t["title"],
                        "text": t["description"],
                        "where": t.get("queueID"),
                    }
                )
        for d in fake.tables["ToDos"].values():
            found.append(
                {
                    "kind": "activity",
                    "company": d["companyID"],
                    "member": d["assignedToResourceID"],
                    "title": d["activityDescription"].split("\n")[0],
                    "text": d["activityDescription"],
                    "where": d["actionType"],
                }
            )
    else:
        for t in fake.tickets.values():
            if "blocktime:" in str(t.get("details") or ""):
                found.append(
                    {
                        "kind": "ticket",
                        "company": t["client_id"],
                        "member": t.get("agent_id"),
                        "title": t["summary"],
                        "text": t["details"],
                        "where": None,
                    }
                )
    return found


def followup_rows(ctx: Context) -> list[OutboxMessage]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = uow.session.query(OutboxMessage).filter_by(kind="psa_followup").order_by(OutboxMessage.id).all()
        for row in rows:
            uow.session.expunge(row)
        return rows


def refusals(ctx: Context) -> list[dict[str, Any]]:
    with ctx.db.unit_of_work(read_only=True) as uow:
        rows = uow.session.query(OutboxMessage).filter_by(kind="psa_followup_failed").all()
        return [{"target": r.target, **json.loads(r.payload)} for r in rows]


def cross_half(ctx: Context) -> None:
    """6h of the 10h block: the balance falls through 50% (4h left)."""
    do(ctx, TECH, "logtime acme 6h server migration")


def test_a_crossing_opens_one_ticket_naming_the_client_hours_left_burn_rate_and_the_balance(
    database: Database, psa_fake: Any, clock: FixedClock
) -> None:
    ctx = followup_ctx(database, psa_fake, clock)
    cross_half(ctx)
    assert len(followup_rows(ctx)) == 1
    assert deliver(ctx) == 2  # the entry and its follow-up
    [ticket] = opened(psa_fake)
    assert ticket["kind"] == "ticket" and ticket["company"] == 250
    assert ticket["title"] == "Acme Corp: 4h left, low on hours"
    text = ticket["text"]
    assert "Acme Corp has 4h left of prepaid time (crossed 50%)." in text
    assert "Burn rate: 12m a day over the last 30 days" in text  # 6h over 30 days
    assert f"Balance: {HOME}" in text
    assert "Please contact the client" in text
    if psa_fake.name == "connectwise":
        assert ticket["where"] == 7
    if psa_fake.name == "autotask":
        assert ticket["where"] == QUEUE
    [row] = followup_rows(ctx)
    assert row.status == "sent" and row.delivery_ref is not None
    assert deliver(ctx) == 0 and len(opened(psa_fake)) == 1


def test_an_activity_is_the_account_managers_to_do(database: Database, psa_fake: Any, clock: FixedClock) -> None:
    """ConnectWise: a sales activity assigned to the member; Autotask: a to-do for the resource (action
    type General); HaloPSA has no activities: a ticket given to the agent."""
    ctx = followup_ctx(database, psa_fake, clock, psa_alert="activity")
    cross_half(ctx)
    deliver(ctx)
    [followup] = opened(psa_fake)
    assert followup["member"] == 18 and followup["company"] == 250
    assert followup["kind"] == ("ticket" if psa_fake.name == "halopsa" else "activity")
    assert "Acme Corp has 4h left" in followup["text"]
    if psa_fake.name == "autotask":
        assert followup["where"] == 3  # the action type named General


def test_one_follow_up_per_crossing_and_none_for_time_that_crosses_nothing(
    database: Database, psa_fake: Any, clock: FixedClock
) -> None:
    ctx = followup_ctx(database, psa_fake, clock)
    cross_half(ctx)
    do(ctx, TECH, "logtime acme 30m more of it")  # still above 25%: no crossing
    assert len(followup_rows(ctx)) == 1
    do(ctx, TECH, "logtime acme 1h even more")  # 2h30m left: through 25%
    assert len(followup_rows(ctx)) == 2
    deliver(ctx)
    assert [f["title"] for f in opened(psa_fake)] == [
        "Acme Corp: 4h left, low on hours",
        "Acme Corp: 2h 30m left, low on hours",
    ]


def test_the_psa_down_then_back_opens_it_once(database: Database, psa_fake: Any, clock: FixedClock) -> None:
    ctx = followup_ctx(database, psa_fake, clock)
    psa_fake.faults.down = True
    cross_half(ctx)
    assert deliver(ctx) == 0
    [row] = followup_rows(ctx)
    assert row.status == "pending" and row.last_error
    psa_fake.faults.down = False
    clock.advance(minutes=5)
    deliver(ctx)
    assert len(opened(psa_fake)) == 1 and followup_rows(ctx)[0].status == "sent"
    clock.advance(minutes=10)
    assert deliver(ctx) == 0 and len(opened(psa_fake)) == 1


def test_a_timeout_after_the_psa_stored_it_never_opens_a_second(
    database: Database, psa_fake: Any, clock: FixedClock
) -> None:
    ctx = followup_ctx(database, psa_fake, clock, psa_timeout_seconds=1.0)
    do(ctx, TECH, "logtime acme 6h server migration #1234")
    psa_fake.faults.slow_create = 2.5  # stored at once, answered after blocktime gave up
    deliver(ctx)
    assert len(opened(psa_fake)) == 1  # the PSA has it; we do not know its id
    [row] = followup_rows(ctx)
    assert row.status == "pending" and "did not answer" in (row.last_error or "")
    assert json.loads(row.payload)["create_sent"] is True
    psa_fake.faults.slow_create = 0
    clock.advance(minutes=5)
    deliver(ctx)
    assert len(opened(psa_fake)) == 1  # found by our reference, not opened again
    [row] = followup_rows(ctx)
    assert row.status == "sent"


REFUSALS = {  # each vendor refusing a follow-up, and the words it says it in
    "connectwise": ({"connectwise_followup_board": None}, "board: The board field is required."),
    "autotask": ({"autotask_followup_queue": None}, "A Ticket must have a Queue or a Primary Resource assigned."),
    "halopsa": ({"psa_alert": "activity"}, "Agent 99 does not exist"),
}


def test_a_refusal_is_shown_to_the_managers_in_the_vendors_words(
    database: Database, psa_fake: Any, clock: FixedClock
) -> None:
    changes, words = REFUSALS[psa_fake.name]
    ctx = followup_ctx(database, psa_fake, clock, **changes)
    psa_admin.member(ctx, Actor.local_admin(), None, MANAGER, "99")  # a Halo agent that is not there
    cross_half(ctx)
    deliver(ctx)
    assert opened(psa_fake) == []
    [row] = followup_rows(ctx)
    assert row.status == "failed" and words in (row.last_error or ""), row.last_error
    [told] = refusals(ctx)
    assert told["target"] == "CALERTS" and words in told["error"]
    assert (told["client"], told["account_manager"], told["psa"]) == ("acme", MANAGER, psa_fake.label)
    clock.advance(minutes=10)
    assert deliver(ctx) == 0 and len(refusals(ctx)) == 1  # said once; not retried until asked


def test_a_retry_after_the_fix_opens_it(database: Database, psa_fake: Any, clock: FixedClock) -> None:
    changes, _ = REFUSALS[psa_fake.name]
    ctx = followup_ctx(database, psa_fake, clock, **changes)
    admin = Actor.local_admin()
    psa_admin.member(ctx, admin, None, MANAGER, "99")
    cross_half(ctx)
    deliver(ctx)
    assert followup_rows(ctx)[0].status == "failed"
    psa_admin.member(ctx, admin, None, MANAGER, "18")  # fixed: the right member, the board, the queue
    fixed = Context(
        ctx.db, replace(ctx.settings, connectwise_followup_board=BOARD, autotask_followup_queue=QUEUE), clock
    )
    assert retry_failed(fixed, admin).data == {"requeued": 1}
    deliver(fixed)
    assert len(opened(psa_fake)) == 1 and followup_rows(ctx)[0].status == "sent"


@pytest.mark.parametrize(
    ("default", "own", "queued"),
    [
        ("off", None, False),  # PSA_ALERT off (the default) and nothing of its own: nothing
        ("off", "ticket", True),
        ("ticket", None, True),
        ("ticket", "off", False),  # the client's off beats the default
        ("ticket", "default", True),
    ],
)
def test_the_clients_setting_and_the_default(
    database: Database, connectwise: Any, clock: FixedClock, default: str, own: str | None, queued: bool
) -> None:
    ctx = followup_ctx(database, connectwise, clock, psa_alert=default)
    if own is not None:
        shown = do(ctx, Actor.local_admin(), f"client set acme psa-alert {own}")
        assert shown.psa_alert == (default if own == "default" else own)
        assert shown.psa_alert_default is (own == "default")
    cross_half(ctx)
    assert len(followup_rows(ctx)) == (1 if queued else 0)
    deliver(ctx)
    assert len(opened(connectwise)) == (1 if queued else 0)


def test_a_client_not_linked_to_the_psa_queues_no_follow_up(
    database: Database, connectwise: Any, clock: FixedClock
) -> None:
    ctx = followup_ctx(database, connectwise, clock)
    do(ctx, Actor.local_admin(), "client set acme psa-company none")
    cross_half(ctx)
    assert followup_rows(ctx) == []


def test_a_refill_added_by_the_crossing_is_said_instead_of_asking(
    database: Database, psa_fake: Any, clock: FixedClock
) -> None:
    ctx = followup_ctx(database, psa_fake, clock)
    do(ctx, Actor.local_admin(), "client set acme refill auto 10h")
    do(ctx, TECH, "logtime acme 9h30m server migration")  # through 50%, 25% and 10%: one refill
    [row] = followup_rows(ctx)
    assert json.loads(row.payload)["refill"] == {"minutes": 600, "paid": False, "rule": "refill auto 10h"}
    deliver(ctx)
    [followup] = opened(psa_fake)
    assert "A refill of 10h (unpaid) was added automatically by rule refill auto 10h" in followup["text"]
    assert "Please contact the client" not in followup["text"]
