"""App Home: the dashboard is published when a user opens the Home tab and after their changes."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.roles import Role
from bot.services import Context, require_role, role_of
from bot.services.queries import Dashboard, dashboard, my_day
from handlers.deps import AfterAck, Deps
from handlers.outcome import attempt
from handlers.people import People
from handlers.views.home import contact_home_view, home_view

ROUND_GAP_SECONDS = 1.0  # a change shows on the Home tab within about this
COOLDOWN_SECONDS = 5.0  # one views.publish per user per this, at most
log = logging.getLogger("blocktime.handlers")


def publish_home(deps: Deps, user_id: str) -> None:
    """Staff see every client; anyone else (a guest, another organisation's member) sees no client."""
    deps.client.views_publish(user_id=user_id, view=home_of(deps.ctx, deps.people, user_id))


def home_of(ctx: Context, people: People, user_id: str, board: Dashboard | None = None) -> dict[str, Any]:
    """The user's Home tab: the dashboard (``board`` when a round has computed it already) with their
    own timer and entries of the day, or why they see no dashboard."""
    role = home_role(ctx, people, user_id)
    if isinstance(role, str):
        return contact_home_view(role)
    board = board if board is not None else dashboard(ctx)
    return home_view(board, can_top_up=role >= Role.MANAGER, mine=my_day(ctx, user_id))


def home_role(ctx: Context, people: People, user_id: str) -> Role | str:
    """The user's role, or why they see no dashboard."""
    actor = people.actor(user_id)
    outcome = attempt(lambda: role_of(ctx, actor), "home")
    if outcome.result is None or outcome.result is Role.CLIENT:
        refusal = attempt(lambda: require_role(ctx, actor, Role.TECHNICIAN, "see the dashboard"), "home")
        return refusal.error or outcome.error or "For your hours, ask your account manager."
    return outcome.result


class HomeRefresher:
    """Refreshes Home tabs after changes, within ``ROUND_GAP_SECONDS``, in shared rounds.

    - A round computes the dashboard once (it is the same for everyone) and publishes it to every
      user waiting, with each one's own timer and entries of the day, so a busy hour costs at most one
      dashboard a second, not one per entry or user.
    - A user is published at most once per ``COOLDOWN_SECONDS`` (Slack rate-limits views.publish);
      changes during the cooldown give one more refresh at its end.
    - Changes are committed before ``changed`` is called, so the round that takes a user shows the
      user's change."""

    def __init__(
        self,
        ctx: Context,
        client: WebClient,
        people: People,
        later: AfterAck,
        gap: float = ROUND_GAP_SECONDS,
        cooldown: float = COOLDOWN_SECONDS,
    ) -> None:
        self.ctx, self.client, self.people, self.later = ctx, client, people, later
        self.gap, self.cooldown = gap, cooldown
        self.pending: set[str] = set()  # waiting for the next round
        self.cooling: set[str] = set()  # published less than ``cooldown`` ago
        self.again: set[str] = set()  # changed again while cooling
        self.scheduled = False
        self.last_round = -gap
        self.lock = threading.Lock()

    def changed(self, user_id: str) -> None:
        with self.lock:
            if user_id in self.cooling:
                self.again.add(user_id)
                return
            self.cooling.add(user_id)
            self.pending.add(user_id)
            start_round = not self.scheduled
            self.scheduled = True
            wait = self.last_round + self.gap - time.monotonic()
        self._after(self.cooldown, self._cooled, user_id)
        if start_round:
            self._after(wait, self.later, "home refresh", self._round)

    def _cooled(self, user_id: str) -> None:
        with self.lock:
            self.cooling.discard(user_id)
            again = user_id in self.again
            self.again.discard(user_id)
        if again:
            self.changed(user_id)

    def _round(self) -> None:
        with self.lock:
            users, self.pending = sorted(self.pending), set()
            self.scheduled = False
            self.last_round = time.monotonic()
        board = dashboard(self.ctx)  # once per round, whoever is waiting
        for user_id in users:
            # the viewer's own part (timer, today's entries) is one small query
            view = home_of(self.ctx, self.people, user_id, board)
            try:
                self.client.views_publish(user_id=user_id, view=view)
            except SlackApiError as error:  # one user's failure does not skip the others
                log.warning("views.publish failed for %s: %s", user_id, error.response.get("error"))

    @staticmethod
    def _after(seconds: float, call: Any, *args: Any) -> None:
        if seconds <= 0:
            call(*args)
            return
        timer = threading.Timer(seconds, call, args=args)
        timer.daemon = True
        timer.start()


def on_user_change(event: dict[str, Any], deps: Deps) -> None:
    """Slack sends the user's new facts (a guest promoted, someone deactivated): take them at once."""
    user = event.get("user") or {}
    if user.get("id"):
        deps.later("user change", deps.people.learn, user, request=True)


def on_team_join(event: dict[str, Any], deps: Deps) -> None:
    user = event.get("user") or {}
    if user.get("id"):
        deps.people.forget(str(user["id"]))


def on_app_home_opened(event: dict[str, Any], deps: Deps) -> None:
    if event.get("tab", "home") == "home":
        deps.later("home opened", _publish_opened, deps, event, request=True)


def _publish_opened(deps: Deps, event: dict[str, Any]) -> None:
    publish_home(deps, event["user"])


def register(app: App) -> None:
    app.event("user_change")(on_user_change)
    app.event("team_join")(on_team_join)
    app.event("app_home_opened")(on_app_home_opened)
