"""What every listener needs (``Deps``), how it reaches them, and the one way to run work after the ack.

- How deps arrive: one global middleware, registered by the composition root (``bot.bootstrap``),
  puts the app's ``Deps`` into every request's Bolt context as ``context["deps"]``; Bolt injects
  a context's keys by name like its own arguments, so a listener simply takes ``deps`` beside
  ``ack``, ``body`` or ``respond``. Nothing is closed over: a test calls a listener with its own.
- Work after the ack: ``deps.later(what, work, *args)`` (``AfterAck``), on one pool the app owns.
  Bolt runs our listeners in the request's own thread (``process_before_response=True``, the fastest
  HTTP setting in bench/RESULTS.md); a listener answers, and whatever waits on Slack's Web API
  (replies, reactions, modals, App Home) goes to this pool, where a slow or rate-limited Slack cannot
  hold up the next answer. Bolt's lazy listeners are not used: one mechanism, which also serves work
  that is not a listener's (App Home rounds), logs failures in our words, and whose work a shutdown
  and the tests wait for (``AfterAck.finish``, ``AfterAck.idle``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any, Protocol

from slack_bolt import Ack, App, BoltContext, BoltResponse
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.pools import DRAIN_SECONDS, WorkPool
from bot.services import Context
from handlers.people import People

log = logging.getLogger("blocktime.handlers")
# What a payload that is not shaped as Slack sends raises in our listeners (the sender's error, 400).
MALFORMED = (KeyError, TypeError, ValueError, AttributeError, IndexError)


class AfterAck:
    """The one way to run work after the ack: ``after_ack(what, work, *args)`` runs ``work(*args)`` on
    the app's pool, logging (not raising) its failure."""

    def __init__(self, threads: int, name: str = "blocktime-after-ack") -> None:
        self.pool = WorkPool(threads, name)

    def __call__(self, what: str, work: Callable[..., object], *args: Any, request: bool = False) -> None:
        """``request``: the work reads the Slack payload just acknowledged, so a payload not shaped as
        Slack sends it is the sender's error (a warning, as the app's error handler treats it before
        the ack)."""
        try:
            self.pool.submit(self._guarded, what, work, args, request)
        except RuntimeError:  # shutting down: nothing more is started
            log.info("not started, shutting down: %s", what)

    @staticmethod
    def _guarded(what: str, work: Callable[..., object], args: tuple[Any, ...], request: bool) -> None:
        try:
            work(*args)
        except SlackApiError as error:  # Slack failed (an outage, a 429 storm): theirs, not a bug of ours
            log.warning("Slack Web API failed during %s: %s", what, error.response.get("error"))
        except Exception as error:
            if request and isinstance(error, MALFORMED):
                log.warning("malformed Slack request during %s (%s: %s)", what, type(error).__name__, error)
            else:
                log.exception("background work failed: %s", what)

    def idle(self, timeout: float = DRAIN_SECONDS) -> bool:
        """Wait until the work started so far (and the work it starts) has ended; True when it has."""
        return self.pool.idle(timeout)

    def finish(self, timeout: float = DRAIN_SECONDS) -> bool:
        """Start nothing more and wait for the work started (a shutdown); True when all of it ended."""
        return self.pool.finish(timeout)


class HomeChanges(Protocol):
    """Who refreshes a user's Home tab after their change (``handlers.home.HomeRefresher``)."""

    def changed(self, user_id: str) -> None: ...


class FirstTimes:
    """Keys seen once in this app's life ("told this user about this channel already")."""

    def __init__(self) -> None:
        self._seen: set[Hashable] = set()
        self._lock = threading.Lock()

    def first(self, key: Hashable) -> bool:
        with self._lock:
            if key in self._seen:
                return False
            self._seen.add(key)
            return True


@dataclass(frozen=True)
class Deps:
    """What listeners need, built once by ``bot.bootstrap.create_app``: the service context, the Web
    API client, who users are, the work after the ack, and the Home tabs' refresher."""

    ctx: Context
    client: WebClient
    people: People
    later: AfterAck
    home: HomeChanges
    told: FirstTimes = field(default_factory=FirstTimes)

    def home_changed(self, user_id: str) -> None:
        """The user changed something: refresh their Home tab (coalesced by the refresher)."""
        self.home.changed(user_id)

    def permalink(self, channel: str, ts: str) -> str | None:
        """The message's permalink (a thread's or a message's ticket), or None when Slack can't say."""
        try:
            return str(self.client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
        except SlackApiError as error:
            log.warning("chat.getPermalink failed: %s", error.response.get("error"))
            return None


def ack_then(ack: Ack, deps: Deps, what: str, work: Callable[..., object], *args: Any) -> None:
    """Acknowledge at once; ``work(deps, *args)`` runs after the ack. Its arguments come from the
    payload just acknowledged, so a malformed one is the sender's error (``AfterAck``'s ``request``)."""
    ack()
    deps.later(what, work, deps, *args, request=True)


class SlackApp(App):
    """Bolt's app, owning what its listeners are given: ``deps``, put into every request's context by
    ``with_deps`` (the middleware the composition root registers), and at most ``listener_threads``
    listeners at once: the rest wait without taking turns on the GIL (bench/RESULTS.md)."""

    def __init__(self, deps: Deps, listener_threads: int, **bolt: Any) -> None:
        super().__init__(**bolt)
        self.deps = deps
        self.listener_threads = listener_threads
        self._turns = threading.BoundedSemaphore(listener_threads)

    def with_deps(self, context: BoltContext, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002 - Bolt's name
        context["deps"] = self.deps
        with self._turns:
            return next()
