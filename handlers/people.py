"""Who a Slack user is: their name, and whether they are the MSP's staff, a guest, or a member of
another organisation (Slack Connect). ``users.info`` once per user, cached for a bounded time and
dropped when Slack reports a change (``user_change``, ``team_join``), so a command costs no Web API call.

Staff are members of the installing workspace (``auth.test``'s ``team_id``) who are not guests
(``is_restricted``, ``is_ultra_restricted``), bots or deactivated. When Slack cannot be asked, the
user is ``UNVERIFIED`` and every service refuses to write on their word (fail closed); facts fetched
earlier are trusted for a while longer instead."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.roles import Standing
from bot.services import Actor, Context
from bot.services.people import remember_channel, remember_person

log = logging.getLogger(__name__)
TTL_SECONDS = 900  # facts are asked again after this
STALE_SECONDS = 24 * 3600  # ...but trusted this long when Slack cannot be asked
MAX_PEOPLE = 10_000


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    standing: Standing
    team_id: str | None


def standing_of(user: dict[str, Any], home_team: str) -> Standing:
    """Slack's facts of a user (users.info's ``user``, or a ``user_change`` event's) as our standing."""
    if user.get("deleted") or user.get("is_bot") or user.get("is_app_user"):
        return Standing.EXTERNAL
    team = user.get("team_id") or (user.get("profile") or {}).get("team")
    if team and team != home_team and not _in_enterprise(user, home_team):
        return Standing.EXTERNAL
    if user.get("is_stranger"):
        return Standing.EXTERNAL
    if user.get("is_restricted") or user.get("is_ultra_restricted"):
        return Standing.GUEST
    return Standing.STAFF


def _in_enterprise(user: dict[str, Any], home_team: str) -> bool:
    """Enterprise Grid: a user of the org may carry another workspace's team_id but list ours."""
    teams = (user.get("enterprise_user") or {}).get("teams") or []
    return home_team in teams


SLACK_CONNECT = "shared with another organisation (Slack Connect)"


def shared_reason(channel: dict[str, Any]) -> str | None:
    """Why a channel (conversations.info's ``channel``) is read outside the MSP, or None."""
    if channel.get("is_ext_shared") or channel.get("is_pending_ext_shared"):
        return SLACK_CONNECT
    if channel.get("is_shared"):
        return "shared with another workspace"
    return None


def name_of(user: dict[str, Any], fallback: str) -> str:
    profile = user.get("profile") or {}
    name = profile.get("real_name") or user.get("real_name") or profile.get("display_name") or user.get("name")
    return str(name or fallback or user.get("id") or "someone")


