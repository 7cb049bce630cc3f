"""Share links (issue 27, part 1): made, listed and revoked by managers, stored only as a hash, opened
by ``resolve_share`` until revoked or expired, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text

from bot.clock import FixedClock
from bot.config import Settings
from bot.domain.errors import NotFound, ParseError, PermissionDenied
from bot.services import Actor, Context
from bot.services.shares import resolve_share, token_hash
from storage.models import AuditLog, ShareLink
from tests.helpers import do

MANAGER = Actor("UMGR", "Max Manager")


@pytest.fixture
def acme(ctx: Context, admin: Actor) -> str:
    do(ctx, admin, "client add acme Acme Corp")
    do(ctx, admin, "client add globex Globex")
    do(ctx, admin, "role <@UMGR> manager")
    return "acme"


def token_of(link: str) -> str:
    return link.rsplit("/c/", 1)[1]


def test_a_manager_makes_a_link_that_lasts_the_default_days(ctx: Context, acme: str, clock: FixedClock) -> None:
    made = do(ctx, MANAGER, "share acme")
    token = token_of(made.data["link"])
    assert made.data["link"] == f"/c/{token}" and not made.data["public_url_set"]
    assert len(token) >= 43  # secrets.token_urlsafe(32)
    assert "BLOCKTIME_PUBLIC_URL" in made.message and token in made.message
    with ctx.db.unit_of_work() as uow:
        link = uow.session.execute(select(ShareLink)).scalar_one()
        assert link.expires_at == clock.now() + timedelta(days=180)
        assert link.created_by == "UMGR" and link.token_hash == token_hash(token)


def test_the_link_starts_with_the_public_url_and_takes_its_own_days(ctx: Context, acme: str, clock: FixedClock) -> None:
    ctx.settings = Settings(admins=frozenset({"UADMIN"}), public_url="https://hours.example.com", share_days=30)
    made = do(ctx, MANAGER, "share acme 90d")
    assert made.data["link"].startswith("https://hours.example.com/c/")
    assert "BLOCKTIME_PUBLIC_URL" not in made.message
    assert made.data["expires"] == (clock.now() + timedelta(days=90)).isoformat()
    assert do(ctx, MANAGER, "share globex").data["expires"] == (clock.now() + timedelta(days=30)).isoformat()


def test_a_link_opens_its_client_and_each_view_is_recorded_by_time_only(
    ctx: Context, acme: str, clock: FixedClock
) -> None:
    token = token_of(do(ctx, MANAGER, "share acme").data["link"])
    clock.advance(hours=2)
    shared = resolve_share(ctx, token, clock.now())
    assert shared is not None and shared.handle == "acme" and shared.display_name == "Acme Corp"
    listed = do(ctx, MANAGER, "share list").data["links"]
    assert listed[0]["last_viewed"] == clock.now().isoformat()
    with ctx.db.unit_of_work() as uow:
        view = uow.session.execute(select(AuditLog).where(AuditLog.action == "share_view")).scalar_one()
        assert view.at == clock.now() and view.actor == "page" and view.target == f"share:{shared.link_id}"
        assert uow.session.execute(select(ShareLink.views)).scalar_one() == 1


def test_share_list_shows_every_clients_live_links_and_never_a_token(ctx: Context, acme: str) -> None:
    first = do(ctx, MANAGER, "share acme")
    do(ctx, Actor.local_admin(), "share globex 10")
    do(ctx, MANAGER, "share revoke acme")
    listed = do(ctx, MANAGER, "share list")
    assert [(x["client"], x["created_by"]) for x in listed.data["links"]] == [("globex", "cli")]
    assert set(listed.data["links"][0]) == {"client", "id", "created_by", "created", "expires", "last_viewed"}
    assert token_of(first.data["link"]) not in listed.message + str(listed.data)


def test_a_wrong_a_revoked_and_an_expired_token_all_open_nothing_alike(
    ctx: Context, acme: str, clock: FixedClock
) -> None:
    kept = token_of(do(ctx, MANAGER, "share acme 10d").data["link"])
    revoked = do(ctx, MANAGER, "share acme")
    short = token_of(do(ctx, MANAGER, "share globex 1d").data["link"])
    assert do(ctx, MANAGER, f"share revoke acme {revoked.data['id']}").data["revoked"] == [revoked.data["id"]]
    now = clock.now()
    assert resolve_share(ctx, token_of(revoked.data["link"]), now) is None  # at once
    assert resolve_share(ctx, kept + "x", now) is None
    assert resolve_share(ctx, "", now) is None and resolve_share(ctx, "a" * 5000, now) is None
    assert resolve_share(ctx, short, now + timedelta(hours=23)) is not None
    assert resolve_share(ctx, short, now + timedelta(days=1)) is None  # expired, the same None
    assert resolve_share(ctx, kept, now + timedelta(days=10)) is None
    assert resolve_share(ctx, kept, now + timedelta(days=9)) is not None


def test_a_token_that_opens_nothing_never_takes_the_write_lock(
    ctx: Context, acme: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anyone may ask with any token: only a live link's view is written (SQLite has one writer)."""
    kept = token_of(do(ctx, MANAGER, "share acme").data["link"])
    revoked = do(ctx, MANAGER, "share acme")
    do(ctx, MANAGER, f"share revoke acme {revoked.data['id']}")
    expiring = token_of(do(ctx, MANAGER, "share acme 1d").data["link"])
    opened: list[bool] = []
    real = ctx.db.unit_of_work

    def unit_of_work(read_only: bool = False) -> object:
        opened.append(read_only)
        return real(read_only)

    monkeypatch.setattr(ctx.db, "unit_of_work", unit_of_work)
    later = clock.now() + timedelta(days=1)
    for token in (kept + "x", "A" * 43, token_of(revoked.data["link"]), expiring):
        assert resolve_share(ctx, token, later) is None
    assert opened and all(opened), opened  # read-only units of work only
    opened.clear()
    assert resolve_share(ctx, kept, later) is not None
    assert False in opened  # the live link's view is recorded


