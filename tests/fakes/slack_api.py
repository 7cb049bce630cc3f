"""A fake Slack Web API on loopback that records every call and answers as Slack does.

Point ``SLACK_API_URL`` (the WebClient's ``base_url``) at ``fake.api_url``. Response URLs of slash
commands and interactions can point at ``fake.response_url(...)``; file uploads go to ``/upload/``.
``fail(method, status, times, retry_after)`` makes the next calls of a method fail (500, 429...);
``hold(method)`` keeps its calls waiting (a Slack that has stopped answering) until ``release()``."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import count
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    at: float = field(default_factory=time.time)
    body: bytes = b""


@dataclass
class Failure:
    status: int
    times: int
    retry_after: int | None = None


class FakeSlack:
    BOT_USER = "UBOT"

    def __init__(self, port: int = 0) -> None:
        self.calls: list[Call] = []
        self.outage_until = 0.0  # while time.time() < this, chat.postMessage alternates 500 and 429
        self._outage_turn = 0
        self.names: dict[str, str] = {}
        # users.info facts beyond the name, per user (is_restricted, team_id, deleted, ...), and
        # conversations.info facts per channel (is_ext_shared, is_shared, connected_team_ids: every
        # organisation's team in a Slack Connect channel, the host's included), with its members
        self.user_facts: dict[str, dict[str, Any]] = {}
        self.channel_facts: dict[str, dict[str, Any]] = {}
        self.members: dict[str, list[str]] = {}
        self.failures: dict[str, Failure] = {}
        self.held: dict[str, threading.Event] = {}
        self.socket_url = "ws://127.0.0.1:9/"
        self._lock = threading.Condition()
        self._ids = count(1)
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, payload, extra = fake._handle(self.path, dict(self.headers.items()), body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> FakeSlack:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "cmd") -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    # -- test controls -----------------------------------------------------------------------------
    def fail(self, method: str, status: int, times: int, retry_after: int | None = None) -> None:
        self.failures[method] = Failure(status, times, retry_after)

    def hold(self, *methods: str) -> None:
        for method in methods:
            self.held[method] = threading.Event()

    def release(self) -> None:
        for gate in self.held.values():
            gate.set()
        self.held.clear()

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count_: int = 1, timeout: float = 10.0) -> list[Call]:
        deadline = time.time() + timeout
        with self._lock:
            while True:
                found = [c for c in self.calls if c.method == method]
                if len(found) >= count_:
                    return found
                left = deadline - time.time()
                if left <= 0:
                    seen = sorted({c.method for c in self.calls})
                    raise AssertionError(f"expected {count_} call(s) of {method}, got {len(found)}; saw {seen}")
                self._lock.wait(left)

    def reset(self) -> None:
        self.release()
        with self._lock:
            self.calls.clear()
            self.failures.clear()
            self.user_facts.clear()
            self.channel_facts.clear()
            self.members.clear()

    # -- the API -----------------------------------------------------------------------------------
    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, Any, dict[str, str]]:
        parsed = urlparse(path)
        if parsed.path.startswith("/api/"):
            method = parsed.path[len("/api/") :]
        elif parsed.path.startswith("/response/"):
            method = "response_url"
        elif parsed.path.startswith("/upload/"):
            method = "file_upload"
        elif parsed.path.startswith("/control/"):
            return self._control(parsed.path[len("/control/") :], parse_qs(parsed.query))
        else:
            return 404, {"ok": False, "error": "unknown_path"}, {}
        params = {} if method == "file_upload" else self._params(headers, body, parsed.query)
        call = Call(method, params, {k.lower(): v for k, v in headers.items()}, body=body)
        gate = self.held.get(method)
        if gate is not None:
            with self._lock:
                self.calls.append(Call(f"{method}:held", params, call.headers))
                self._lock.notify_all()
            gate.wait(60)
        with self._lock:
            if method == "chat.postMessage" and time.time() < self.outage_until:
                self._outage_turn += 1
                status = 500 if self._outage_turn % 2 else 429
                call.params["_failed_with"] = status
                self.calls.append(call)
                self._lock.notify_all()
                return status, {"ok": False, "error": "outage"}, ({"Retry-After": "1"} if status == 429 else {})
            failure = self.failures.get(method)
            if failure and failure.times > 0:
                failure.times -= 1
                call.params["_failed_with"] = failure.status
                self.calls.append(call)
                self._lock.notify_all()
                extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
                error = "ratelimited" if failure.status == 429 else "internal_error"
                return failure.status, {"ok": False, "error": error}, extra
            self.calls.append(call)
            self._lock.notify_all()
        return 200, self._answer(method, params), {}

    def _control(self, action: str, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        """Test controls over HTTP, for a fake running in another process."""
        if action == "outage":
            self.outage_until = time.time() + float(query.get("seconds", ["60"])[0])
            return 200, {"ok": True}, {}
        if action == "calls":
            method = query.get("method", [None])[0]
            with self._lock:
                found = [
                    {"method": c.method, "at": c.at, "params": {k: v for k, v in c.params.items() if k != "blocks"}}
                    for c in self.calls
                    if method is None or c.method == method
                ]
            return 200, {"calls": found}, {}
        if action == "reset":
            self.reset()
            return 200, {"ok": True}, {}
        return 404, {"ok": False}, {}

    @staticmethod
    def _params(headers: dict[str, str], body: bytes, query: str) -> dict[str, Any]:
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "")
        params: dict[str, Any] = {k: v[0] for k, v in parse_qs(query).items()}
        if "json" in content_type and body:
            params.update(json.loads(body))
        elif "form" in content_type and body:
            for key, values in parse_qs(body.decode()).items():
                value = values[0]
                if key in ("blocks", "view", "attachments") and value.startswith(("[", "{")):
                    params[key] = json.loads(value)
                else:
                    params[key] = value
        return params

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        ts = f"{time.time():.6f}"
        channel = params.get("channel", "C0")
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://fake.slack.com/",
                "team": "Fake",
                "user": "blocktime",
                "team_id": "T0",
                "user_id": self.BOT_USER,
                "bot_id": "B0",
            }
        if method == "chat.postMessage":
            return {"ok": True, "channel": channel, "ts": ts, "message": {"text": params.get("text"), "ts": ts}}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "chat.update":
            return {"ok": True, "channel": channel, "ts": params.get("ts"), "text": params.get("text")}
        if method in ("views.open", "views.publish", "views.update", "views.push"):
            view = params.get("view") or {}
            if isinstance(view, str):
                view = json.loads(view)
            return {"ok": True, "view": {**view, "id": f"V{next(self._ids)}", "hash": "h"}}
        if method == "users.info":  # the shape of Slack's users.info (a member of team T0 unless told)
            user = params.get("user", "U0")
            name = self.names.get(user, f"User {user}")
            facts = {
                "id": user,
                "team_id": "T0",
                "name": name.lower().replace(" ", "."),
                "deleted": False,
                "real_name": name,
                "is_bot": False,
                "is_restricted": False,
                "is_ultra_restricted": False,
                "profile": {"real_name": name, "display_name": name, "team": "T0"},
                **self.user_facts.get(user, {}),
            }
            if facts.get("is_stranger"):  # Slack's partial user of another organisation
                facts = {k: facts[k] for k in ("id", "team_id", "name", "is_stranger", "profile") if k in facts}
            return {"ok": True, "user": facts}
        if method == "conversations.info":
            facts = {"is_channel": True, "is_private": False, "is_shared": False, "is_ext_shared": False}
            given = self.channel_facts.get(channel, {})
            if "connected_team_ids" in given:  # a Slack Connect channel: its host and every team in it
                facts |= {"conversation_host_id": "T0", "shared_team_ids": list(given["connected_team_ids"])}
            return {
                "ok": True,
                "channel": {"id": channel, "name": channel.lower(), **facts, **given},
            }
        if method == "conversations.members":
            return {"ok": True, "members": self.members.get(channel, []), "response_metadata": {"next_cursor": ""}}
        if method == "chat.getPermalink":
            message_ts = str(params.get("message_ts", "0")).replace(".", "")
            return {
                "ok": True,
                "channel": channel,
                "permalink": f"https://fake.slack.com/archives/{channel}/p{message_ts}",
            }
        if method == "apps.connections.open":
            return {"ok": True, "url": self.socket_url}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ids)}"
            return {"ok": True, "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}", "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = params.get("files")
            files = json.loads(files) if isinstance(files, str) else files or []
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title", "")} for f in files]}
        return {"ok": True}
