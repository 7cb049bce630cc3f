"""``blocktime share`` run as a user runs it, with ``--json``."""

from __future__ import annotations

import json

from bot.clock import FixedClock
from tests.e2e.processes import Cli


def test_share_list_and_revoke_through_the_cli_as_json(cli: Cli, clock: FixedClock) -> None:
    cli.env["BLOCKTIME_PUBLIC_URL"] = "https://hours.example.com/"
    cli.env["BLOCKTIME_SHARE_DAYS"] = "30"
    cli.run("client", "add", "acme", "Acme")
    made = cli.json("share", "acme")["data"]
    assert made["link"].startswith("https://hours.example.com/c/") and made["public_url_set"] is True
    assert made["client"] == "acme" and made["id"] == 1
    assert made["expires"].startswith("2026-12-25")  # today 2026-11-25, BLOCKTIME_SHARE_DAYS 30
    assert cli.json("share", "acme", "7d")["data"]["expires"].startswith("2026-12-02")
    links = cli.json("share", "list")["data"]["links"]
    assert [(x["client"], x["id"], x["created_by"], x["last_viewed"]) for x in links] == [
        ("acme", 1, "cli", None),
        ("acme", 2, "cli", None),
    ]
    token = made["link"].rsplit("/", 1)[1]
    assert token not in json.dumps(links)
    assert cli.json("share", "revoke", "acme", "1")["data"]["revoked"] == [1]
    assert cli.json("share", "revoke", "acme")["data"]["revoked"] == [2]
    assert cli.json("share", "list")["data"]["links"] == []


def test_without_a_public_url_the_reply_gives_the_path_and_says_what_it_needs(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    done = cli.run("share", "acme")
    assert done.returncode == 0 and "/c/" in done.stdout
    assert "BLOCKTIME_PUBLIC_URL" in " ".join(done.stdout.split())


def test_a_technician_is_refused_with_json_and_a_non_zero_exit(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    done = cli.run("--json", "--as", "UTECH", "share", "acme")
    assert done.returncode != 0 and "account managers and admins" in json.loads(done.stdout)["error"]
    assert cli.json("share", "list")["data"]["links"] == []


def test_a_bad_number_of_days_is_refused_with_an_example(cli: Cli) -> None:
    cli.run("client", "add", "acme", "Acme")
    done = cli.run("share", "acme", "forever")
    assert done.returncode != 0 and "share acme 90d" in done.stdout + done.stderr
