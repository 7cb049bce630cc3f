"""Paid and unpaid blocks and pay-first (issue 26, part 1) through the ``blocktime`` command, on SQLite
and PostgreSQL: the words a manager types, the ``--json`` fields scripts read, and the refusals."""

from __future__ import annotations

from tests.e2e.processes import Cli


def test_an_unpaid_top_up_is_marked_paid_and_the_json_says_so(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    added = cli.json("topup", "acme", "10h", "unpaid", "invoice", "INV-1042")
    assert (added["paid"], added["reference"], added["block_number"]) == (False, "INV-1042", 1)
    cli.run("logtime", "acme", "1h", "printer")
    balance = cli.json("balance", "acme")
    assert (balance["remaining_minutes"], balance["unpaid_minutes"], balance["held_for_payment_minutes"]) == (
        540,
        540,
        0,
    )
    assert [(b["paid"], b["paid_at"]) for b in balance["blocks"]] == [(False, None)]
    shown = cli.run("balance", "acme")
    assert "9h left (9h unpaid)" in shown.stdout
    paid = cli.json("block", "paid", "acme", "1")
    assert (paid["paid"], paid["changed"], paid["unpaid_minutes"]) == (True, True, 0)
    assert paid["paid_at"] is not None
    blocks = cli.json("blocks", "acme")["blocks"]
    assert [(b["paid"], b["paid_at"] is not None) for b in blocks] == [(True, True)]
    said = cli.run("block", "paid", "acme", "1")
    assert said.returncode == 0 and "is already paid" in said.stdout


def test_pay_first_holds_unpaid_hours_and_the_entry_goes_to_overage(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    settings = cli.json("client", "set", "acme", "pay-first", "on", "overdraft", "5h")
    assert settings["pay_first"] is True
    cli.run("topup", "acme", "10h", "unpaid", "invoice", "INV-1042")
    logged = cli.run("logtime", "acme", "1h", "printer")
    assert logged.returncode == 0
    assert "Acme has 10h unpaid waiting for payment (pay-first); this went to overage." in logged.stdout
    balance = cli.json("balance", "acme")
    assert (balance["remaining_minutes"], balance["held_for_payment_minutes"], balance["pay_first"]) == (
        -60,
        600,
        True,
    )


def test_block_unpaid_without_a_reason_is_refused_with_an_example(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    cli.run("topup", "acme", "10")
    refused = cli.run("block", "unpaid", "acme", "1")
    assert refused.returncode != 0 and "reason" in refused.stdout + refused.stderr
    assert "block unpaid acme 3 card charge reversed" in refused.stdout + refused.stderr
    done = cli.json("block", "unpaid", "acme", "1", "card", "charge", "reversed")
    assert (done["paid"], done["reason"]) == (False, "card charge reversed")
