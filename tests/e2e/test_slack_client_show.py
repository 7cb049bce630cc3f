"""``/blocktime client show acme`` over the real Bolt app: the issue 26 settings are always shown, in
the words that set them, as ``--json`` has them (pay-first, psa-product, psa-alert, even when off)."""

from __future__ import annotations

import json

from tests.e2e.slack_harness import SlackDriver, assert_valid_message


def shown(slack: SlackDriver) -> str:
    reply = slack.command("/blocktime", "client show acme", user="UADMIN")
    assert reply.status == 200
    assert_valid_message(reply.json.get("blocks", []), reply.json.get("text"))
    return json.dumps(reply.json)


def test_client_show_names_pay_first_psa_product_and_psa_alert(slack: SlackDriver, acme: str) -> None:
    before = shown(slack)
    assert "pay-first off" in before and "psa-product none" in before and "psa-alert off (default)" in before
    for setting in ("pay-first on", "psa-product 12", "psa-alert off"):
        assert slack.command("/blocktime", f"client set acme {setting}", user="UADMIN").status == 200
    after = shown(slack)
    assert "pay-first on" in after and "psa-product 12" in after, after
    assert "psa-alert off" in after and "psa-alert off (default)" not in after, after


def test_client_show_names_where_the_statement_goes(slack: SlackDriver, acme: str) -> None:
    assert "statement-to none \\u00b7 statement-email none" in shown(slack)
    words = "client set acme statement-to <#CFIN> statement-email ap@acme.example,a&b@acme.example"
    assert slack.command("/blocktime", words, user="UADMIN").status == 200
    after = shown(slack)
    assert "statement-to <#CFIN> \\u00b7 statement-email ap@acme.example,a&amp;b@acme.example" in after, after
