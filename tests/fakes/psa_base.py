"""What the local fakes of the PSAs share: a threaded HTTP server on loopback that records every
request, the faults to drill (down, rate limited, slow to answer a create), and one view of the time
records each holds (:class:`Record`), so one set of tests drives every vendor."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlparse

from tests.fakes.loopback import close, serve_on_loopback


@dataclass
class Recorded:
    method: str
    path: str  # after the API prefix, e.g. "time/entries"
    query: dict[str, str]
    body: Any
    status: int


@dataclass
class Faults:
    down: bool = False
    rate_limited: int = 0
    retry_after: int = 1
    slow_create: float = 0.0


@dataclass(frozen=True)
class Record:
    """A time record as every PSA holds it, in the tests' words."""

    id: int
    company: int | None
    agreement: int | None
    member: int
    ticket: int | None
    work_type: int | None
    start: str  # UTC, 2026-11-25T09:00:00Z
    end: str | None
    minutes: int
    billable: bool
    notes: str
    reference: str | None


class Answer(Exception):
    """An error answer: its status, body and headers."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(str(body))
        self.status, self.body, self.headers = status, body, headers or {}


@dataclass
class Incoming:
    method: str
    path: str  # the whole path
    query: dict[str, str]
    headers: Any
    raw: bytes


@dataclass
class FakeServer:
    """Subclasses answer ``_answer(request) -> (status, body, headers)`` and say ``_down()`` and
    ``_limited()`` in their vendor's words; ``_is_create`` names the request a slow create delays."""

    requests: list[Recorded] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    prefix: ClassVar[str] = "/"  # where the vendor's API starts, e.g. "/v4_6_release/apis/3.0/"

    def __post_init__(self) -> None:
        self._ids = iter(range(1001, 10**9))
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> Any:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once, not 40 ms apart

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

            def do_PATCH(self) -> None:
                fake._handle(self, "PATCH")

            def do_PUT(self) -> None:
                fake._handle(self, "PUT")

            def do_DELETE(self) -> None:
                fake._handle(self, "DELETE")

        self.server = serve_on_loopback(Handler)
        return self

    def stop(self) -> None:
        if self.server is not None:
            close(self.server)

    @property
    def origin(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def url(self) -> str:
        """The API's base URL, as blocktime's settings take it."""
        return self.origin + self.prefix.rstrip("/")

    def settings_values(self) -> dict[str, Any]:
        """The settings that point blocktime at this fake, as ``Settings`` fields."""
        raise NotImplementedError

    def env(self, **extra: str) -> dict[str, str]:
        """The same settings as environment variables (``PSA``, ``HALOPSA_URL``...)."""
        return {**{name.upper(): str(value) for name, value in self.settings_values().items()}, **extra}

    def rate_limit(self, count: int, retry_after: int = 1) -> None:
        self.faults.rate_limited, self.faults.retry_after = count, retry_after

    def reset_requests(self) -> None:
        self.requests.clear()
        self.faults = Faults()

    # -- what a vendor's fake says --------------------------------------------------------------

    def _answer(self, request: Incoming) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError

    def _down(self) -> Answer:
        return Answer(503, {"message": "down for maintenance"})

    def _limited(self) -> Answer:
        return Answer(429, {"message": "Too many requests"})

    def _is_create(self, method: str, path: str, status: int) -> bool:
        return False

    def _short(self, path: str) -> str:
        """A path as the tests name it: after the API's prefix."""
        return path[len(self.prefix) :] if path.startswith(self.prefix) else path

    def _authorise(self, request: Incoming) -> None:
        pass

    # -- requests ----------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urlparse(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        request = Incoming(method, parsed.path, query, handler.headers, raw)
        body: Any = None
        status, payload, headers = 500, None, {}
        try:
            with self._lock:
                if self.faults.down:
                    raise self._down()
                if self.faults.rate_limited > 0:
                    self.faults.rate_limited -= 1
                    limited = self._limited()
                    limited.headers["Retry-After"] = str(self.faults.retry_after)
                    raise limited
            self._authorise(request)
            with self._lock:
                status, payload, headers = self._answer(request)
        except Answer as answer:
            status, payload, headers = answer.status, answer.body, answer.headers
        if raw:
            try:
                body = json.loads(raw, parse_float=Decimal)
            except ValueError:
                body = raw.decode(errors="replace")
        self.requests.append(Recorded(method, self._short(parsed.path), query, body, status))
        if self._is_create(method, parsed.path, status) and self.faults.slow_create:
            time.sleep(self.faults.slow_create)  # stored, but the answer comes too late
        data = b"" if payload is None else json.dumps(payload, default=plain).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass  # the client gave up waiting (a timeout drill)

    def json_body(self, request: Incoming, bad: Any) -> Any:
        """The request's JSON body; ``bad`` answers 400 for a body that is not JSON."""
        if not request.raw:
            return None
        if "application/json" not in (request.headers.get("Content-Type") or ""):
            raise Answer(415, bad("Content-Type must be application/json"))
        try:
            return json.loads(request.raw, parse_float=Decimal)
        except ValueError:
            raise Answer(400, bad("The body is not JSON")) from None

    def next_id(self) -> int:
        return next(self._ids)


FAKES = {  # each PSA's fake: its module and class
    "connectwise": ("tests.fakes.connectwise", "FakeConnectWise"),
    "halopsa": ("tests.fakes.halopsa", "FakeHalo"),
    "autotask": ("tests.fakes.autotask", "FakeAutotask"),
}


def started(servers: dict[str, Any], vendor: str) -> Any:
    """``vendor``'s fake from ``servers``, started there when first asked for (one per test session)."""
    if vendor not in servers:
        import importlib

        module, kind = FAKES[vendor]
        servers[vendor] = getattr(importlib.import_module(module), kind)().start()
    return servers[vendor]


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value))


def minutes_of(hours: Any) -> int:
    return int((Decimal(str(hours)) * 60).quantize(Decimal(1)))
