"""When the database is unavailable the user is told the entry was NOT recorded, never a false
success; when it is back, the bot works again without a restart."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from bot.clock import FixedClock
from bot.config import Settings
from bot.services import Actor, Context
from storage.db import Database
from tests.e2e.slack_harness import RunningApp, SlackDriver
from tests.fakes.slack_api import FakeSlack
from tests.fakes.tcp_proxy import TcpProxy
from tests.helpers import do, entry_count

pytestmark = pytest.mark.postgres


@pytest.fixture
def proxied(pg_database: Database) -> Iterator[tuple[Database, TcpProxy]]:
    from tests.conftest import _empty_pg

    _empty_pg(pg_database)
    url = make_url(pg_database.url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    through = Database(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    yield through, proxy
    through.dispose()
    proxy.close()


def _serve(
    db: Database, settings: Settings, fake_slack: FakeSlack, clock: FixedClock
) -> tuple[RunningApp, SlackDriver]:
    """The bot serving Slack on ``db``, with acme's 10 hours."""
    ctx = Context(db, settings, clock)
    do(ctx, Actor.local_admin(), "client add acme Acme")
    do(ctx, Actor.local_admin(), "topup acme 10")
    running = RunningApp(ctx)
    return running, SlackDriver(running.port, fake_slack)


def test_an_outage_answers_not_recorded_and_the_bot_recovers_by_itself(
    proxied: tuple[Database, TcpProxy],
    pg_database: Database,
    slack_settings: Settings,
    fake_slack: FakeSlack,
    clock: FixedClock,
) -> None:
    db, proxy = proxied
    running, slack = _serve(db, slack_settings, fake_slack, clock)
    try:
        assert "Logged" in slack.command("/logtime", "acme 15m before").json["text"]
        proxy.cut()
        during = slack.command("/logtime", "acme 15m during")
        assert during.status == 200
        assert "Not recorded" in str(during.json) and "Logged" not in str(during.json)
        reading = str(slack.command("/balance", "acme").json)  # a read is not "not recorded"
        assert "can't be shown" in reading and "Not recorded" not in reading
        assert slack.get("/healthz").status == 503
        proxy.restore()
        assert "Logged" in slack.command("/logtime", "acme 15m after").json["text"]
        assert slack.get("/healthz").status == 200
    finally:
        running.stop()
    direct = Context(pg_database, slack_settings, clock)
    assert entry_count(direct) == 2


def test_a_connection_lost_while_idle_is_replaced_before_use(
    proxied: tuple[Database, TcpProxy],
    pg_database: Database,
    slack_settings: Settings,
    fake_slack: FakeSlack,
    clock: FixedClock,
) -> None:
    """A server restart, an idle timeout or a firewall kills pooled connections unseen: the next
    request still succeeds, because a connection is pinged when taken from the pool and a dead one
    replaced (without the ping, the /balance below answers "unavailable": checked)."""
    db, proxy = proxied
    running, slack = _serve(db, slack_settings, fake_slack, clock)
    try:
        assert "Logged" in slack.command("/logtime", "acme 15m before").json["text"]
        fake_slack.wait_for("views.publish")  # the Home tab refresh it set off is done with the database
        proxy.cut()  # every open connection dies; new ones are accepted again at once
        proxy.restore()
        # a read has no second path to hide a dead connection behind
        balance = str(slack.command("/balance", "acme").json)
        assert "9h 45m" in balance and "Not" not in balance, balance
        assert "Logged" in slack.command("/logtime", "acme 15m after the restart").json["text"]
    finally:
        running.stop()
    direct = Context(pg_database, slack_settings, clock)
    assert entry_count(direct) == 2
