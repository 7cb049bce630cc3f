"""A local ConnectWise PSA (Manage) REST API v3.0, written from ConnectWise's published API reference.

It checks every request as ConnectWise does and records it:
- Basic auth ``{company}+{public key}:{private key}`` and the ``clientId`` header (401 / 400 otherwise);
- query parameters: ``conditions`` (``field = "text"``, ``[dates]``, numbers, ``like`` with ``%``,
  ``and`` / ``or``), ``page``, ``pageSize`` (at most 1,000; default 25), ``fields``, ``orderBy``; the
  next page is named in a ``Link`` header;
- bodies of ``POST /time/entries`` and the result of each ``PATCH`` (JSON Patch operations) are
  validated against the ``TimeEntry`` schema of ConnectWise's OpenAPI description (its Python models,
  generated from that description, in the ``pyconnectwise`` package), with unknown fields refused,
  then against ConnectWise's rules: the company, member, agreement (of that company), service ticket
  (of that company) and work type exist; the end is after the start; a billed entry is not changed
  or deleted;
- errors come in ConnectWise's shape: ``{"code", "message", "errors": [{"code", "message", "resource",
  "field"}]}``; 429 carries ``Retry-After``.

Faults to drill: ``down`` (503 for every request), ``rate_limit(n, seconds)`` (the next n answer 429),
``slow_create`` (a create is stored, then answered after that many seconds: a client's timeout)."""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

PREFIX = "/v4_6_release/apis/3.0/"
QUERY_PARAMETERS = {"conditions", "page", "pageSize", "fields", "orderBy", "childConditions", "customFieldConditions"}
CLAUSE = re.compile(r"^\s*([A-Za-z_][\w/]*)\s*(!=|<=|>=|=|<|>|\s+like\s+|\s+contains\s+)\s*(.+?)\s*$", re.IGNORECASE)


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


_STRICT: dict[str, Any] = {}


def _strict_time_entry() -> Any:
    """ConnectWise's ``TimeEntry`` schema, refusing fields it does not have."""
    if "TimeEntry" not in _STRICT:
        import warnings

        from pydantic import ConfigDict

        with warnings.catch_warnings():  # the generated models use pydantic 1's Field(example=...)
            warnings.simplefilter("ignore")
            from pyconnectwise.models.manage import TimeEntry

            class StrictTimeEntry(TimeEntry):  # type: ignore[misc]
                model_config = ConfigDict(extra="forbid")

        _STRICT["TimeEntry"] = StrictTimeEntry
    return _STRICT["TimeEntry"]


def _schema_fields() -> set[str]:
    model = _strict_time_entry()
    return {f.alias or name for name, f in model.model_fields.items()}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or []


