"""Issue 24 through the ``blocktime`` command: a grace period changed between runs, and a top-up that
closed before it was bought. In-process, at the test's clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.clock import FixedClock
from tests.e2e.processes import Cli


def test_a_grace_default_shortened_between_runs_is_forfeited_by_jobs_run_expiry_which_says_so(
    cli: Cli, clock: FixedClock
) -> None:
    cli.env["BLOCKTIME_EXPIRY_GRACE_DAYS"] = "7"
    clock.at = datetime(2026, 11, 1, 12, tzinfo=UTC)
    cli.run("client", "add", "acme", "Acme")
    cli.run("topup", "acme", "5", "expires", "2026-11-20")
    clock.at = datetime(2026, 11, 25, 0, 5, tzinfo=UTC)
    assert "forfeited 0 min" in cli.run("jobs", "run", "expiry").stdout  # in its grace period until the 27th
    clock.advance(hours=9)
    cli.env["BLOCKTIME_EXPIRY_GRACE_DAYS"] = "2"  # closed on the 22nd
    done = cli.run("jobs", "run", "expiry")
    assert done.returncode == 0 and "forfeited 300 min across 1 client" in done.stdout, done.stdout
    balance = cli.json("balance", "acme")
    report = cli.json("report", "acme", "this", "month")["statement"]
    assert balance["forfeited_minutes"] == report["forfeited_minutes"] == 300
    assert report["closing_minutes"] == 0


def test_a_top_up_that_closed_before_it_was_bought_is_refused_with_an_example(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")  # today is 2026-11-25; the grace period 7 days
    done = cli.run("topup", "acme", "5", "starts", "2026-10-01", "expires", "2026-11-10")
    assert done.returncode != 0
    said = " ".join((done.stdout + done.stderr).split())
    assert "closed on 2026-11-17" in said and "topup acme 5 expires 2027-11-25" in said, said
    assert cli.json("balance", "acme")["purchased_minutes"] == 0


def test_a_refill_policy_is_set_shown_and_acted_on_through_the_cli(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    cli.run("topup", "acme", "10")
    shown = cli.json("client", "set", "acme", "refill", "auto", "10h", "paid", "max", "2", "per", "month")
    assert (shown["refill_mode"], shown["refill_minutes"], shown["refill_paid"], shown["refill_cap"]) == (
        "auto",
        600,
        True,
        2,
    )
    assert shown["refill_armed"] is True
    assert "Refill" in cli.run("client", "show", "acme").stdout
    cli.run("logtime", "acme", "9h30m", "migration")
    assert cli.json("balance", "acme")["remaining_minutes"] == 630
    assert cli.json("client", "show", "acme")["refill_armed"] is False
    refused = cli.run("client", "set", "acme", "refill", "sometimes")
    assert refused.returncode != 0 and "client set acme refill auto 10h" in refused.stdout + refused.stderr


def test_client_show_shows_pay_first_psa_product_and_psa_alert_as_json_has_them(cli: Cli) -> None:
    cli.env["COLUMNS"] = "80"  # the table as "Header: value" lines
    cli.run("client", "add", "acme", "Acme")
    plain = " ".join(cli.run("client", "show", "acme").stdout.split())
    assert "Pay-first: off" in plain and "psa-product none" in plain and "psa-alert off (default)" in plain, plain
    cli.run("client", "set", "acme", "pay-first", "on")
    cli.run("client", "set", "acme", "psa-product", "12")
    cli.run("client", "set", "acme", "psa-alert", "off")
    shown = cli.json("client", "show", "acme")
    assert (shown["pay_first"], shown["psa_product_id"], shown["psa_alert"], shown["psa_alert_default"]) == (
        True,
        "12",
        "off",
        False,
    )
    plain = " ".join(cli.run("client", "show", "acme").stdout.split())
    assert "Pay-first: on" in plain and "psa-product 12" in plain, plain
    assert "psa-alert off" in plain and "psa-alert off (default)" not in plain, plain


def test_offers_are_set_shown_and_refused_with_an_example_through_the_cli(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    shown = cli.json("client", "set", "acme", "buy", "10h", "950", "USD,", "20h", "1800", "USD")
    assert shown["buy_offers"] == "10h 950.00 USD, 20h 1800.00 USD"
    assert cli.json("client", "set", "acme", "buy", "10h", "none")["buy_offers"] == "20h 1800.00 USD"
    refused = cli.run("client", "set", "acme", "buy", "10h", "950.123", "USD")
    said = " ".join((refused.stdout + refused.stderr).split())
    assert refused.returncode != 0 and "at most 2 decimals" in said and "buy 10h 950 USD, 20h 1800 USD" in said
    assert cli.json("client", "show", "acme")["buy_offers"] == "20h 1800.00 USD"


def test_client_show_shows_where_the_statement_goes_as_json_has_it(cli: Cli) -> None:
    cli.env["COLUMNS"] = "80"  # the table as "Header: value" lines
    cli.run("client", "add", "acme", "Acme")
    plain = " ".join(cli.run("client", "show", "acme").stdout.split())
    assert "statement-to none · statement-email none" in plain, plain
    cli.run("client", "set", "acme", "statement-to", "<#CFIN>", "statement-email", "ap@acme.example,ceo@acme.example")
    shown = cli.json("client", "show", "acme")
    assert (shown["statement_channel"], shown["statement_emails"]) == ("CFIN", "ap@acme.example,ceo@acme.example")
    plain = " ".join(cli.run("client", "show", "acme").stdout.split())
    assert "statement-to #CFIN · statement-email ap@acme.example,ceo@acme.example" in plain, plain
