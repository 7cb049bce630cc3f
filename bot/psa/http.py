"""What every PSA's HTTP calls share: one pooled client per connection for the whole process, and one
way of saying failures (``PsaError``): a timeout or an unreachable PSA may be retried; a 429 says how
long to wait (``Retry-After``), and an interactive caller (the CLI) waits out a short one; 404 is
``PsaNotFound``; 401 and 403 are ``PsaAccessRefused`` (our credentials); 5xx and 408 may be retried;
any other refusal is permanent. Each vendor module says
how its error bodies read (``failure``).

httpx logs every request's URL at INFO, and a look-up's query names personal data (a technician's
e-mail in ConnectWise's member conditions, Autotask's API user in its zone lookup): in the log a URL's
query is replaced by a hash of it (the same query, the same hash), never written out."""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Hashable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx

from bot.psa import PsaAccessRefused, PsaError, PsaNotFound


class _QueryHashed(logging.Filter):
    """httpx's request log line with each URL's query (personal data, e.g. an e-mail) as a hash."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) and a.query for a in record.args):
            record.args = tuple(hashed_query(a) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


def hashed_query(url: httpx.URL) -> str:
    if not url.query:
        return str(url)
    digest = hashlib.sha256(url.query).hexdigest()[:12]
    return f"{url.copy_with(query=None)}?query-sha256={digest}"


logging.getLogger("httpx").addFilter(_QueryHashed())

WAIT_AT_MOST = 30.0  # an interactive call waits out a 429 this long at most
TRIES = 4


class VendorHttp:
    def __init__(
        self,
        vendor: str,
        client: httpx.Client,
        timeout: float,
        interactive: bool,
        message: Callable[[Any, str], str | None],
        refused: Callable[[int, Any], bool] | None = None,
        missing: Callable[[int, Any], bool] | None = None,
    ) -> None:
        self.vendor = vendor
        self.client = client
        self.timeout = timeout
        # the CLI waits out a short 429 and tries again; the dispatcher reschedules instead of sleeping
        self.interactive = interactive
        self.message = message  # the vendor's words in an error body (its JSON or None, and its text)
        # the vendor's way of saying "refused as it stands" whatever the status (Autotask: 500 + errors)
        self.refused = refused
        # ... and of saying "no such record" whatever the status (Autotask: 500, "No matching records")
        self.missing = missing

    def call(
        self,
        method: str,
        url: str,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
    ) -> tuple[Any, httpx.Response]:
        """The parsed JSON answer (numbers with a point as Decimal; None when empty) and the response."""
        for attempt in range(TRIES):
            try:
                response = self.client.request(method, url, params=params, json=json_body)
            except httpx.TimeoutException:
                raise PsaError(f"{self.vendor} did not answer within {self.timeout:g} s") from None
            except PsaError:
                raise  # the sign-in (an auth flow) said why
            except httpx.HTTPError as error:
                raise PsaError(f"{self.vendor} is unreachable ({type(error).__name__})") from None
            if response.status_code == 429:
                wait = retry_after(response)
                if self.interactive and attempt < TRIES - 1 and (wait or 1) <= WAIT_AT_MOST:
                    time.sleep(wait or 1)
                    continue
                raise PsaError(f"{self.vendor} is rate limiting requests (429)", retry_after=wait)
            if response.status_code >= 400:
                raise self.failure(response)
            if response.status_code == 204 or not response.content:
                return None, response
            return json.loads(response.text, parse_float=Decimal), response
        raise AssertionError("unreachable")  # pragma: no cover

    def failure(self, response: httpx.Response) -> PsaError:
        status = response.status_code
        try:
            body = json.loads(response.text)
        except ValueError:
            body = None
        words = self.message(body, response.text) or response.reason_phrase or "error"
        text = f"{self.vendor} {status}: {words}"
        if self.missing is not None and self.missing(status, body):
            return PsaNotFound(text)
        if self.refused is not None and status != 404 and self.refused(status, body):
            return PsaError(text, permanent=True)
        return failure_of(status, text)


def failure_of(status: int, text: str) -> PsaError:
    if status == 404:
        return PsaNotFound(text)
    if status in (401, 403):
        return PsaAccessRefused(text)
    if status >= 500 or status == 408:
        return PsaError(text)
    return PsaError(text, permanent=True)  # 400, 409, 422...: the same request fails the same way


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


_CLIENTS: dict[Hashable, httpx.Client] = {}
_CLIENTS_LOCK = threading.Lock()


def pooled(name: Hashable, make: Callable[[], httpx.Client]) -> httpx.Client:
    """One HTTP client per connection (``name``: its URL and credentials) for the whole process: the
    dispatcher, the CLI and every thread share it (httpx clients are thread-safe); closed at exit."""
    with _CLIENTS_LOCK:
        if name not in _CLIENTS:
            if not _CLIENTS:
                atexit.register(_close_all)
            _CLIENTS[name] = make()
        return _CLIENTS[name]


def _close_all() -> None:
    with _CLIENTS_LOCK:
        for client in _CLIENTS.values():
            client.close()
        _CLIENTS.clear()


def number(value: str, vendor: str, what: str) -> int:
    """A record id the vendor numbers, or a permanent refusal naming it."""
    if not str(value).isdigit():
        raise PsaError(f"A {vendor} {what} id is a number, not {value!r}.", permanent=True)
    return int(value)


def money(value: object) -> str | None:
    if value is None:
        return None
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def stamp(moment: datetime) -> str:
    """A moment as the PSAs write it: UTC, to the second, with a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: object) -> datetime:
    """A PSA's moment, in UTC (one without a zone is UTC)."""
    parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def day(text: object) -> date | None:
    return parse_stamp(text).date() if text else None
