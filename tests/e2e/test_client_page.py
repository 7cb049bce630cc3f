"""The client's private page (issue 27, part 1) over real HTTP on both databases: a live link opens
the page, anything else is the same plain 404 as an unknown path; every response carries the security
headers; requests per link are rate-limited; the page is read-only; no token reaches a log."""

from __future__ import annotations

import logging
import os
import subprocess

import pytest

from bot.clock import FixedClock
from bot.config import Settings
from bot.services import Actor, Context
from storage.db import Database
from tests.e2e.page_harness import PageDriver
from tests.e2e.processes import SCRIPT, free_port, wait_healthy
from tests.e2e.slack_harness import SlackDriver
from tests.helpers import do

RATE = 5  # requests per minute per link in these tests
ADMIN = Actor.local_admin()


@pytest.fixture
def page_settings() -> Settings:
    return Settings(admins=frozenset({"UADMIN"}), page_rate=f"{RATE}/minute")


@pytest.fixture
def link(page_ctx: Context) -> str:
    do(page_ctx, ADMIN, "client add acme Acme Corp")
    do(page_ctx, ADMIN, "client add globex Globex Inc")
    do(page_ctx, ADMIN, "topup acme 10")
    do(page_ctx, ADMIN, "topup globex 3")
    made: str = do(page_ctx, ADMIN, "share acme").data["link"]
    return made


def token_of(link: str) -> str:
    return link.rsplit("/c/", 1)[1]


