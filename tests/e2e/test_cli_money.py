"""Issue 13's findings through the installed ``blocktime`` command, as a new user met them: at the
test's clock (dates relative to its today, the day the in-process CLI acts at), SQLite and PostgreSQL, an
80-column pipe."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FixedClock
from tests.e2e.processes import Cli


@pytest.fixture
def narrow(cli: Cli) -> Cli:
    cli.env["COLUMNS"] = "80"
    return cli


def test_an_edit_keeps_a_courtesy_call_non_billable(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    cli.run("topup", "acme", "10")
    first = cli.json("logtime", "acme", "20m", "--nb", "courtesy", "call")
    done = cli.run("edit", str(first["entry_id"]), "30m")
    assert done.returncode == 0 and f"replaces #{first['entry_id']}" in done.stdout and "non-billable" in done.stdout
    entries = cli.json("entries", "acme")["entries"]
    assert [(e["billable_minutes"], e["non_billable"], e["note"]) for e in entries if not e["voided"]] == [
        (0, True, "courtesy call")
    ]


def test_statements_reconcile_and_late_work_is_marked(cli: Cli, tmp_path: Path, clock: FixedClock) -> None:
    now = clock.now().date()
    late_day = (now.replace(day=1) - timedelta(days=10)).isoformat()  # last month
    cli.run("client", "add", "acme", "Acme")
    cli.run("topup", "acme", "10")
    cli.run("logtime", "acme", "1h", late_day, "late", "work")
    cli.run("logtime", "acme", "30m")
    last = cli.json(
        "report", "acme", "last", "month", "--out", str(tmp_path / "a.csv"), "--chart", str(tmp_path / "a.png")
    )
    this = cli.json(
        "report", "acme", "this", "month", "--out", str(tmp_path / "b.csv"), "--chart", str(tmp_path / "b.png")
    )
    for facts in (last["statement"], this["statement"]):
        assert (
            facts["opening_minutes"]
            + facts["bought_minutes"]
            - facts["used_minutes"]
            - facts["forfeited_minutes"]
            + facts["overage_billed_minutes"]
            == facts["closing_minutes"]
        )
    assert last["statement"]["closing_minutes"] == this["statement"]["opening_minutes"] == 0
    assert this["statement"]["used_minutes"] == 90 and this["statement"]["closing_minutes"] == 510
    assert cli.json("balance", "acme")["remaining_minutes"] == 510
    rows = list(csv.DictReader((tmp_path / "b.csv").read_text().splitlines()))
    assert sum(int(r["billable_minutes"]) for r in rows) == 90
    assert [r["late"] for r in rows] == ["yes", "no"]
    text = cli.run(
        "report", "acme", "this", "month", "--out", str(tmp_path / "c.csv"), "--chart", str(tmp_path / "c.png")
    )
    assert "logged" in text.stdout and "Late: work of" in text.stdout


def test_late_work_is_charged_to_the_block_that_covered_it(cli: Cli, clock: FixedClock) -> None:
    now = clock.now().date()
    yesterday = now - timedelta(days=1)
    cli.run("client", "add", "acme", "Acme")
    cli.run("topup", "acme", "5", "starts", (now - timedelta(days=20)).isoformat(), "expires", yesterday.isoformat())
    cli.run("topup", "acme", "10")
    cli.run("logtime", "acme", "1h", "yesterday", "onsite")
    balance = cli.json("balance", "acme")
    assert (balance["remaining_minutes"], balance["forfeited_minutes"], balance["in_grace_minutes"]) == (600, 0, 240)
    text = cli.run("balance", "acme").stdout
    closing = (yesterday + timedelta(days=7)).isoformat()
    assert f"expired {yesterday}, 4h closing on {closing}" in text
    blocks = cli.json("blocks", "acme")["blocks"]
    old = next(b for b in blocks if b["expires_on"] == yesterday.isoformat())
    assert (old["remaining_minutes"], old["forfeited_minutes"], old["closing_on"]) == (240, 0, closing)


@pytest.mark.parametrize("when", ["tomorrow", "11/12", "99/99"])
def test_date_words_are_never_note_text(cli: Cli, when: str) -> None:
    cli.run("client", "add", "acme", "Acme")
    cli.run("topup", "acme", "10")
    done = cli.run("logtime", "acme", "1h", when, "printer")
    assert done.returncode == 1 and "Example:" in done.stderr and "Traceback" not in done.stderr
    assert cli.json("entries", "acme")["entries"] == []


def test_last_friday_is_a_work_date(cli: Cli, clock: FixedClock) -> None:
    now = clock.now().date()
    friday = now - timedelta(days=(now.weekday() - 4 - 1) % 7 + 1)
    cli.run("client", "add", "acme", "Acme")
    cli.run("topup", "acme", "10")
    logged = cli.json("logtime", "acme", "1h", "last", "friday", "printer")
    assert (logged["work_date"], logged["note"]) == (friday.isoformat(), "printer")


def test_technicians_may_not_date_work_decades_back(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    cli.run("topup", "acme", "10")
    done = cli.run("--as", "UTECH", "logtime", "acme", "1h", "1999-01-01", "old")
    assert done.returncode == 1 and "more than 90 days ago" in done.stderr
    assert cli.run("logtime", "acme", "1h", "1999-01-01", "old").returncode == 0  # the local admin may


def test_absurd_settings_and_future_job_dates_are_refused(cli: Cli, clock: FixedClock) -> None:
    cli.run("client", "add", "acme", "Acme")
    for args, why in (
        (["client", "set", "acme", "rounding", "25h"], "longer than the longest entry"),
        (["client", "set", "acme", "overdraft", "-2h"], "overdraft can't be negative"),
        (["client", "set", "acme", "rounding", "0m"], "rounding none"),
    ):
        done = cli.run(*args)
        assert done.returncode == 1 and why in done.stderr, (args, done.stderr)
    future = (clock.now().date() + timedelta(days=11)).isoformat()
    done = cli.run("jobs", "run", "expiry", "--date", future)
    assert done.returncode == 2 and "after today" in done.stderr


def test_billed_overage_shows_as_its_own_figure(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    cli.run("client", "set", "acme", "overdraft", "unlimited", "overage", "bill")
    cli.run("topup", "acme", "2")
    cli.run("logtime", "acme", "4h", "big", "job")
    cli.run("topup", "acme", "10")
    done = cli.run("balance", "acme")
    assert "Purchased 12h − used 4h + overage billed on its own 2h = 10h left" in done.stdout
    assert cli.json("balance", "acme")["billed_overage_minutes"] == 120


def test_decimal_hours_round_to_the_minute_and_say_so(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    cli.run("topup", "acme", "10")
    done = cli.run("logtime", "acme", "0.33h", "call")
    assert done.returncode == 0 and "0.33h → 20m" in done.stdout
    assert cli.json("entries", "acme")["entries"][0]["minutes"] == 20


def test_user_text_is_printed_literally_and_figures_are_never_cut(narrow: Cli) -> None:
    narrow.run("client", "add", "globex", "Globex", "[north]", "Ltd")
    narrow.run("topup", "globex", "10", "price", "1250.00", "ref", "INV-12345", "expires", "2099-06-30")
    narrow.run("logtime", "globex", "15m", "[urgent]", "server", "down", "C:\\temp")
    for args in (["entries", "globex"], ["blocks", "globex"], ["balance", "globex"], ["clients"], ["balance"]):
        out = narrow.run(*args).stdout
        assert "…" not in out, (args, out)
    entries = narrow.run("entries", "globex").stdout  # the note may wrap in its cell, never lose a character
    assert "[urgent]" in entries and "C:\\temp" in entries
    assert "[urgent] server down C:\\temp" in narrow.json("entries", "globex")["entries"][0]["note"]
    blocks = narrow.run("blocks", "globex").stdout
    assert "1250.00 USD" in blocks and "INV-12345" in blocks and "2099-06-30" in blocks
    assert "Globex [north] Ltd" in narrow.run("clients").stdout


def test_report_files_are_checked_before_anything_is_written(cli: Cli, tmp_path: Path, clock: FixedClock) -> None:
    cli.run("client", "add", "acme", "Acme")
    cli.run("topup", "acme", "10")
    done = cli.run("report", "acme", "--out", str(tmp_path / "a.csv"), "--chart", "/missing/dir/a.png")
    assert done.returncode == 2 and "does not exist" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "a.csv").exists()
    now = clock.now().date()
    first = (now.replace(day=1) - timedelta(days=40)).strftime("%Y-%m")
    last = now.strftime("%Y-%m")
    ranged = cli.run("report", "acme", f"{first}..{last}")
    assert ranged.returncode == 0
    assert (cli.cwd / f"blocktime-acme-{first}..{last}.csv").exists()


def test_small_mistakes_get_a_clear_answer_from_the_cli(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    for args, why in (
        (["role", "@sam", "manager"], "from the CLI, give their user ID"),
        (["help", "foo"], "There is no command `foo`"),
        (["void", "topup"], "Say which top-up to void"),
        (["topup", "acme", "10", "price", "100", "price", "200"], "given twice"),
    ):
        done = cli.run(*args)
        assert done.returncode == 1 and why in done.stderr, (args, done.stderr)
    cli.run("client", "archive", "acme")
    assert [c["handle"] for c in cli.json("clients", "--all")["clients"]] == ["acme"]
