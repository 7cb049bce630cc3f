"""Drive the real Bolt app over HTTP the way Slack does: form-encoded slash commands, JSON events and
``payload=`` interactions, each signed with the signing secret (``v0=`` HMAC-SHA256 of
``v0:{timestamp}:{body}``). The app runs on waitress in a thread; the Web API is the loopback fake."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from waitress import wasyncore
from waitress.server import create_server

from bot.app import create_app, create_wsgi_app, drain, settle
from bot.services import Context
from tests.fakes.slack_api import FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def sign(body: bytes, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class SlackDriver:
    """Sends Slack-shaped requests to a running blocktime HTTP server."""

    def __init__(self, port: int, fake: FakeSlack, app: App | None = None) -> None:
        self.port = port
        self.fake = fake
        self.app = app  # the app in this process, when it is: ``settle`` waits for its work

    def settle(self) -> None:
        """Wait until the work the requests sent so far started after their answers has ended."""
        assert self.app is not None, "settle needs the app running in this process"
        assert settle(self.app), "the app's work did not end"

    def post(
        self,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
        signed: bool = True,
        path: str = "/slack/events",
    ) -> Reply:
        stamp = int(time.time()) if timestamp is None else timestamp
        sent = {"Content-Type": content_type, **(headers or {})}
        if signed:
            sent["X-Slack-Request-Timestamp"] = str(stamp)
            sent["X-Slack-Signature"] = sign(body, stamp)
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            connection.request("POST", path, body=body, headers=sent)
            response = connection.getresponse()
            return Reply(response.status, response.read(), dict(response.getheaders()))
        finally:
            connection.close()

    def get(self, path: str) -> Reply:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return Reply(response.status, response.read(), dict(response.getheaders()))
        finally:
            connection.close()

    # -- Slack's request kinds ---------------------------------------------------------------------
    def command(
        self,
        command: str,
        text: str = "",
        user: str = "UTECH",
        channel: str = "CGENERAL",
        trigger_id: str | None = None,
        user_name: str = "",
    ) -> Reply:
        form = {
            "token": "legacy",
            "team_id": "T0",
            "team_domain": "fake",
            "enterprise_id": "",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user_name or user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0",
            "is_enterprise_install": "false",
            "response_url": self.fake.response_url("cmd"),
            "trigger_id": trigger_id or f"trig.{uuid.uuid4().hex}",
        }
        return self.post(urlencode(form).encode(), "application/x-www-form-urlencoded")

    def event(self, event: dict[str, Any], event_id: str | None = None, retry_num: int | None = None) -> Reply:
        envelope = {
            "token": "legacy",
            "team_id": "T0",
            "api_app_id": "A0",
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:10]}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0", "user_id": FakeSlack.BOT_USER, "is_bot": True}],
            "event": event,
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(json.dumps(envelope).encode(), "application/json", headers)

    def interaction(self, payload: dict[str, Any]) -> Reply:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.post(body, "application/x-www-form-urlencoded")

    def click(
        self, action_id: str, value: str = "", user: str = "UTECH", channel: str = "CGENERAL", home: bool = False
    ) -> Reply:
        """A button click on a message (with its reply URL) or, ``home``, on the App Home tab (a view:
        no channel and no reply URL)."""
        where: dict[str, Any] = (
            {"container": {"type": "view", "view_id": "VHOME"}, "view": {"id": "VHOME", "type": "home"}}
            if home
            else {
                "container": {"type": "message"},
                "channel": {"id": channel},
                "response_url": self.fake.response_url("action"),
            }
        )
        return self.interaction(
            {
                "type": "block_actions",
                "team": {"id": "T0"},
                "user": {"id": user, "name": user.lower()},
                "api_app_id": "A0",
                "trigger_id": f"trig.{uuid.uuid4().hex}",
                **where,
                "actions": [
                    {
                        "type": "button",
                        "action_id": action_id,
                        "block_id": "b",
                        "value": value,
                        "action_ts": f"{time.time():.6f}",
                    }
                ],
            }
        )

    def shortcut(self, callback_id: str, user: str = "UTECH") -> Reply:
        """A global shortcut, as Slack sends it (no channel, no reply URL)."""
        return self.interaction(
            {
                "type": "shortcut",
                "token": "legacy",
                "action_ts": f"{time.time():.6f}",
                "team": {"id": "T0", "domain": "fake"},
                "user": {"id": user, "username": user.lower(), "team_id": "T0"},
                "callback_id": callback_id,
                "trigger_id": f"trig.{uuid.uuid4().hex}",
            }
        )

    def message_shortcut(self, callback_id: str, message: dict[str, Any], channel: str, user: str = "UTECH") -> Reply:
        """A message shortcut on ``message`` in ``channel``, as Slack sends it."""
        return self.interaction(
            {
                "type": "message_action",
                "token": "legacy",
                "action_ts": f"{time.time():.6f}",
                "team": {"id": "T0", "domain": "fake"},
                "user": {"id": user, "username": user.lower(), "team_id": "T0"},
                "channel": {"id": channel, "name": channel.lower()},
                "callback_id": callback_id,
                "trigger_id": f"trig.{uuid.uuid4().hex}",
                "message_ts": message["ts"],
                "message": {"type": "message", **message},
                "response_url": self.fake.response_url("shortcut"),
            }
        )

    def options(self, action_id: str, value: str, user: str = "UTECH", block_id: str = "client") -> Reply:
        """What an external select asks as the user types (``block_suggestion``)."""
        return self.interaction(
            {
                "type": "block_suggestion",
                "user": {"id": user, "username": user.lower(), "team_id": "T0"},
                "team": {"id": "T0", "domain": "fake"},
                "api_app_id": "A0",
                "action_id": action_id,
                "block_id": block_id,
                "value": value,
                "container": {"type": "view", "view_id": "V1"},
                "view": {"id": "V1", "type": "modal", "callback_id": "log_modal"},
            }
        )

    def submit(
        self,
        callback_id: str,
        values: dict[str, dict[str, Any]],
        user: str = "UTECH",
        view_id: str = "V1",
        metadata: str = "{}",
    ) -> Reply:
        state = {block: {"value": value} for block, value in values.items()}
        return self.interaction(
            {
                "type": "view_submission",
                "team": {"id": "T0"},
                "user": {"id": user, "name": user.lower()},
                "api_app_id": "A0",
                "trigger_id": f"trig.{uuid.uuid4().hex}",
                "view": {
                    "id": view_id,
                    "type": "modal",
                    "callback_id": callback_id,
                    "private_metadata": metadata,
                    "state": {"values": state},
                    "hash": "h",
                },
            }
        )


class ServerThread:
    """A WSGI app on waitress in a thread of this process, on a free loopback port.

    The thread runs waitress' loop itself, a short poll at a time, so ``stop`` ends it within
    ``POLL_SECONDS``: waitress' own ``run`` polls for a whole second and notices a close from another
    thread only then (a second per test), and its ``asyncore_loop_timeout`` is a whole number of
    seconds (0.05 becomes 0: a loop that never sleeps). The server is closed in the loop's own thread."""

    POLL_SECONDS = 0.05

    def __init__(self, wsgi_app: Any, threads: int) -> None:
        self.map: dict[int, Any] = {}
        self.server = create_server(
            wsgi_app, map=self.map, host="127.0.0.1", port=0, threads=threads, max_request_body_size=512 * 1024
        )
        self.port = int(self.server.effective_port)  # type: ignore[union-attr]
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            wasyncore.loop(timeout=self.POLL_SECONDS, map=self.map, count=1)
        self.server.close()
        # the connections still open finish their answers (a second at most), then all is closed
        deadline = time.monotonic() + 1
        while self.map and time.monotonic() < deadline:
            wasyncore.loop(timeout=self.POLL_SECONDS, map=self.map, count=1)
        wasyncore.close_all(self.map)

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive(), "the test server's loop did not end"
        self.server.task_dispatcher.shutdown()  # type: ignore[union-attr]


