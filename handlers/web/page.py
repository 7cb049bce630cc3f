"""The client's private page, read-only: ``GET /c/<token>`` (``?month=2026-10`` for a past month's
statement) and ``GET /c/<token>/statement/2026-11.csv`` (a month's statement lines). Each request is
rate-limited per link and recorded in the audit log (``handlers.web.deps.shared_client``); a month
the client has no statement for is the same plain 404 as a wrong link."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

from flask import Blueprint, Response, abort, render_template, request

from bot.domain.durations import format_duration
from bot.domain.errors import NotFound
from bot.reports.csvfile import client_statement_csv
from bot.services.page import client_page, client_statement
from bot.services.purchases import offers_on_page
from handlers.web.chart import burn_chart
from handlers.web.deps import context, shared_client

blueprint = Blueprint("page", __name__)
MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


# A month's statement has hundreds of lines with few distinct days and durations: each is formatted once.
@blueprint.app_template_filter("duration")
@lru_cache(maxsize=4096)
def _duration(minutes: int) -> str:
    return format_duration(minutes)


@blueprint.app_template_filter("day")
@lru_cache(maxsize=4096)
def _day(day: date | datetime) -> str:
    return f"{day.day} {day:%b %Y}"


@blueprint.app_template_filter("month_key")
def _month_key(month: date) -> str:
    return f"{month:%Y-%m}"


@blueprint.get("/c/<token>")
def show(token: str) -> str:
    shared = shared_client(token)
    month = _month(request.args["month"]) if "month" in request.args else None
    try:
        page = client_page(context(), shared, month)
    except NotFound:
        abort(404)
    offers = offers_on_page(context(), shared.client_id)  # Buy more hours (handlers.web.buy)
    return render_template(
        "page.html", page=page, token=token, chart=burn_chart(page.burn, page.run_out_on), offers=offers
    )


@blueprint.get("/c/<token>/statement/<month>.csv")
def statement_csv(token: str, month: str) -> Response:
    shared = shared_client(token)
    try:
        statement = client_statement(context(), shared, _month(month))
    except NotFound:
        abort(404)
    filename = f"{shared.handle}-{statement.month:%Y-%m}.csv"
    return Response(
        client_statement_csv(statement.lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _month(text: str) -> date:
    """``2026-11`` as its first day; anything else is a 404 like any wrong address."""
    found = MONTH.fullmatch(text)
    if found is None:
        abort(404)
    return date(int(found[1]), int(found[2]), 1)
