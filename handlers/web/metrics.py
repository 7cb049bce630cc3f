"""``GET /metrics``: Prometheus' scrape (``bot.metrics``), on the web surface beside the Slack
endpoints (``blocktime serve``) or alone (``blocktime web``). Unless ``BLOCKTIME_METRICS_TOKEN`` is
set it is the same plain 404 as any unknown path; with it, a bearer token is required (401 and
``WWW-Authenticate: Bearer`` without it). Neither the token nor the header is ever logged."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request
from flask.blueprints import BlueprintSetupState

from bot.metrics import MetricsEndpoint
from handlers.web.deps import CONTEXT

ENDPOINT = "blocktime.metrics"
blueprint = Blueprint("metrics", __name__)


@blueprint.record_once
def _build(state: BlueprintSetupState) -> None:
    """One endpoint (one registry) per web app, on the app's service context."""
    state.app.extensions[ENDPOINT] = MetricsEndpoint(state.app.extensions[CONTEXT])


@blueprint.get("/metrics")
def scrape() -> Response:
    endpoint: MetricsEndpoint = current_app.extensions[ENDPOINT]
    if not endpoint.enabled:
        abort(404)
    answer = endpoint.answer(request.headers.get("Authorization"))
    return Response(answer.body, status=answer.status, headers=answer.headers)
