"""The one wiring place: settings, database and clock into a service context; the Slack Web API
clients; the Bolt app with its listeners and what they are given (``handlers.deps.Deps``: people
cache, Home refresher, the pool of the work after the ack); the outbox's transports, the
dispatcher and the scheduler. ``bot.app`` serves what is built here (HTTP or Socket Mode)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from bot import redaction
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.services.context import Context
from storage.db import Database

if TYPE_CHECKING:  # Slack's libraries load when the app is built, not for every CLI command
    from flask import Flask
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.jobs.transports import Transport
    from bot.psa import Psa
    from handlers.deps import AfterAck

log = logging.getLogger("blocktime.app")
AFTER_ACK_THREADS = 16  # Web API calls after the answer (they wait on the network, not the CPU)
NAME_LOOKUP_TIMEOUT = 2  # seconds for users.info before an answer; on failure the Slack handle is used


def build_context(settings: Settings, clock: Clock | None = None, migrate: bool = True) -> Context:
    """A context on ``settings.database_url``; migrations are applied first unless told not to."""
    db = Database(settings.database_url)
    if migrate:
        db.migrate()
    return Context(db, settings, clock or SystemClock())


def make_web_client(
    settings: Settings, token: str | None = None, in_process_retries: bool = True, timeout: int = 10
) -> WebClient:
    """A Web API client on ``SLACK_API_URL``. Interactive paths retry 429/5xx in process; the outbox
    dispatcher (``in_process_retries=False``) reschedules instead of sleeping."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry import RetryHandler
    from slack_sdk.http_retry.builtin_handlers import (
        ConnectionErrorRetryHandler,
        RateLimitErrorRetryHandler,
        ServerErrorRetryHandler,
    )

    client = WebClient(token=token or settings.slack_bot_token, base_url=settings.slack_api_url, timeout=timeout)
    handlers: list[RetryHandler] = [ConnectionErrorRetryHandler(max_retry_count=2)]
    if in_process_retries:
        handlers += [RateLimitErrorRetryHandler(max_retry_count=3), ServerErrorRetryHandler(max_retry_count=2)]
    client.retry_handlers = handlers
    return client


class _OurClientOnPurpose(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment and warns that it goes unused when a client is
    given too: we give our own client on purpose (SLACK_API_URL, retry handlers), so that warning says
    nothing on a normal start. Every other warning passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped

        return record.getMessage() != warning_client_prioritized_and_token_skipped()


def create_web(ctx: Context) -> Flask:
    """The web surface (the client's page, ``handlers.web``): served beside the Slack endpoints by
    ``blocktime serve`` and alone by ``blocktime web``."""
    from handlers.web import create_web_app

    return create_web_app(ctx)


def create_app(ctx: Context, client: WebClient | None = None, socket_mode: bool = False) -> App:
    """The Bolt app with every listener registered, and the one middleware that gives them their
    dependencies (``context["deps"]``, ``handlers.deps``)."""
    from slack_bolt import BoltRequest, BoltResponse
    from slack_sdk.errors import SlackApiError

    from handlers import register_all
    from handlers.deps import MALFORMED, AfterAck, Deps, SlackApp
    from handlers.home import HomeRefresher
    from handlers.people import People

    settings = ctx.settings
    web = client or make_web_client(settings)
    bolt_log = logging.getLogger("blocktime.bolt")
    redaction.install()  # a share link in an answer never reaches a log
    if not any(isinstance(f, _OurClientOnPurpose) for f in bolt_log.filters):
        bolt_log.addFilter(_OurClientOnPurpose())
    # users.info on the way to an answer: a short timeout and no waiting out 429s or 5xx (a name is
    # nice to have, the answer is not; People falls back to the Slack handle)
    names = client or make_web_client(settings, in_process_retries=False, timeout=NAME_LOOKUP_TIMEOUT)
    people = People(names, ctx)
    later = AfterAck(AFTER_ACK_THREADS)
    deps = Deps(ctx, web, people, later, HomeRefresher(ctx, web, people, later))
    app = SlackApp(
        deps,
        settings.listener_threads,
        client=web,
        signing_secret=settings.slack_signing_secret,
        request_verification_enabled=not socket_mode,
        process_before_response=True,
        logger=bolt_log,
    )
    app.use(app.with_deps)
    register_all(app)

    @app.error
    def malformed(error: Exception, request: BoltRequest) -> BoltResponse | None:
        """A signed request whose payload is not shaped as Slack sends it is the sender's error (400),
        never a crash of ours (500); it is logged with its kind, never with its body or tokens."""
        if isinstance(error, MALFORMED):
            log.warning("malformed Slack request (%s: %s)", type(error).__name__, error)
            return BoltResponse(status=400, body="malformed request")
        if isinstance(error, SlackApiError):  # after the ack, Slack itself failed (an outage, a 429 storm)
            log.warning("Slack Web API failed while handling a request: %s", error.response.get("error"))
            return None
        log.error("unexpected error handling a Slack request", exc_info=error)
        return None

    return app


def after_ack(app: App) -> AfterAck | None:
    """The work ``app``'s requests start after their answers (``handlers.deps.AfterAck``)."""
    from handlers.deps import SlackApp

    return app.deps.later if isinstance(app, SlackApp) else None


def listener_limit(app: App) -> int | None:
    """How many listeners ``app`` runs at once (``BLOCKTIME_LISTENER_THREADS``)."""
    from handlers.deps import SlackApp

    return app.listener_threads if isinstance(app, SlackApp) else None


def connect(settings: Settings, interactive: bool = False) -> Psa | None:
    """The PSA the settings name (``PSA=connectwise|halopsa|autotask``), or None. ``interactive``: a person waits (the
    CLI), so a short 429 is waited out instead of failing."""
    if settings.psa == "connectwise":
        from bot.psa.connectwise import ConnectWise

        return ConnectWise.from_settings(settings, interactive)
    if settings.psa == "halopsa":
        from bot.psa.halopsa import HaloPsa

        return HaloPsa.from_settings(settings, interactive)
    if settings.psa == "autotask":
        from bot.psa.autotask import Autotask

        return Autotask.from_settings(settings, interactive)
    return None


def transports_for(ctx: Context, slack_client: WebClient | None = None) -> dict[str, Transport]:
    """The transports the settings make possible (Slack needs a bot token, e-mail ``SMTP_URL``)."""
    from bot.jobs.transports import EmailTransport, SlackTransport, WebhookTransport
    from handlers.views.outbox import slack_message

    settings = ctx.settings
    found: dict[str, Transport] = {"webhook": WebhookTransport(settings.alert_webhook_secret)}
    if settings.slack_bot_token or slack_client is not None:
        client = slack_client or make_web_client(settings, in_process_retries=False)
        found["slack"] = SlackTransport(client, slack_message)
    if settings.smtp_url:
        found["email"] = EmailTransport(settings.smtp_url, settings.alert_email_from, ctx)
    psa = connect(settings)
    if psa is not None:
        from bot.jobs.transports import PsaTransport

        found["psa"] = PsaTransport(ctx, psa)
    return found


def start_scheduler(ctx: Context) -> Any:
    """The outbox dispatcher and the scheduled jobs, in this process (each job still runs once
    across processes)."""
    from bot.jobs.dispatcher import Dispatcher
    from bot.jobs.scheduler import Scheduler

    web = make_web_client(ctx.settings, in_process_retries=False)
    scheduler = Scheduler(ctx, Dispatcher(ctx, transports_for(ctx, web)))
    scheduler.start()
    return scheduler
