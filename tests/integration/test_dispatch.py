"""The outbox dispatcher against real receivers on loopback: the fake Slack Web API, an SMTP server
and a webhook endpoint. Time is a fixed clock moved by hand; nothing sleeps for backoff."""

from __future__ import annotations

import hashlib
import hmac
import random
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select, update

from bot.bootstrap import transports_for
from bot.clock import FixedClock
from bot.domain.notices import notice_from_json
from bot.jobs.dispatcher import Dispatcher, backoff
from bot.services import Actor, Context
from handlers.views.outbox import slack_message
from storage.models import OutboxMessage
from tests.e2e.slack_harness import assert_valid_message
from tests.fakes.receivers import MailBox, WebhookReceiver
from tests.fakes.slack_api import FakeSlack
from tests.helpers import do


@pytest.fixture(scope="module")
def mailbox() -> Iterator[MailBox]:
    box = MailBox().start()
    yield box
    box.stop()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def alerting(ctx: Context, fake_slack: FakeSlack, mailbox: MailBox, webhook: WebhookReceiver) -> Context:
    fake_slack.reset()
    mailbox.messages.clear()
    settings = replace(
        ctx.settings,
        slack_bot_token="xoxb-alerts",
        slack_api_url=fake_slack.api_url,
        alert_channel="CALERTS",
        smtp_url=mailbox.url,
        alert_email_to="am@msp.example",
        alert_webhook_url=webhook.url,
        alert_webhook_secret="hook-secret",
    )
    return Context(ctx.db, settings, ctx.clock)


def dispatcher(ctx: Context, worker: str = "w1") -> Dispatcher:
    return Dispatcher(ctx, transports_for(ctx), worker=worker, rng=random.Random(7))


def cross_a_threshold(ctx: Context) -> None:
    admin = Actor.local_admin()
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "client set acme manager <@UAM>")
    do(ctx, admin, "topup acme 10")
    do(ctx, admin, "logtime acme 6h migration")


def pending(ctx: Context) -> int:
    with ctx.db.unit_of_work(read_only=True) as uow:
        return len(list(uow.session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "pending"))))


def test_an_alert_reaches_slack_email_and_webhook_once(
    alerting: Context, fake_slack: FakeSlack, mailbox: MailBox, webhook: WebhookReceiver
) -> None:
    cross_a_threshold(alerting)
    assert dispatcher(alerting).run_once() == 3
    assert dispatcher(alerting).run_once() == 0
    post = fake_slack.of("chat.postMessage")
    assert len(post) == 1 and post[0].params["channel"] == "CALERTS"
    assert_valid_message(post[0].params["blocks"], post[0].params["text"])
    blocks = str(post[0].params["blocks"])
    for wanted in (
        "Acme Corp",
        "50%",
        "<@UAM>",
        "alert_add_hours",
        "alert_snooze",
        "alert_entries",
        "Projected run-out",
    ):
        assert wanted in blocks
    assert len(mailbox.messages) == 1 and "Acme Corp" in mailbox.messages[0]["data"]
    assert mailbox.messages[0]["to"] == ["am@msp.example"]
    request = webhook.requests[0]
    assert request["json"]["event"] == "blocktime.threshold_crossed" and request["json"]["data"]["client"] == "acme"
    stamp = request["headers"]["x-blocktime-timestamp"]
    expected = hmac.new(b"hook-secret", stamp.encode() + b"." + request["body"], hashlib.sha256).hexdigest()
    assert request["headers"]["x-blocktime-signature"] == f"sha256={expected}"
    assert pending(alerting) == 0


