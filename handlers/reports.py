"""Reports in Slack: ``/blocktime report acme last month`` posts the statement and uploads the entries
CSV and the burn-down chart into its thread (files upload v2); ``/blocktime report --all`` uploads
one CSV for invoicing; ``/blocktime insights`` lists flat-fee candidates. All of it runs after the ack."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Respond
from slack_sdk.errors import SlackApiError

from bot.reports.chart import report_chart
from bot.reports.csvfile import entries_csv
from bot.services import Actor, run_text
from bot.services.channels import client_facing
from bot.services.reports import AllEntriesResult, ReportResult
from handlers.deps import Deps
from handlers.outcome import attempt
from handlers.views.replies import error_message, render

log = logging.getLogger("blocktime.reports")


def run_report(deps: Deps, actor: Actor, text: str, channel: str, respond: Respond) -> None:
    outcome = attempt(lambda: run_text(deps.ctx, actor, text, channel_id=channel), "report")
    if outcome.result is None:
        message, blocks = error_message(outcome.error or "")
        respond(text=message, blocks=blocks, response_type="ephemeral")
        return
    result = outcome.result
    message, blocks = render(result)
    if isinstance(result, ReportResult):
        # a statement speaks of sales (the flat-fee case): never into a channel the client reads
        facing = client_facing(deps.ctx, channel)
        where, ts = _post(deps, None if facing else channel, actor.user_id, message, blocks)
        _where_it_went(respond, channel, where, f"this channel is {facing}" if facing else None)
        stem = f"blocktime-{result.client}-{result.statement['start'][:7]}"
        png = report_chart(result, deps.ctx.now())
        _upload(
            deps,
            where,
            ts,
            [
                {
                    "content": entries_csv(result.entries),
                    "filename": f"{stem}.csv",
                    "title": f"Entries {result.statement['period']}",
                },
                {"content": png, "filename": f"{stem}.png", "title": f"{result.display_name} burn-down"},
            ],
        )
    elif isinstance(result, AllEntriesResult):
        # every client's entries: only the person who asked sees them
        where, ts = _post(deps, None, actor.user_id, message, blocks)
        _where_it_went(respond, channel, where, "it covers every client")
        _upload(
            deps,
            where,
            ts,
            [
                {
                    "content": entries_csv(result.entries),
                    "filename": "blocktime-all.csv",
                    "title": f"All entries {result.period}",
                }
            ],
        )
    else:
        respond(text=message, blocks=blocks, response_type="ephemeral", replace_original=True)


def chart_into_thread(deps: Deps, actor: Actor, handle: str, channel: str, thread_ts: str | None) -> str | None:
    """The burn-down chart of one client, uploaded into an alert's thread. Returns a refusal, if any."""
    outcome = attempt(lambda: run_text(deps.ctx, actor, f"report {handle} this month"), "chart")
    if not isinstance(outcome.result, ReportResult):
        return outcome.error or "No chart for that client."
    result = outcome.result
    png = report_chart(result, deps.ctx.now())
    _upload(
        deps,
        channel,
        thread_ts,
        [{"content": png, "filename": f"blocktime-{handle}-burndown.png", "title": f"{result.display_name} burn-down"}],
    )
    return None


def _where_it_went(respond: Respond, channel: str, where: str, why_dm: str | None) -> None:
    """Replace "Working on it…" with where the report went, and why when it went to a DM."""
    if where == channel:
        text = ":white_check_mark: Posted here, with the CSV and the chart in its thread."
    else:
        reason = why_dm or "I'm not a member of this channel (invite me with /invite @blocktime)"
        text = f":envelope: Sent to you in a direct message: {reason}."
    respond(text=text, response_type="ephemeral", replace_original=True)


def _post(
    deps: Deps, channel: str | None, user_id: str, text: str, blocks: list[dict[str, Any]]
) -> tuple[str, str | None]:
    """Post in the channel (when given), else or failing that to the user directly."""
    for where in [c for c in (channel, user_id) if c]:
        try:
            response = deps.client.chat_postMessage(channel=where, text=text, blocks=blocks)
            return str(response["channel"]), str(response["ts"])
        except SlackApiError as error:
            log.warning("could not post the report in %s: %s", where, error.response.get("error"))
    return user_id, None


def _upload(deps: Deps, channel: str, thread_ts: str | None, files: list[dict[str, Any]]) -> None:
    deps.client.files_upload_v2(channel=channel, thread_ts=thread_ts, file_uploads=files)