class RunningApp(ServerThread):
    """The blocktime Slack app (``create_wsgi_app``) on a ``ServerThread``."""

    def __init__(self, ctx: Context) -> None:
        self.app = create_app(ctx)
        super().__init__(create_wsgi_app(self.app, ctx), threads=8)

    def stop(self) -> None:
        super().stop()
        drain(self.app)


def thread_message(
    text: str, *, channel: str, thread_ts: str, user: str = "UTECH", ts: str = "1700000100.000200", **extra: Any
) -> dict[str, Any]:
    """A ``message`` event as Slack sends a reply in a thread (``thread_ts`` set, ``parent_user_id``)."""
    return {
        "type": "message",
        "channel": channel,
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        "thread_ts": thread_ts,
        "parent_user_id": "UCLIENT",
        "event_ts": ts,
        **extra,
    }


def assert_valid_message(blocks: list[dict[str, Any]], text: str | None) -> None:
    """What Slack requires of a message: a text fallback and at most 50 valid blocks."""
    assert text, "every message needs a plain text fallback"
    assert len(blocks) <= 50
    for block in blocks:
        parsed = Block.parse(block)
        assert parsed is not None, block
        parsed.validate_json()


def assert_valid_view(view: dict[str, Any]) -> None:
    parsed = View(**view)
    parsed.validate_json()
    assert len(view["blocks"]) <= 100


def static_select(value: str) -> dict[str, Any]:
    """A static select's state in a view submission."""
    return {"type": "static_select", "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}}}


def external_select(value: str) -> dict[str, Any]:
    return {
        "type": "external_select",
        "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}},
    }


def text_state(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def date_state(value: str) -> dict[str, Any]:
    return {"type": "datepicker", "selected_date": value}