def test_slack_answering_500_and_429_for_a_while_delays_but_loses_nothing(
    alerting: Context, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    cross_a_threshold(alerting)
    fake_slack.fail("chat.postMessage", 500, times=3)
    worker = dispatcher(alerting)
    for _ in range(3):
        worker.run_once()
        clock.advance(minutes=10)
    fake_slack.fail("chat.postMessage", 429, times=1, retry_after=30)
    worker.run_once()
    clock.advance(seconds=20)
    worker.run_once()  # Retry-After not over yet: nothing tried
    assert len(fake_slack.of("chat.postMessage")) == 4
    clock.advance(seconds=15)
    worker.run_once()
    calls = fake_slack.of("chat.postMessage")
    assert len(calls) == 5 and [c.params.get("_failed_with") for c in calls] == [500, 500, 500, 429, None]
    clock.advance(hours=1)
    worker.run_once()
    assert len(fake_slack.of("chat.postMessage")) == 5 and pending(alerting) == 0


def test_one_destination_down_does_not_hold_up_the_others(
    alerting: Context, clock: FixedClock, fake_slack: FakeSlack, mailbox: MailBox, webhook: WebhookReceiver
) -> None:
    cross_a_threshold(alerting)
    webhook.fail_next = 2
    assert dispatcher(alerting).run_once() == 2
    assert len(fake_slack.of("chat.postMessage")) == 1 and len(mailbox.messages) == 1 and not webhook.requests
    clock.advance(minutes=1)
    dispatcher(alerting).run_once()
    clock.advance(minutes=1)
    dispatcher(alerting).run_once()
    assert len(webhook.requests) == 1 and pending(alerting) == 0


def test_an_alert_committed_before_a_crash_is_delivered_after_restart(
    alerting: Context, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    cross_a_threshold(alerting)  # committed; the process "dies" before any dispatcher ran
    restarted = Context(alerting.db, alerting.settings, clock)
    assert dispatcher(restarted, "w2").run_once() == 3
    assert len(fake_slack.of("chat.postMessage")) == 1


def test_a_message_claimed_by_a_worker_that_died_is_sent_once_its_claim_expires(
    alerting: Context, clock: FixedClock, fake_slack: FakeSlack
) -> None:
    cross_a_threshold(alerting)
    with alerting.db.unit_of_work() as uow:  # worker w1 claimed everything, then was killed
        uow.session.execute(update(OutboxMessage).values(claimed_by="w1", claimed_until=clock.now().replace(year=2027)))
        uow.commit()
    assert dispatcher(alerting, "w2").run_once() == 0
    with alerting.db.unit_of_work() as uow:
        uow.session.execute(update(OutboxMessage).values(claimed_until=clock.now()))
        uow.commit()
    clock.advance(seconds=1)
    assert dispatcher(alerting, "w2").run_once() == 3
    assert len(fake_slack.of("chat.postMessage")) == 1


def test_parallel_dispatchers_never_send_one_message_twice(alerting: Context, fake_slack: FakeSlack) -> None:
    admin = Actor.local_admin()
    for n in range(6):
        do(alerting, admin, f"client add c{n} Client {n}")
        do(alerting, admin, f"topup c{n} 1")
        do(alerting, admin, f"logtime c{n} 45m work")
    start = threading.Barrier(4)

    def work(n: int) -> int:
        start.wait()
        return dispatcher(alerting, f"w{n}").run_once()

    threads_done: list[int] = []
    pool = [threading.Thread(target=lambda n=n: threads_done.append(work(n))) for n in range(4)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert sum(threads_done) == 18
    channels = [c.params["text"] for c in fake_slack.of("chat.postMessage")]
    assert len(channels) == 6 and len(set(channels)) == 6


def test_backoff_grows_exponentially_with_jitter_and_honours_retry_after() -> None:
    rng = random.Random(1)
    delays = [backoff(n, rng) for n in range(1, 12)]
    assert 2.5 <= delays[0] <= 5 and 5 <= delays[1] <= 10 and all(d <= 120 for d in delays)
    assert 60 <= delays[-1] <= 120
    assert 30 <= backoff(1, rng, retry_after=30) <= 31


def test_every_outbox_kind_renders_a_valid_slack_message() -> None:
    facts = {
        "threshold": {
            "client": "acme",
            "display_name": "Acme",
            "remaining_minutes": -30,
            "percent_left": 0,
            "threshold": "0m",
            "used_30d_minutes": 600,
            "burn_per_day_minutes": "20.0",
            "run_out_on": "2026-11-25",
            "next_expiry": None,
            "account_manager": None,
        },
        "expiry": {
            "client": "acme",
            "display_name": "Acme",
            "block_id": 1,
            "block_minutes": 600,
            "forfeited_minutes": 90,
            "expires_on": "2026-11-30",
            "remaining_minutes": 0,
        },
        "renewal": {
            "client": "acme",
            "display_name": "Acme",
            "block_id": 2,
            "minutes": 1200,
            "start_on": "2026-12-01",
            "expires_on": None,
            "remaining_minutes": 1200,
        },
        "digest": {
            "date": "2026-11-25",
            "low": [],
            "overdrawn": [{"display_name": "A", "remaining_minutes": -5}],
            "expiring": [],
        },
        "statement": {
            "client": "acme",
            "display_name": "Acme",
            "period": "October 2026",
            "opening_minutes": 0,
            "closing_minutes": 510,
            "by_ticket": [["#12", 90]],
            "bought_minutes": 600,
            "used_minutes": 90,
            "non_billable_minutes": 0,
            "forfeited_minutes": 0,
            "overage_minutes": 0,
            "remaining_minutes": 510,
            "by_technician": [["Tess", 90]],
            "entry_count": 2,
        },
    }
    for kind, fact in facts.items():
        text, blocks = slack_message(notice_from_json({"kind": kind, **fact}))
        assert_valid_message(blocks, text)