class People:
    def __init__(self, client: WebClient, ctx: Context | None = None) -> None:
        self.client = client
        self.ctx = ctx
        self._people: OrderedDict[str, tuple[Person, float]] = OrderedDict()
        self._home_team: str | None = None
        self._lock = threading.Lock()

    def home_team(self) -> str | None:
        """The installing workspace's team (``auth.test``), asked once; None while Slack cannot say."""
        if self._home_team is None:
            try:
                team = self.client.auth_test().get("team_id")
                self._home_team = str(team) if team else None
            except (SlackApiError, OSError) as error:
                log.warning("auth.test failed: %s", error)
        return self._home_team

    def person(self, user_id: str, fallback: str = "", user_team: str | None = None) -> Person:
        with self._lock:
            cached = self._people.get(user_id)
        now = time.monotonic()
        if cached and now - cached[1] < TTL_SECONDS:
            return self._with_hint(cached[0], user_team)
        home = self.home_team()
        try:
            if home is None:
                raise OSError("the workspace's team is not known")
            user = self.client.users_info(user=user_id).get("user")
            if not isinstance(user, dict) or not user.get("id"):
                raise TypeError("users.info answered without a user")
        except (SlackApiError, OSError, TypeError) as error:
            log.warning("users.info failed for %s: %s", user_id, error)
            if cached and now - cached[1] < STALE_SECONDS:
                return self._with_hint(cached[0], user_team)
            return Person(user_id, fallback or user_id, Standing.UNVERIFIED, user_team)
        found = self.learn(user, home, fallback)
        return self._with_hint(found, user_team)

    def _with_hint(self, person: Person, user_team: str | None) -> Person:
        """An event that says the user belongs to another team settles it (Slack Connect)."""
        home = self._home_team
        if user_team and home and user_team != home and person.standing is not Standing.EXTERNAL:
            return Person(person.user_id, person.name, Standing.EXTERNAL, user_team)
        return person

    def learn(self, user: dict[str, Any], home: str | None = None, fallback: str = "") -> Person:
        """Take Slack's facts of a user (users.info, or a ``user_change`` event) into the cache and the
        database (the CLI's ``--as`` reads them there)."""
        home = home or self.home_team() or ""
        person = Person(str(user["id"]), name_of(user, fallback), standing_of(user, home), user.get("team_id"))
        with self._lock:
            self._people[person.user_id] = (person, time.monotonic())
            self._people.move_to_end(person.user_id)
            while len(self._people) > MAX_PEOPLE:
                self._people.popitem(last=False)
        if self.ctx is not None:
            try:
                email = (user.get("profile") or {}).get("email")
                remember_person(self.ctx, person.user_id, person.team_id, person.standing, person.name, email)
            except Exception as error:  # the cache still holds it; the database copy is for the CLI
                log.warning("could not store what Slack said of %s: %s", person.user_id, error)
        return person

    def forget(self, user_id: str) -> None:
        with self._lock:
            self._people.pop(user_id, None)

    def name(self, user_id: str, fallback: str = "") -> str:
        return self.person(user_id, fallback).name

    # -- channels ------------------------------------------------------------------------------------
    def check_channel(self, channel_id: str) -> str | None:
        """Ask Slack whether people outside the MSP read ``channel_id`` (conversations.info) and keep
        the answer; returns why it is shared, or None (not shared, or Slack could not say)."""
        return self.channel_sharing(channel_id)[0]

    def channel_sharing(self, channel_id: str) -> tuple[str | None, tuple[str, ...] | None]:
        """``check_channel``'s answer and, from the same conversations.info, the teams of other
        organisations connected to the channel (its ``connected_team_ids``, else ``shared_team_ids``,
        less the MSP's own team): None when Slack could not say (callers fail closed)."""
        try:
            info = self.client.conversations_info(channel=channel_id).get("channel")
        except (SlackApiError, OSError) as error:
            log.warning("conversations.info failed for %s: %s", channel_id, error)
            return None, None
        if not isinstance(info, dict):
            return None, None
        reason = shared_reason(info)
        self._remember_channel(channel_id, reason)
        teams = info.get("connected_team_ids") or info.get("shared_team_ids")
        home = self.home_team()
        if not isinstance(teams, list) or home is None:
            return reason, None
        internal = {str(t) for t in info.get("internal_team_ids") or []}  # an Enterprise Grid's own workspaces
        return reason, tuple(sorted({str(t) for t in teams} - {home} - internal))

    def guests_in(self, channel_id: str, limit: int = 200) -> str | None:
        """Whether guests or another organisation's members are in the channel (its first ``limit``
        members); kept like ``check_channel``. Slow for a big channel: run it after the answer."""
        try:
            members = self.client.conversations_members(channel=channel_id, limit=limit).get("members")
        except (SlackApiError, OSError) as error:
            log.warning("conversations.members failed for %s: %s", channel_id, error)
            return None
        if not isinstance(members, list):
            return None
        outside = [m for m in members if self.person(str(m)).standing in (Standing.GUEST, Standing.EXTERNAL)]
        reason = "a channel with guests or members of another organisation" if outside else None
        if reason:
            self._remember_channel(channel_id, reason)
        return reason

    def is_member(self, channel_id: str, user_id: str, pages: int = 10) -> bool:
        """Whether ``user_id`` is a member of ``channel_id`` (conversations.members, page by page);
        False when Slack cannot say (fail closed)."""
        cursor = None
        for _ in range(pages):
            try:
                answer = self.client.conversations_members(channel=channel_id, limit=1000, cursor=cursor)
            except (SlackApiError, OSError) as error:
                log.warning("conversations.members failed for %s: %s", channel_id, error)
                return False
            members = answer.get("members")
            if isinstance(members, list) and user_id in members:
                return True
            cursor = (answer.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return False
        return False

    def _remember_channel(self, channel_id: str, reason: str | None) -> None:
        if self.ctx is not None:
            try:
                remember_channel(self.ctx, channel_id, reason is not None, reason or "")
            except Exception as error:
                log.warning("could not store what Slack said of channel %s: %s", channel_id, error)

    def actor(self, user_id: str, fallback: str = "", user_team: str | None = None) -> Actor:
        person = self.person(user_id, fallback, user_team)
        return Actor(user_id, person.name, standing=person.standing)
