"""A draft refill's buttons on the low-balance alert, over HTTP: ``refill_confirm`` adds the block once
(managers only: a technician and a guest are refused), ``refill_edit`` opens the top-up form filled in."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from bot.domain.notices import ThresholdCrossed
from bot.services import Actor, Context
from handlers.views.outbox import slack_message
from storage.models import Block, OutboxMessage
from tests.e2e.slack_harness import SlackDriver, assert_valid_message, assert_valid_view, static_select, text_state
from tests.fakes.slack_api import FakeSlack
from tests.helpers import do

GUEST = "UGUEST"


def draft_alert(ctx: Context) -> dict:  # type: ignore[type-arg]
    admin = Actor.local_admin()
    do(ctx, admin, "client set acme refill draft 10h channel <#CALERTS>")
    do(ctx, admin, "logtime acme 9h30m migration")
    with ctx.db.unit_of_work(read_only=True) as uow:
        row = uow.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "threshold")).first()
        assert row is not None
        return json.loads(row.payload)  # type: ignore[no-any-return]


def refill_blocks(ctx: Context) -> int:
    with ctx.db.unit_of_work(read_only=True) as uow:
        return int(uow.session.scalar(select(func.count()).where(Block.source == "refill")) or 0)


def button(facts: dict, action_id: str) -> dict:  # type: ignore[type-arg]
    text, blocks = slack_message(ThresholdCrossed.from_json(facts))
    assert_valid_message(blocks, text)
    found = [e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["action_id"] == action_id]
    assert len(found) == 1, blocks
    return found[0]  # type: ignore[no-any-return]


def test_the_draft_alert_offers_the_block(slack_ctx: Context, acme: str) -> None:
    facts = draft_alert(slack_ctx)
    text, blocks = slack_message(ThresholdCrossed.from_json(facts))
    assert "Ready to add: 10h, unpaid, invoice to follow." in text
    assert button(facts, "refill_confirm")["text"]["text"] == "Add 10h"


def test_confirm_adds_the_block_once_for_a_manager_only(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    fake_slack.user_facts[GUEST] = {"is_restricted": True, "is_ultra_restricted": True}
    value = button(draft_alert(slack_ctx), "refill_confirm")["value"]
    slack.click("refill_confirm", value, user="UTECH", channel="CALERTS")
    assert "Only account managers" in fake_slack.wait_for("response_url")[-1].params["text"]
    slack.click("refill_confirm", value, user=GUEST, channel="CALERTS")
    assert "Only the MSP's staff" in fake_slack.wait_for("response_url", 2)[-1].params["text"]
    assert refill_blocks(slack_ctx) == 0
    slack.click("refill_confirm", value, user="UMGR", channel="CALERTS")
    assert "Refill added by <@UMGR>: 10h as block 2" in fake_slack.wait_for("response_url", 3)[-1].params["text"]
    slack.click("refill_confirm", value, user="UMGR", channel="CALERTS")
    assert "Already added: 10h as block 2" in fake_slack.wait_for("response_url", 4)[-1].params["text"]
    assert refill_blocks(slack_ctx) == 1


def test_edit_opens_the_topup_form_filled_in(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    value = button(draft_alert(slack_ctx), "refill_edit")["value"]
    slack.click("refill_edit", value, user="UTECH", channel="CALERTS")
    assert "Only account managers" in fake_slack.wait_for("response_url")[-1].params["text"]
    slack.click("refill_edit", value, user="UMGR", channel="CALERTS")
    view = fake_slack.wait_for("views.open")[0].params["view"]
    assert_valid_view(view)
    fields = {b["block_id"]: b for b in view["blocks"]}
    assert fields["client"]["element"]["initial_option"]["value"] == "acme"
    assert fields["hours"]["element"]["initial_value"] == "10"
    assert fields["note"]["element"]["initial_value"] == "refill draft 10h (unpaid, invoice to follow)"
    assert fields["paid"]["element"]["initial_option"]["value"] == "unpaid"
    assert refill_blocks(slack_ctx) == 0


def test_the_setting_from_slack_is_for_admins_and_shown_in_the_reply(slack: SlackDriver, acme: str) -> None:
    refused = slack.command("/blocktime", "client set acme refill auto 10h", user="UMGR")
    assert refused.status == 200 and "Only admins" in json.dumps(refused.json)
    done = slack.command("/blocktime", "client set acme refill auto 10h max 2 per month", user="UADMIN")
    assert done.status == 200
    assert_valid_message(done.json.get("blocks", []), done.json.get("text"))
    assert "refill auto 10h max 2 per month" in json.dumps(done.json)


def edited_form(slack: SlackDriver, fake_slack: FakeSlack, value: str, user: str = "UMGR") -> dict:  # type: ignore[type-arg]
    slack.click("refill_edit", value, user=user, channel="CALERTS")
    view = fake_slack.wait_for("views.open")[-1].params["view"]
    assert json.loads(view["private_metadata"])["refill"] == value
    return view  # type: ignore[no-any-return]


EDITED = {
    "client": static_select("acme"),
    "hours": text_state("8"),
    "paid": static_select("unpaid"),
    "reference": text_state("INV-77"),
    "note": text_state("refill draft, edited"),
}


def test_the_edited_form_is_the_same_refill_added_once(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    """Edit first, then Add 10h (or a colleague's second form): one block, a refill, counted as one."""
    value = button(draft_alert(slack_ctx), "refill_confirm")["value"]
    form = edited_form(slack, fake_slack, value)
    first = slack.submit("topup_modal", EDITED, user="UMGR", view_id="VR1", metadata=form["private_metadata"])
    assert first.status == 200 and not first.body
    note = fake_slack.wait_for("chat.postEphemeral")[0].params
    assert note["text"].startswith("Added 8h for Acme")
    slack.click("refill_confirm", value, user="UMGR", channel="CALERTS")
    assert "Already added: 8h as block 2" in fake_slack.wait_for("response_url")[-1].params["text"]
    other = edited_form(slack, fake_slack, value, user="UADMIN")
    again = slack.submit("topup_modal", EDITED, user="UADMIN", view_id="VR2", metadata=other["private_metadata"])
    assert again.status == 200
    assert fake_slack.wait_for("chat.postEphemeral", 2)[-1].params["text"].startswith("Already added 8h")
    assert refill_blocks(slack_ctx) == 1
    with slack_ctx.db.unit_of_work(read_only=True) as uow:
        block = uow.session.scalars(select(Block).where(Block.source == "refill")).one()
        assert (block.minutes, block.paid, block.reference) == (480, False, "INV-77")


def test_add_first_then_the_edited_form_says_already_added(
    slack: SlackDriver, slack_ctx: Context, fake_slack: FakeSlack, acme: str
) -> None:
    value = button(draft_alert(slack_ctx), "refill_confirm")["value"]
    form = edited_form(slack, fake_slack, value)
    slack.click("refill_confirm", value, user="UMGR", channel="CALERTS")
    assert "Refill added by <@UMGR>: 10h as block 2" in fake_slack.wait_for("response_url")[-1].params["text"]
    reply = slack.submit("topup_modal", EDITED, user="UMGR", view_id="VR3", metadata=form["private_metadata"])
    assert reply.status == 200
    assert fake_slack.wait_for("chat.postEphemeral")[0].params["text"].startswith("Already added 10h")
    assert refill_blocks(slack_ctx) == 1