@dataclass
class FakeConnectWise:
    company: str = "msp"
    public_key: str = "pub-key"
    private_key: str = "priv-key"
    client_id: str = "blocktime-client-id"
    companies: dict[int, dict[str, Any]] = field(default_factory=dict)
    agreements: dict[int, dict[str, Any]] = field(default_factory=dict)
    additions: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    members: dict[int, dict[str, Any]] = field(default_factory=dict)
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    work_types: dict[int, dict[str, Any]] = field(default_factory=dict)
    time_entries: dict[int, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        self._ids = iter(range(1001, 10**9))
        self._lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # -- set-up ------------------------------------------------------------------------------------

    def reset(self) -> FakeConnectWise:
        """Empty, with no faults (a server shared by a test session)."""
        for table in (
            self.companies,
            self.agreements,
            self.additions,
            self.members,
            self.tickets,
            self.work_types,
            self.time_entries,
        ):
            table.clear()
        self.requests.clear()
        self.faults = Faults()
        return self

    def start(self) -> FakeConnectWise:
        _strict_time_entry()  # the schema loads once, before the first request
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

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

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}{PREFIX.rstrip('/')}"

    def env(self, **extra: str) -> dict[str, str]:
        """The settings that point blocktime at this fake."""
        return {
            "PSA": "connectwise",
            "CONNECTWISE_URL": self.url,
            "CONNECTWISE_COMPANY": self.company,
            "CONNECTWISE_PUBLIC_KEY": self.public_key,
            "CONNECTWISE_PRIVATE_KEY": self.private_key,
            "CONNECTWISE_CLIENT_ID": self.client_id,
            **extra,
        }

    def add_company(self, company_id: int, name: str, identifier: str | None = None) -> None:
        self.companies[company_id] = {
            "id": company_id,
            "identifier": identifier or name.split()[0],
            "name": name,
            "_info": {},
        }

    def add_agreement(self, agreement_id: int, company_id: int, name: str, **facts: Any) -> None:
        company = self.companies[company_id]
        self.agreements[agreement_id] = {
            "id": agreement_id,
            "name": name,
            "type": {"id": 1, "name": "Block Time"},
            "company": {"id": company_id, "identifier": company["identifier"], "name": company["name"]},
            "agreementStatus": "Active",
            "cancelledFlag": False,
            **facts,
        }

    def add_member(self, member_id: int, identifier: str, email: str, first: str = "", last: str = "") -> None:
        self.members[member_id] = {
            "id": member_id,
            "identifier": identifier,
            "firstName": first or identifier,
            "lastName": last,
            "primaryEmail": email,
            "inactiveFlag": False,
        }

    def add_ticket(self, ticket_id: int, company_id: int, summary: str = "a ticket") -> None:
        self.tickets[ticket_id] = {"id": ticket_id, "summary": summary, "company": {"id": company_id}}

    def rate_limit(self, count: int, retry_after: int = 1) -> None:
        self.faults.rate_limited, self.faults.retry_after = count, retry_after

    def calls(self, method: str, path_start: str = "time/entries") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_start)]

    # -- requests ----------------------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urlparse(handler.path)
        path = parsed.path[len(PREFIX) :] if parsed.path.startswith(PREFIX) else parsed.path
        query = {k: v[-1] for k, v in parse_qs(parsed.query, keep_blank_values=True).items()}
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        body: Any = None
        status, payload, headers = 500, None, {}
        try:
            if not parsed.path.startswith(PREFIX):
                raise ApiError(404, "NotFound", f"{parsed.path} is not an API path")
            if raw:
                if "application/json" not in (handler.headers.get("Content-Type") or ""):
                    raise ApiError(415, "UnsupportedMediaType", "Content-Type must be application/json")
                try:
                    body = json.loads(raw, parse_float=Decimal)
                except ValueError:
                    raise ApiError(400, "InvalidObject", "The body is not JSON") from None
            self._authorise(handler)
            with self._lock:
                if self.faults.down:
                    raise ApiError(503, "ServiceUnavailable", "ConnectWise is down for maintenance")
                if self.faults.rate_limited > 0:
                    self.faults.rate_limited -= 1
                    headers["Retry-After"] = str(self.faults.retry_after)
                    raise ApiError(429, "TooManyRequests", "Too many requests; slow down")
                unknown = set(query) - QUERY_PARAMETERS
                if unknown:
                    raise ApiError(400, "InvalidParameter", f"Unknown query parameter {sorted(unknown)[0]}")
                status, payload, more = self._route(method, path, query, body)
                headers.update(more)
        except ApiError as error:
            status = error.status
            payload = {"code": error.code, "message": error.message, "errors": error.errors or None}
        self.requests.append(Recorded(method, path, query, body, status))
        if method == "POST" and status == 201 and self.faults.slow_create:
            time.sleep(self.faults.slow_create)  # stored, but the answer comes too late
        data = b"" if payload is None else json.dumps(payload, default=_plain).encode()
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

    def _authorise(self, handler: BaseHTTPRequestHandler) -> None:
        expected = base64.b64encode(f"{self.company}+{self.public_key}:{self.private_key}".encode()).decode()
        if handler.headers.get("Authorization") != f"Basic {expected}":
            raise ApiError(401, "Unauthorized", "The API member's keys are not valid")
        if handler.headers.get("clientId") != self.client_id:
            raise ApiError(400, "InvalidClientId", "A valid clientId header is required")

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any, dict[str, str]]:
        parts = path.strip("/").split("/")
        tables = {
            ("company", "companies"): self.companies,
            ("finance", "agreements"): self.agreements,
            ("system", "members"): self.members,
            ("service", "tickets"): self.tickets,
            ("time", "workTypes"): self.work_types,
            ("time", "entries"): self.time_entries,
        }
        if parts == ["system", "info"] and method == "GET":
            return 200, {"version": "v2025.1.12345", "isCloud": True, "serverTimeZone": "Eastern Standard Time"}, {}
        if len(parts) == 4 and parts[:2] == ["finance", "agreements"] and parts[3] == "additions" and method == "GET":
            agreement_id = _id(parts[2])
            if agreement_id not in self.agreements:
                raise ApiError(404, "NotFound", f"Agreement {agreement_id} not found")
            return self._page(self.additions.get(agreement_id, []), query, path)
        table = tables.get((parts[0], parts[1])) if len(parts) >= 2 else None
        if table is None:
            raise ApiError(404, "NotFound", f"No endpoint {method} {path}")
        if len(parts) == 2:
            if method == "GET":
                return self._page(list(table.values()), query, path)
            if method == "POST" and parts == ["time", "entries"]:
                return 201, self._create_time(body), {}
            raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed on {path}")
        record_id = _id(parts[2])
        if len(parts) != 3 or record_id not in table:
            raise ApiError(404, "NotFound", f"{parts[1]} {parts[2]} not found")
        if method == "GET":
            return 200, table[record_id], {}
        if parts[:2] != ["time", "entries"]:
            raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed on {path}")
        if self.time_entries[record_id].get("status") in ("Billed", "BilledAgreement") and method in (
            "DELETE",
            "PATCH",
        ):
            raise ApiError(
                400,
                "InvalidObject",
                "TimeEntry object is invalid",
                [{"code": "InvalidField", "message": "A billed time entry cannot be changed", "field": "status"}],
            )
        if method == "DELETE":
            del self.time_entries[record_id]
            return 204, None, {}
        if method == "PATCH":
            return 200, self._patch_time(record_id, body), {}
        raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed here")

    def _page(self, rows: list[dict[str, Any]], query: dict[str, str], path: str) -> tuple[int, Any, dict[str, str]]:
        conditions = query.get("conditions")
        if conditions:
            rows = [row for row in rows if _matches(row, conditions)]
        try:
            page, size = int(query.get("page", "1")), int(query.get("pageSize", "25"))
        except ValueError:
            raise ApiError(400, "InvalidParameter", "page and pageSize are whole numbers") from None
        if page < 1 or not 1 <= size <= 1000:
            raise ApiError(400, "InvalidParameter", "pageSize must be between 1 and 1000")
        rows = sorted(rows, key=lambda r: r["id"])
        chunk = rows[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(rows):
            following = urlencode({**query, "page": page + 1, "pageSize": size})
            headers["Link"] = f'<{self.url}/{path}?{following}>; rel="next"'
        fields = query.get("fields")
        if fields:
            wanted = fields.split(",")
            chunk = [{k: v for k, v in row.items() if k in wanted} for row in chunk]
        return 200, chunk, headers

    # -- time entries ---------------------------------------------------------------------------

    def _validate(self, record: dict[str, Any]) -> None:
        from pydantic import ValidationError

        try:
            _strict_time_entry().model_validate(json.loads(json.dumps(record, default=_plain)))
        except ValidationError as error:
            raise ApiError(
                400,
                "InvalidObject",
                "TimeEntry object is invalid",
                [
                    {
                        "code": "InvalidField" if e["type"] != "missing" else "NullValue",
                        "message": e["msg"],
                        "resource": "TimeEntry",
                        "field": ".".join(str(p) for p in e["loc"]),
                    }
                    for e in error.errors()
                ],
            ) from None
        problems = []
        company = (record.get("company") or {}).get("id")
        if company not in self.companies:
            problems.append(("company", f"Company {company} was not found"))
        member = (record.get("member") or {}).get("id")
        if member not in self.members:
            problems.append(("member", f"Member {member} was not found"))
        agreement = (record.get("agreement") or {}).get("id")
        if agreement is not None:
            found = self.agreements.get(agreement)
            if found is None:
                problems.append(("agreement", f"Agreement {agreement} was not found"))
            elif found["company"]["id"] != company:
                problems.append(("agreement", f"Agreement {agreement} is not an agreement of company {company}"))
        if record.get("chargeToType") == "ServiceTicket":
            ticket = self.tickets.get(record.get("chargeToId"))
            if ticket is None:
                problems.append(("chargeToId", f"Service ticket {record.get('chargeToId')} was not found"))
            elif ticket["company"]["id"] != company:
                problems.append(("chargeToId", f"Ticket {ticket['id']} belongs to another company"))
        work_type = (record.get("workType") or {}).get("id")
        if work_type is not None and work_type not in self.work_types:
            problems.append(("workType", f"Work type {work_type} was not found"))
        start, end = _moment(record.get("timeStart")), _moment(record.get("timeEnd"))
        if end is not None and end <= start:
            problems.append(("timeEnd", "timeEnd must be after timeStart"))
        if problems:
            raise ApiError(
                400,
                "InvalidObject",
                "TimeEntry object is invalid",
                [{"code": "InvalidField", "message": m, "resource": "TimeEntry", "field": f} for f, m in problems],
            )

    def _create_time(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidObject", "A time entry is a JSON object")
        if "id" in body:
            raise ApiError(400, "InvalidObject", "id is assigned by ConnectWise")
        self._validate(body)
        record = self._complete({**body, "id": next(self._ids)})
        self.time_entries[record["id"]] = record
        return record

    def _patch_time(self, record_id: int, operations: Any) -> dict[str, Any]:
        if not isinstance(operations, list) or not operations:
            raise ApiError(400, "InvalidObject", "A PATCH body is a list of operations")
        record = dict(self.time_entries[record_id])
        allowed = _schema_fields() - {"id", "_info"}
        for op in operations:
            if not isinstance(op, dict) or set(op) - {"op", "path", "value"}:
                raise ApiError(400, "InvalidObject", "An operation has op, path and value")
            name = str(op.get("path", "")).strip("/")
            if op.get("op") not in ("replace", "add", "remove"):
                raise ApiError(400, "InvalidObject", f"Unknown operation {op.get('op')!r}")
            if name not in allowed:
                raise ApiError(400, "InvalidObject", f"{name!r} is not a field of a time entry")
            if op["op"] == "remove":
                record.pop(name, None)
            else:
                record[name] = op.get("value")
        check = {k: v for k, v in record.items() if k not in ("id", "_info")}
        self._validate(check)
        record = self._complete(record)
        self.time_entries[record_id] = record
        return record

    def _complete(self, record: dict[str, Any]) -> dict[str, Any]:
        """What ConnectWise adds to a stored entry: the member's identifier, hours from the times."""
        member = self.members[record["member"]["id"]]
        record["member"] = {"id": member["id"], "identifier": member["identifier"]}
        start, end = _moment(record["timeStart"]), _moment(record.get("timeEnd"))
        if end is not None and start is not None:
            record["actualHours"] = round(Decimal((end - start).total_seconds()) / 3600, 2)
        record["_info"] = {"lastUpdated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        return record


def _id(text: str) -> int:
    if not text.isdigit():
        raise ApiError(400, "InvalidParameter", f"{text!r} is not an id")
    return int(text)


def _moment(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(type(value))


def _matches(row: dict[str, Any], conditions: str) -> bool:
    """ConnectWise's conditions: clauses joined by ``and`` / ``or`` (``and`` binds tighter)."""
    return any(
        all(_clause(row, clause) for clause in re.split(r"\s+and\s+", group, flags=re.IGNORECASE))
        for group in re.split(r"\s+or\s+", conditions, flags=re.IGNORECASE)
    )


def _clause(row: dict[str, Any], clause: str) -> bool:
    found = CLAUSE.match(clause)
    if found is None:
        raise ApiError(400, "InvalidCondition", f"Cannot read the condition {clause!r}")
    name, op, raw = found.group(1), found.group(2).strip().lower(), found.group(3)
    value: Any = row
    for part in name.split("/"):
        value = value.get(part) if isinstance(value, dict) else None
    if raw.startswith('"') and raw.endswith('"'):
        wanted: Any = raw[1:-1]
    elif raw.startswith("[") and raw.endswith("]"):
        wanted = _moment(raw[1:-1])
        value = _moment(value)
    elif raw.lstrip("-").replace(".", "", 1).isdigit():
        wanted = Decimal(raw)
        value = Decimal(str(value)) if value is not None else None
    elif raw.lower() in ("true", "false", "null"):
        wanted = {"true": True, "false": False, "null": None}[raw.lower()]
    else:
        raise ApiError(400, "InvalidCondition", f"Cannot read the value {raw!r}: quote text, bracket dates")
    if op == "like":
        pattern = "^" + ".*".join(re.escape(part) for part in str(wanted).split("%")) + "$"
        return value is not None and re.match(pattern, str(value), re.IGNORECASE) is not None
    if op == "contains":
        return value is not None and str(wanted).lower() in str(value).lower()
    if value is None:
        return op == "=" and wanted is None or op == "!=" and wanted is not None
    compare = {
        "=": lambda a, b: a == b,
        "!=": lambda a, b: a != b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
    }[op]
    return bool(compare(value, wanted))
