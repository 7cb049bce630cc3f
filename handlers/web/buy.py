"""Buy more hours (issue 27, part 3): ``POST /c/<token>/buy`` (the page's **Buy 10 hours**, a plain
form) opens a Stripe Checkout Session and answers 303 to it; ``POST /stripe/webhook`` is Stripe's
webhook. Both are thin: ``bot.services.purchases`` decides everything. With Stripe not configured, or
no such offer, the buy route is the same plain 404 as any wrong address; the webhook answers 404 too."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, redirect, request
from flask.blueprints import BlueprintSetupState

from bot.checkout import CheckoutUnavailable
from bot.domain.errors import NotFound
from bot.services.purchases import handle_webhook, start_checkout
from handlers.web import deps
from handlers.web.security import FORM_ACTIONS

log = logging.getLogger("blocktime.web")
blueprint = Blueprint("buy", __name__)


@blueprint.record_once
def _allow_checkout(state: BlueprintSetupState) -> None:
    """The page's forms may lead to Stripe Checkout (its 303 is followed under the page's form-action)."""
    settings = state.app.extensions[deps.CONTEXT].settings
    if settings.stripe_configured and settings.stripe_checkout_origin not in state.app.config[FORM_ACTIONS]:
        state.app.config[FORM_ACTIONS].append(settings.stripe_checkout_origin)


@blueprint.post("/c/<token>/buy")
def buy(token: str) -> Response:
    shared = deps.shared_client(token)
    minutes = request.form.get("minutes", type=int)
    ctx = deps.context()
    if minutes is None:
        abort(404)
    page_url = f"{ctx.settings.public_url or request.host_url.rstrip('/')}/c/{token}"
    try:
        url = start_checkout(ctx, shared.client_id, minutes, page_url)
    except NotFound:
        abort(404)
    except CheckoutUnavailable:
        body = "Payments are unavailable just now; nothing was charged. Please try again in a few minutes.\n"
        return Response(body, status=503, mimetype="text/plain", headers={"Retry-After": "60"})
    return redirect(url, code=303)  # type: ignore[return-value]


@blueprint.post("/stripe/webhook")
def webhook() -> Response:
    answer = handle_webhook(deps.context(), request.get_data(), request.headers.get("Stripe-Signature"))
    if answer.status == 404:
        abort(404)
    return Response(f"{answer.text}\n", status=answer.status, mimetype="text/plain")
