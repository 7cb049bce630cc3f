"""``GET /c/<token>``: the client's private page, read-only."""

from __future__ import annotations

from flask import Blueprint, render_template

from bot.domain.durations import format_duration, format_hours
from bot.services.page import client_page
from handlers.web.deps import context, shared_client

blueprint = Blueprint("page", __name__)


@blueprint.app_template_filter("duration")
def _duration(minutes: int) -> str:
    return format_duration(minutes)


@blueprint.app_template_filter("hours")
def _hours(minutes: int) -> str:
    return format_hours(minutes)


@blueprint.get("/c/<token>")
def show(token: str) -> str:
    page = client_page(context(), shared_client(token))
    return render_template("page.html", page=page)
