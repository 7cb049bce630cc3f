"""App Home: the dashboard is published when a user opens the Home tab and after their changes."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from slack_bolt import App
from slack_sdk.errors import SlackApiError

from bot.domain.roles import Role
from bot.services import require_role, role_of
from bot.services.queries import dashboard, my_day
from handlers.context import Deps
from handlers.outcome import attempt
from handlers.views.home import contact_home_view, home_view

ROUND_GAP_SECONDS = 1.0  # a change shows on the Home tab within about this
COOLDOWN_SECONDS = 5.0  # one views.publish per user per this, at most
log = logging.getLogger("blocktime.handlers")


def publish_home(deps: Deps, user_id: str) -> None:
    """Staff see every client; anyone else (a guest, another organisation's member) sees no client."""
    role = home_role(deps, user_id)
    if isinstance(role, str):
        view = contact_home_view(role)
    else:
        view = home_view(dashboard(deps.ctx), can_top_up=role >= Role.MANAGER, mine=my_day(deps.ctx, user_id))
    deps.client.views_publish(user_id=user_id, view=view)


def home_role(deps: Deps, user_id: str) -> Role | str:
    """The user's role, or why they see no dashboard."""
    actor = deps.people.actor(user_id)
    outcome = attempt(lambda: role_of(deps.ctx, actor), "home")
    if outcome.result is None or outcome.result is Role.CLIENT:
        refusal = attempt(lambda: require_role(deps.ctx, actor, Role.TECHNICIAN, "see the dashboard"), "home")
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

    def __init__(self, deps: Deps, gap: float = ROUND_GAP_SECONDS, cooldown: float = COOLDOWN_SECONDS) -> None:
        self.deps = deps
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
            self._after(wait, self.deps.later, "home refresh", self._round)

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
        board = dashboard(self.deps.ctx)  # once per round, whoever is waiting
        for user_id in users:
            role = home_role(self.deps, user_id)
            if isinstance(role, str):
                view = contact_home_view(role)
            else:  # the viewer's own part (timer, today's entries) is one small query
                view = home_view(board, can_top_up=role >= Role.MANAGER, mine=my_day(self.deps.ctx, user_id))
            try:
                self.deps.client.views_publish(user_id=user_id, view=view)
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


def register(app: App, deps: Deps) -> None:
    @app.event("user_change")
    def user_changed(event: dict[str, Any]) -> None:
        # Slack sends the user's new facts: a guest promoted, someone deactivated. Take them at once.
        user = event.get("user") or {}
        if user.get("id"):
            deps.later("user change", lambda: deps.people.learn(user), request=True)

    @app.event("team_join")
    def team_joined(event: dict[str, Any]) -> None:
        user = event.get("user") or {}
        if user.get("id"):
            deps.people.forget(str(user["id"]))

    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            deps.later("home opened", lambda: publish_home(deps, event["user"]), request=True)
