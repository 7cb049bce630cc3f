"""The installed ``blocktime`` console script, run as a user runs it, against SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from bot.clock import FixedClock
from storage.db import Database
from tests.e2e.processes import SCRIPT, Cli


def test_the_console_script_is_installed() -> None:
    assert SCRIPT.exists(), "run `make test` (it installs the package into .venv)"


def test_a_first_session_from_client_to_balance(cli_process: Cli) -> None:
    cli = cli_process  # the installed script, each command a process of its own
    assert cli.run("client", "add", "acme", "Acme", "Corp").returncode == 0
    top = cli.json("topup", "acme", "10", "expires", "2099-06-30", "price", "1500", "ref", "INV-1001")
    assert top["minutes"] == 600 and top["price"] == "1500.00" and top["reference"] == "INV-1001"
    logged = cli.json("logtime", "acme", "15m", "laptop", "advice")
    assert {k: logged[k] for k in ("minutes", "billable_minutes", "remaining_minutes")} == {
        "minutes": 15,
        "billable_minutes": 15,
        "remaining_minutes": 585,
    }
    assert isinstance(logged["entry_id"], int)
    balance = cli.json("balance", "acme")
    assert {
        k: balance[k] for k in ("client", "remaining_minutes", "purchased_minutes", "used_minutes", "forfeited_minutes")
    } == {
        "client": "acme",
        "remaining_minutes": 585,
        "purchased_minutes": 600,
        "used_minutes": 15,
        "forfeited_minutes": 0,
    }


def test_flags_may_come_before_or_after_the_command_words(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    cli.run("topup", "acme", "1")
    after = cli.run("logtime", "acme", "1h", "onsite", "--json", "--as", "UTECH")
    assert after.returncode == 0 and json.loads(after.stdout)["billable_minutes"] == 60
    before = cli.run("--as", "UTECH", "--json", "balance", "acme")
    assert json.loads(before.stdout)["remaining_minutes"] == 0


def test_errors_are_json_with_a_non_zero_exit_and_write_nothing(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    cli.run("topup", "acme", "1")
    for args in (
        ["logtime", "acme", "90", "x"],
        ["logtime", "acmee", "15m", "x"],
        ["logtime", "acme", "2h", "x"],
        ["--as", "UTECH", "topup", "acme", "5"],
        ["void", "999"],
    ):
        done = cli.run("--json", *args)
        assert done.returncode != 0, args
        assert json.loads(done.stdout)["error"], args
    assert cli.json("balance", "acme")["remaining_minutes"] == 60
    assert cli.json("entries", "acme")["entries"] == []


def test_a_bad_duration_explains_itself_in_plain_text(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    done = cli.run("logtime", "acme", "90", "laptop")
    assert done.returncode == 1 and "add a unit: 90m or 1.5h" in done.stderr and "Traceback" not in done.stderr


def test_unknown_clients_are_suggested(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    cli.run("client", "alias", "acme", "acme-corp")
    done = cli.run("balance", "acme-crop")
    assert done.returncode == 1 and "did you mean" in done.stderr.lower() and "acme-corp" in done.stderr


def test_every_command_word_works_from_the_cli(cli: Cli) -> None:
    steps = [
        ["client", "add", "acme", "Acme"],
        ["client", "alias", "acme", "acme-corp"],
        ["client", "rename", "acme", "Acme", "Corporation"],
        ["client", "set", "acme", "rounding", "15m", "minimum", "15m", "overdraft", "2h", "timezone", "Europe/Berlin"],
        ["topup", "acme-corp", "10"],
        ["logtime", "acme", "1h30m", "yesterday", "printer", "#1234"],
        ["logtime", "acme", "10m", "--nb", "chat"],
        ["blocks", "acme"],
        ["entries", "acme", "this", "month"],
        ["edit", "1", "45m"],
        ["void", "2"],
        ["role", "U0MANAGER", "manager"],
        ["client", "show", "acme"],
        ["clients"],
        ["help"],
        ["balance"],
        ["client", "archive", "acme"],
    ]
    for step in steps:
        done = cli.run(*step)
        assert done.returncode == 0, (step, done.stdout, done.stderr)
    shown = cli.json("client", "show", "acme")
    assert shown["display_name"] == "Acme Corporation" and shown["aliases"] == ["acme-corp"] and shown["archived"]
    assert shown["rounding_minutes"] == 15 and shown["overdraft_minutes"] == 120


def test_the_console_reads_piped_lines_with_a_leading_slash(cli: Cli) -> None:
    script = "\n".join(
        [
            "client add acme Acme",
            "/topup acme 2",
            "/logtime acme 15m laptop advice",
            "/blocktime entries acme",
            "# comments are skipped",
            "/balance acme --json",
        ]
    )
    done = cli.run("console", stdin=script + "\n")
    assert done.returncode == 0, done.stderr
    assert "Logged #1" in done.stdout and '"remaining_minutes": 105' in done.stdout


def test_the_console_exits_non_zero_when_a_line_failed(cli: Cli) -> None:
    done = cli.run("console", stdin="logtime nobody 15m x\nhelp\n")
    assert done.returncode == 1 and "logtime" in done.stdout


def test_demo_seeds_clients_blocks_and_entries_once(cli: Cli) -> None:
    assert cli.run("demo").returncode == 0
    balances = cli.json("balance")["balances"]
    assert {b["client"] for b in balances} == {"acme", "globex", "initech"}
    assert all(b["used_minutes"] > 0 for b in balances)
    again = cli.run("demo")
    assert again.returncode == 1 and "already" in again.stderr


def test_migrate_is_idempotent(cli_process: Cli) -> None:
    cli = cli_process
    assert cli.run("migrate").returncode == 0
    assert cli.run("migrate").returncode == 0


def test_a_database_that_cannot_be_reached_is_reported_not_crashed(tmp_path: Path) -> None:
    cli = Cli("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2", tmp_path, process=True)
    done = cli.run("--json", "balance")  # a read is not "not recorded"
    assert done.returncode == 3 and "can't be shown" in json.loads(done.stdout)["error"]
    done = cli.run("--json", "logtime", "acme", "15m", "advice")
    assert done.returncode == 3 and "nothing was saved" in json.loads(done.stdout)["error"]


def test_the_console_can_seed_the_demo_and_run_is_friendly_to_people(cli: Cli) -> None:
    done = cli.run("run", stdin="demo\nbalance acme\nlogtime nobody 15m x\n")
    assert done.returncode == 0 and "Seeded 15 demo commands" in done.stdout and "Acme Corporation" in done.stdout


def test_the_clis_own_flags_are_checked_and_a_closed_pipe_is_no_traceback(cli: Cli) -> None:
    import subprocess

    from tests.e2e.processes import SCRIPT

    cli.run("client", "add", "acme", "Acme")
    misplaced = cli.run("balance", "acme", "--out", "x.csv")
    assert misplaced.returncode == 2 and "`--out` goes with report or export" in misplaced.stderr
    assert cli.run("balance", "--as").returncode == 2
    cli.run("console", stdin="logtime acme 1m --nb call\n" * 300)  # more output than a pipe holds (64 KB)
    piped = subprocess.run(
        f"'{SCRIPT}' --json entries acme | head -c 1",
        shell=True,
        capture_output=True,
        text=True,
        env=cli.env,
        cwd=cli.cwd,
        timeout=60,
    )
    assert piped.stdout == "{" and "Traceback" not in piped.stderr


def test_the_cli_acts_at_the_clock_it_is_given(database: Database, tmp_path: Path) -> None:
    """``main`` takes a clock as the app does: "today", periods and file names follow it, not the wall."""
    leap_day = FixedClock(datetime(2028, 2, 29, 23, 30, tzinfo=UTC))
    cli = Cli(database.url, tmp_path, clock=leap_day)
    cli.run("client", "add", "acme", "Acme")
    cli.run("topup", "acme", "2")
    logged = cli.json("logtime", "acme", "15m", "yesterday", "patching")
    entries = cli.json("entries", "acme", "this", "month")["entries"]
    assert [e["work_date"] for e in entries if e["id"] == logged["entry_id"]] == ["2028-02-28"]
    assert cli.run("report", "--all", "this", "month").returncode == 0
    assert (tmp_path / "blocktime-all-2028-02.csv").exists()