SECURITY_HEADERS = {
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "cache-control": "private, no-store",
    "content-security-policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}


def test_a_live_link_opens_its_clients_page(web: PageDriver, link: str) -> None:
    reply = web.get(link)
    assert reply.status == 200 and reply.headers["content-type"] == "text/html; charset=utf-8"
    page = reply.body.decode()
    assert '<html lang="en">' in page and "Acme Corp" in page and "10h" in page
    assert "Globex" not in page


def test_every_response_carries_the_security_headers(web: PageDriver, link: str) -> None:
    for path in (link, f"{link}/statement/2026-11.csv", "/c/x", "/static/page.css", "/nowhere", "/c/x/y"):
        reply = web.get(path)
        for name, value in SECURITY_HEADERS.items():
            assert reply.headers[name] == value, (path, name)


def test_healthz_beside_the_page_carries_the_security_headers_too(web: PageDriver) -> None:
    reply = web.get("/healthz")
    assert reply.status == 200 and reply.headers["content-type"] == "application/json"
    for name in ("referrer-policy", "x-content-type-options", "cache-control"):
        assert reply.headers[name] == SECURITY_HEADERS[name], name
    assert reply.headers["content-security-policy"].startswith("default-src 'none'")
    assert reply.headers["x-frame-options"] == "DENY"


def test_the_stylesheet_is_a_static_file_and_the_page_has_no_script_or_inline_style(web: PageDriver, link: str) -> None:
    page = web.text(link)
    assert "<script" not in page and "style=" not in page and "<style" not in page
    css = web.get("/static/page.css")
    assert css.status == 200 and css.headers["content-type"].startswith("text/css")


def test_a_wrong_revoked_expired_or_overlong_token_is_the_same_plain_404_as_an_unknown_path(
    web: PageDriver, page_ctx: Context, link: str, clock: FixedClock
) -> None:
    revoked = do(page_ctx, ADMIN, "share acme")
    do(page_ctx, ADMIN, f"share revoke acme {revoked.data['id']}")
    expiring = do(page_ctx, ADMIN, "share acme 1d")
    clock.advance(days=1)
    unknown = web.get("/no/such/page")
    assert unknown.status == 404 and unknown.body == b"Not Found\n"
    assert unknown.headers["content-type"] == "text/plain; charset=utf-8"
    for path in (
        link + "x",
        link[:-1],
        "/c/" + "A" * 43,
        revoked.data["link"],
        expiring.data["link"],
        "/c/" + "a" * 5000,
    ):
        reply = web.get(path)
        assert (reply.status, reply.body) == (404, unknown.body), path
        assert {k: v for k, v in reply.headers.items() if k != "date"} == {
            k: v for k, v in unknown.headers.items() if k != "date"
        }
    assert web.get(link).status == 200  # the live one still opens


def test_requests_past_the_rate_of_one_link_get_429_and_other_links_still_open(
    web: PageDriver, page_ctx: Context, link: str
) -> None:
    other = do(page_ctx, ADMIN, "share globex").data["link"]
    assert [web.get(link).status for _ in range(RATE)] == [200] * RATE
    limited = web.get(link)
    assert limited.status == 429 and int(limited.headers["retry-after"]) >= 1
    assert limited.headers["cache-control"] == "private, no-store"
    assert web.get(other).status == 200


def test_the_page_is_read_only(web: PageDriver, page_ctx: Context, link: str) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert web.request(method, link, body=b"x=1").status == 405
    views = do(page_ctx, ADMIN, "share list").data["links"][0]
    assert views["last_viewed"] is None  # nothing but a GET counts as a view, and none was made


def test_every_view_is_in_the_audit_log(web: PageDriver, page_ctx: Context, link: str) -> None:
    from sqlalchemy import func, select

    from storage.models import AuditLog

    web.text(link)
    web.text(link)
    with page_ctx.db.unit_of_work(read_only=True) as uow:
        count = uow.session.scalar(select(func.count()).where(AuditLog.action == "share_view"))
    assert count == 2


def test_no_token_reaches_a_log_even_when_the_page_fails(
    web: PageDriver, link: str, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    import handlers.web.page as page_module

    with caplog.at_level(logging.DEBUG):
        web.text(link)
        web.get(link + "x")
        web.get("/c/" + "b" * 60)

        def broken(*args: object) -> None:
            raise RuntimeError(f"boom at {link}")

        monkeypatch.setattr(page_module, "client_page", broken)
        failed = web.get(link)
    assert failed.status == 500 and failed.body == b"Internal Server Error\n"
    assert token_of(link) not in caplog.text and "b" * 60 not in caplog.text
    assert "unexpected error on the web surface" in caplog.text


def test_blocktime_serve_serves_the_page_beside_slack(slack: SlackDriver, slack_ctx: Context) -> None:
    do(slack_ctx, ADMIN, "client add acme Acme Corp")
    link = do(slack_ctx, ADMIN, "share acme").data["link"]
    page = slack.get(link)
    assert page.status == 200 and "Acme Corp" in page.body.decode()
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert slack.get("/healthz").status == 200
    assert slack.get("/nowhere").body == b"Not Found\n"
    assert slack.command("/blocktime", "balance acme", user="UADMIN").status == 200


def test_the_page_settings_name_a_rate() -> None:
    assert Settings.from_mapping({"BLOCKTIME_PAGE_RATE": "100 per hour"}).page_rate == "100/hour"
    assert Settings.from_mapping({}).page_rate == "60/minute"
    from bot.config import ConfigError

    with pytest.raises(ConfigError, match="BLOCKTIME_PAGE_RATE.*e.g. 60/minute"):
        Settings.from_mapping({"BLOCKTIME_PAGE_RATE": "lots"})


def test_blocktime_web_serves_the_page_alone(
    database: Database, page_ctx: Context, link: str, process: list[subprocess.Popen[bytes]]
) -> None:
    """``blocktime web`` (beside Socket Mode): the page and /healthz, no Slack endpoint, no Slack tokens."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "BLOCKTIME_"))}
    env.update(DATABASE_URL=database.url, BLOCKTIME_SCHEDULER="off")
    process.append(
        subprocess.Popen(
            [str(SCRIPT), "web", "--port", str(port), "--host", "127.0.0.1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
    )
    wait_healthy(port)
    web = PageDriver(port)
    assert "Acme Corp" in web.text(link)  # the process's own clock: the link lasts 180 days from the test's
    assert web.get(link + "x").status == 404
    assert web.request("POST", "/slack/events", body=b"{}").status == 404
    process[0].terminate()
    _, errors = process[0].communicate(timeout=10)
    assert token_of(link).encode() not in errors
