"""What the client's page shows (issue 27, part 1) over real HTTP on both databases: the figures of
``blocktime balance acme --json``, the state in words, the blocks, the burn-down and the forecast, a
month's client-safe statement with its month picker and CSV, in the client's time zone; never another
client's data, a staff role, an internal note or an id; every user text escaped."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest

from bot.clock import FixedClock
from bot.services import Actor, Context
from tests.e2e.page_harness import PageDriver
from tests.e2e.processes import Cli
from tests.helpers import do

ADMIN = Actor.local_admin()
TESS = Actor("UTECH", "Tess Tech")
BOB = Actor("UBOB", "Bob Builder")
GARY = Actor("UGARY", "Gary Globexworker")
OCTOBER = datetime(2026, 10, 6, 15, 0, tzinfo=UTC)


@pytest.fixture
def history(page_ctx: Context, clock: FixedClock) -> str:
    """Acme: 10h bought on 6 Oct, 2h of Tess's work that day; 1h 30m of Bob's in November (ticket
    #42). Globex: its own block and work. Returns acme's link (made after, so it is live today)."""
    today = clock.now()
    clock.at = OCTOBER
    do(page_ctx, ADMIN, "client add acme Acme Corp")
    do(page_ctx, ADMIN, "client add globex Globex Inc")
    do(page_ctx, ADMIN, "role <@UMGR> manager")
    do(page_ctx, ADMIN, "client set acme manager <@UMGR>")
    do(page_ctx, ADMIN, "topup acme 10")
    do(page_ctx, ADMIN, "topup globex 3")
    do(page_ctx, TESS, "log acme 2h printer <b>jam</b>")
    do(page_ctx, GARY, "log globex 1h #999 GLOBEX-SECRET server")
    clock.at = today
    do(page_ctx, BOB, "log acme 1h30m #42 mailbox migration")
    link: str = do(page_ctx, ADMIN, "share acme").data["link"]
    return link


def figure(page: str, element_id: str) -> int:
    found = re.search(rf'id="{element_id}"[^>]*data-(?:minutes|percent)="(-?\d+)"', page)
    assert found is not None, element_id
    return int(found[1])


def rows_of(page: str, table_id: str) -> list[list[str]]:
    """The cells of a table's body rows, as text."""
    table = page.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def test_the_figures_are_the_clis_balance(web: PageDriver, history: str, cli: Cli) -> None:
    balance = cli.json("balance", "acme")
    page = web.text(history)
    assert figure(page, "hours-left") == balance["remaining_minutes"] == 390
    assert figure(page, "left-meter") == balance["percent_left"] == 65
    assert figure(page, "used-this-month") == balance["used_this_month_minutes"] == 90
    blocks = [(int(m), int(r)) for r, m in re.findall(r'<tr data-remaining="(\d+)" data-minutes="(\d+)">', page)]
    assert blocks == [(b["minutes"], b["remaining_minutes"]) for b in balance["blocks"]]
    assert page.index('id="hours-left"') < page.index('id="blocks"')  # hours left first


def test_each_block_shows_its_size_expiry_and_whether_it_is_paid(
    web: PageDriver, page_ctx: Context, history: str
) -> None:
    do(page_ctx, ADMIN, "topup acme 5 expires 2027-03-31 unpaid")
    rows = rows_of(web.text(history), "blocks")
    assert rows == [["Block 2", "5h", "5h", "31 Mar 2027", "unpaid"], ["Block 1", "10h", "6h 30m", "never", "paid"]]


def test_the_statement_shows_this_months_lines_with_first_names_only(web: PageDriver, history: str) -> None:
    page = web.text(history)
    assert "Statement for November 2026" in page
    assert rows_of(page, "statement-lines") == [["25 Nov 2026", "Bob", "#42", "1h 30m"]]
    summary = rows_of(page, "statement-summary")
    assert summary == [
        ["Opening balance", "8h"],
        ["Bought", "0m"],
        ["Used", "1h 30m"],
        ["Closing balance", "6h 30m"],
    ]
    assert rows_of(page, "by-technician") == [["Bob", "1h 30m"]]
    assert "Builder" not in page and "UBOB" not in page  # first names only, never a Slack id


def test_the_month_picker_links_each_month_and_opens_a_past_statement(web: PageDriver, history: str) -> None:
    page = web.text(history)
    links = re.findall(r'href="([^"]*\?month=[^"]*)"', page)
    assert [link.rsplit("=", 1)[1] for link in links] == ["2026-11", "2026-10"]
    october = web.text(links[1])
    assert "Statement for October 2026" in october
    assert rows_of(october, "statement-lines") == [["6 Oct 2026", "Tess", "", "2h"]]
    assert web.get(history + "?month=2026-09").status == 404  # before the first line
    assert web.get(history + "?month=2026-12").status == 404  # after this month
    assert web.get(history + "?month=october").body == web.get("/nowhere").body


def test_a_busy_month_lists_its_latest_lines_and_the_csv_has_every_one(
    web: PageDriver, page_ctx: Context, history: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.services.page

    monkeypatch.setattr(bot.services.page, "PAGE_LINES", 2)
    do(page_ctx, TESS, "log acme 15m #43 first")
    do(page_ctx, TESS, "log acme 30m #44 second")
    page = web.text(history)
    assert rows_of(page, "statement-lines") == [
        ["25 Nov 2026", "Tess", "#43", "15m"],
        ["25 Nov 2026", "Tess", "#44", "30m"],
    ]
    assert "the latest 2 of 3 lines" in page
    assert rows_of(page, "by-technician") == [["Bob", "1h 30m"], ["Tess", "45m"]]  # every line counts
    assert rows_of(page, "statement-summary")[2] == ["Used", "2h 15m"]
    csv_rows = list(csv.DictReader(io.StringIO(web.text(history + "/statement/2026-11.csv"))))
    assert [r["ticket"] for r in csv_rows] == ["#42", "#43", "#44"]


def test_notes_show_only_with_client_notes_on(web: PageDriver, page_ctx: Context, history: str) -> None:
    assert "mailbox migration" not in web.text(history)
    assert "mailbox migration" not in web.text(history + "/statement/2026-11.csv")
    do(page_ctx, ADMIN, "client set acme client-notes on")
    assert "mailbox migration" in web.text(history)
    assert "mailbox migration" in web.text(history + "/statement/2026-11.csv")


def test_the_csv_has_the_statements_rows_client_safe(web: PageDriver, page_ctx: Context, history: str) -> None:
    do(page_ctx, ADMIN, "client set acme client-notes on")
    reply = web.get(history + "/statement/2026-10.csv")
    assert reply.status == 200 and reply.headers["content-type"].startswith("text/csv")
    assert reply.headers["content-disposition"] == 'attachment; filename="acme-2026-10.csv"'
    rows = list(csv.DictReader(io.StringIO(reply.body.decode())))
    assert rows == [
        {
            "recorded_on": "2026-10-06",
            "work_date": "2026-10-06",
            "technician": "Tess",
            "ticket": "",
            "work_type": "standard",
            "minutes": "120",
            "hours": "2",
            "correction": "no",
            "late": "no",
            "non_billable": "no",
            "note": "printer <b>jam</b>",
        }
    ]
    page = web.text(history + "?month=2026-10")
    assert f"{history}/statement/2026-10.csv" in page
    assert web.get(history + "/statement/2026-09.csv").status == 404
    assert web.get(history + "/statement/nope.csv").status == 404


def test_a_correction_is_a_line_of_its_own_in_the_month_it_was_made(
    web: PageDriver, page_ctx: Context, history: str
) -> None:
    entry = do(page_ctx, ADMIN, "entries acme 2026-10").entries[0].id
    do(page_ctx, ADMIN, f"void {entry}")
    rows = rows_of(web.text(history), "statement-lines")
    assert rows[1][:2] == ["6 Oct 2026 recorded 25 Nov 2026", "Tess"] and rows[1][3].startswith("-2h")
    csv_rows = list(csv.DictReader(io.StringIO(web.text(history + "/statement/2026-11.csv"))))
    assert [(r["minutes"], r["correction"]) for r in csv_rows] == [("90", "no"), ("-120", "yes")]
    assert sum(int(r["minutes"]) for r in csv_rows) == -30


def test_another_clients_data_never_appears(web: PageDriver, page_ctx: Context, history: str) -> None:
    do(page_ctx, ADMIN, "client set globex client-notes on")
    do(page_ctx, ADMIN, "client set acme client-notes on")
    seen = web.text(history) + web.text(history + "?month=2026-10")
    seen += web.text(history + "/statement/2026-10.csv") + web.text(history + "/statement/2026-11.csv")
    for word in ("Globex", "globex", "GLOBEX-SECRET", "#999", "Gary"):
        assert word not in seen, word


def test_no_staff_role_account_manager_or_alert_text(web: PageDriver, page_ctx: Context, history: str) -> None:
    do(page_ctx, TESS, "log acme 6h30m big migration")  # through every threshold: alerts are queued
    page = web.text(history)
    for word in ("UMGR", "manager <@", "Manager", "admin", "threshold", "alert", "UTECH", "<@"):
        assert word not in page, word


def test_every_user_text_is_escaped(web: PageDriver, page_ctx: Context, clock: FixedClock) -> None:
    do(page_ctx, ADMIN, "client add evil <script>alert(1)</script> & Co")
    do(page_ctx, ADMIN, "client set evil client-notes on")
    do(page_ctx, ADMIN, "topup evil 5")
    do(
        page_ctx,
        Actor("UX", "<img src=x onerror=alert(2)> Smith"),
        'log evil 1h #"><script>t</script> <script>n</script>',
    )
    link = do(page_ctx, ADMIN, "share evil").data["link"]
    page = web.text(link)
    assert "<script>" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page
    assert "&lt;script&gt;n&lt;/script&gt;" in page and "&lt;img" in page


STATES = {  # client: (its lines, the state, the words shown)
    "fine": (["topup fine 10"], "healthy", "Healthy"),
    "few": (["topup few 10", "log few 9h30m"], "low", "Low"),
    "none": (["topup none 10", "log none 10h"], "used up", "Used up"),
    "over": (["client set over overdraft unlimited", "topup over 10", "log over 11h"], "in overage", "In overage"),
    "held": (
        ["client set held overdraft unlimited", "client set held hold-at 1h", "topup held 10", "log held 11h"],
        "on hold",
        "On hold",
    ),
}


def test_each_state_is_shown_in_words_with_the_clis_figures(web: PageDriver, page_ctx: Context, cli: Cli) -> None:
    for handle, (lines, _, _) in STATES.items():
        do(page_ctx, ADMIN, f"client add {handle} {handle.title()} Ltd")
        for line in lines:
            do(page_ctx, TESS if line.startswith("log") else ADMIN, line)
    balances = {b["client"]: b for b in cli.json("balance")["balances"]}
    for handle, (_, state, words) in STATES.items():
        page = web.text(do(page_ctx, ADMIN, f"share {handle}").data["link"])
        assert f'data-state="{state}"><strong>{words}</strong>' in page, handle
        assert figure(page, "hours-left") == balances[handle]["remaining_minutes"]
        if state in ("in overage", "on hold"):
            assert figure(page, "overage") == balances[handle]["overage_minutes"] == 60


def test_the_burn_down_is_inline_svg_with_the_forecast_run_out_date(
    web: PageDriver, page_ctx: Context, history: str
) -> None:
    from bot.services.reports import forecast_facts  # what `report acme` forecasts

    page = web.text(history)
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in svg and "<title" in svg and 'class="balance"' in svg and 'class="forecast"' in svg
    with page_ctx.db.unit_of_work(read_only=True) as uow:
        run_out = forecast_facts(uow, page_ctx, uow.clients.get("acme"))["run_out_on"]  # type: ignore[arg-type]
    assert run_out is not None
    assert f'id="run-out" data-date="{run_out}"' in page
    assert "<img" not in page  # no image request: the chart is in the page


def test_dates_and_times_are_in_the_clients_time_zone(
    web: PageDriver, page_ctx: Context, history: str, clock: FixedClock
) -> None:
    do(page_ctx, ADMIN, "client set acme timezone Pacific/Auckland")
    clock.at = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)  # 1 Dec, 04:00 in Auckland
    page = web.text(history)
    assert "As of <time" in page and "1 Dec 2026, 04:00</time> (Pacific/Auckland)" in page
    assert "Statement for December 2026" in page