def test_revoking_without_an_id_ends_every_link_of_that_client_only(ctx: Context, acme: str) -> None:
    a1, a2 = (token_of(do(ctx, MANAGER, "share acme").data["link"]) for _ in range(2))
    g = token_of(do(ctx, MANAGER, "share globex").data["link"])
    revoked = do(ctx, MANAGER, "share revoke acme")
    assert len(revoked.data["revoked"]) == 2 and "2 links" in revoked.message
    assert [resolve_share(ctx, t, ctx.now()) is None for t in (a1, a2, g)] == [True, True, False]
    assert "no live share links" in do(ctx, MANAGER, "share revoke acme").message


def test_revoking_an_unknown_or_other_clients_link_is_refused(ctx: Context, acme: str) -> None:
    other = do(ctx, MANAGER, "share globex").data["id"]
    with pytest.raises(NotFound, match="no live share link"):
        do(ctx, MANAGER, f"share revoke acme {other}")
    with pytest.raises(ParseError):
        do(ctx, MANAGER, "share acme forever")


def test_every_creation_and_revocation_is_in_the_audit_log_by_id(ctx: Context, acme: str) -> None:
    made = do(ctx, MANAGER, "share acme")
    do(ctx, MANAGER, "share revoke acme")
    with ctx.db.unit_of_work() as uow:
        rows = uow.session.execute(
            select(AuditLog.action, AuditLog.actor, AuditLog.target).where(AuditLog.action.like("share%"))
        ).all()
    assert [tuple(r) for r in rows] == [("share", "UMGR", f"share:{made.data['id']}")] + [
        ("share_revoke", "UMGR", f"share:{made.data['id']}")
    ]


@pytest.mark.parametrize("line", ["share acme", "share list", "share revoke acme"])
def test_a_technician_may_not_share_list_or_revoke(ctx: Context, acme: str, tech: Actor, line: str) -> None:
    with pytest.raises(PermissionDenied, match="account managers and admins"):
        do(ctx, tech, line)


def test_the_token_is_stored_nowhere_and_logged_nowhere(
    ctx: Context, acme: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        made = do(ctx, MANAGER, "share acme")
        token = token_of(made.data["link"])
        assert resolve_share(ctx, token, ctx.now()) is not None
        do(ctx, MANAGER, "share list")
        do(ctx, MANAGER, f"share revoke acme {made.data['id']}")
    assert token not in caplog.text
    assert token not in dump_database(ctx)
    assert token_hash(token) in dump_database(ctx)  # the dump does see what is stored


def dump_database(ctx: Context) -> str:
    """Every value of every table, as text."""
    parts = []
    with ctx.db.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            parts += [repr(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"'))]
    return "\n".join(parts)
