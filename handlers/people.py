"""Users by name, not just ID: ``users.info`` once per user, cached in memory for an hour."""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services import Actor

log = logging.getLogger(__name__)
TTL_SECONDS = 3600


class People:
    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._names: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def name(self, user_id: str, fallback: str = "") -> str:
        with self._lock:
            cached = self._names.get(user_id)
        if cached and time.monotonic() - cached[1] < TTL_SECONDS:
            return cached[0]
        try:
            user = self.client.users_info(user=user_id)["user"]
        except (SlackApiError, OSError) as error:  # a name is nice to have; never fail a command for it
            log.warning("users.info failed for %s: %s", user_id, error)
            return fallback or user_id
        profile = user.get("profile") or {}
        name = profile.get("real_name") or user.get("real_name") or profile.get("display_name") or user.get("name")
        name = str(name or fallback or user_id)
        with self._lock:
            self._names[user_id] = (name, time.monotonic())
        return name

    def actor(self, user_id: str, fallback: str = "") -> Actor:
        return Actor(user_id, self.name(user_id, fallback))
