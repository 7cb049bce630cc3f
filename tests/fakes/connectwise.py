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
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import urlencode

from tests.fakes.psa_base import Answer, FakeServer, Incoming, Record, Recorded, minutes_of, plain

PREFIX = "/v4_6_release/apis/3.0/"
QUERY_PARAMETERS = {"conditions", "page", "pageSize", "fields", "orderBy", "childConditions", "customFieldConditions"}
CLAUSE = re.compile(r"^\s*([A-Za-z_][\w/]*)\s*(!=|<=|>=|=|<|>|\s+like\s+|\s+contains\s+)\s*(.+?)\s*$", re.IGNORECASE)


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


def _strict(kind: str) -> Any:
    """ConnectWise's ``Activity``, ``Ticket`` or agreement ``Addition`` schema, refusing fields it does not have."""
    if kind not in _STRICT:
        import warnings

        from pydantic import ConfigDict

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from pyconnectwise.models import manage

            class Strict(getattr(manage, kind)):  # type: ignore[misc]
                model_config = ConfigDict(extra="forbid")

        _STRICT[kind] = Strict
    return _STRICT[kind]


def _strict_addition() -> Any:
    """ConnectWise's agreement ``Addition`` schema (a block sold in blocktime, issue 26)."""
    return _strict("Addition")


def _schema_fields() -> set[str]:
    model = _strict_time_entry()
    return {f.alias or name for name, f in model.model_fields.items()}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors or []


@dataclass
class FakeConnectWise(FakeServer):
    label: ClassVar[str] = "ConnectWise PSA"  # as blocktime names it
    vendor: ClassVar[str] = "ConnectWise"  # as its errors begin
    page_size: ClassVar[int] = 1000  # records read back per page
    prefix: ClassVar[str] = PREFIX
    name: str = "connectwise"
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
    products: dict[int, dict[str, Any]] = field(default_factory=dict)  # the product catalog (additions)
    keeps_mobile_guid: bool = True  # False: a ConnectWise that drops mobileGuid from what it stores
    activities: dict[int, dict[str, Any]] = field(default_factory=dict)  # sales activities (follow-ups)
    boards: dict[int, dict[str, Any]] = field(default_factory=dict)  # service boards

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
            self.activities,
            self.boards,
            self.products,
        ):
            table.clear()
        self.keeps_mobile_guid = True
        self.reset_requests()
        return self

    def start(self) -> FakeConnectWise:
        _strict_time_entry()  # the schemas load once, before the first request
        _strict("Activity")
        _strict("Ticket")
        _strict_addition()
        super().start()
        return self

    def settings_values(self) -> dict[str, Any]:
        return {
            "psa": "connectwise",
            "connectwise_url": self.url,
            "connectwise_company": self.company,
            "connectwise_public_key": self.public_key,
            "connectwise_private_key": self.private_key,
            "connectwise_client_id": self.client_id,
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

    def add_member(
        self,
        member_id: int,
        identifier: str,
        email: str,
        first: str = "",
        last: str = "",
        mobile_email: str | None = None,
        default: str = "Office",
    ) -> None:
        """A member with an office e-mail (and a mobile one); as in ConnectWise, ``primaryEmail`` is
        the one their ``defaultEmail`` names."""
        emails = {"Office": email, "Mobile": mobile_email}
        self.members[member_id] = {
            "id": member_id,
            "identifier": identifier,
            "firstName": first or identifier,
            "lastName": last,
            "officeEmail": email,
            "mobileEmail": mobile_email,
            "defaultEmail": default,
            "primaryEmail": emails[default],
            "inactiveFlag": False,
        }

    def add_ticket(self, ticket_id: int, company_id: int, summary: str = "a ticket") -> None:
        self.tickets[ticket_id] = {"id": ticket_id, "summary": summary, "company": {"id": company_id}}

    def calls(self, method: str, path_start: str = "time/entries") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_start)]

    # -- what every PSA's fake offers the shared tests ------------------------------------------

    def seed(self) -> FakeConnectWise:
        """One MSP's records: Acme Corp (company 250) with its block-time agreement 30 (20 prepaid
        hours a contract year, billed yearly) and ticket 1234; Globex (300) with agreement 40 and ticket 4321; Acme Logistics (251);
        members 17 (Tess, tess@msp.example) and 18 (Max); work type 5."""
        self.reset()
        self.add_company(250, "Acme Corp", "AcmeCorp")
        self.add_company(251, "Acme Logistics", "AcmeLog")
        self.add_company(300, "Globex", "Globex")
        self.add_agreement(
            30,
            250,
            "Acme block time",
            applicationUnits="Hours",
            applicationLimit=20,
            applicationCycle="ContractYear",
            billingCycle={"id": 4, "name": "Yearly"},
            startDate="2026-11-01T00:00:00Z",
            endDate="2027-10-31T00:00:00Z",
            billAmount=2000,
        )
        self.add_agreement(40, 300, "Globex block time")
        self.add_member(17, "tess", "tess@msp.example", "Tess", "Tech")
        self.add_member(18, "max", "max@msp.example", "Max", "Manager")
        self.add_ticket(1234, 250, "Laptop will not boot")
        self.add_ticket(4321, 300, "Globex printer")
        self.add_ticket(5000, 250, "Acme: general")
        self.add_ticket(6000, 300, "Globex: general")
        self.work_types[5] = {"id": 5, "name": "Onsite"}
        self.boards[7] = {"id": 7, "name": "Account Management"}
        self.products[12] = {"id": 12, "identifier": "BLOCK-HOURS", "description": "Prepaid hours", "uom": "Hour"}
        return self

    def blocks_written(self) -> list[dict[str, Any]]:
        """The additions blocktime wrote (they carry its reference), in the shared tests' words."""
        return [
            {
                "psa_id": f"addition:{a['id']}",
                "hours": Decimal(str(a["quantity"])),
                "reference": a["serialNumber"],
                "cancelled": bool(a.get("cancelledDate")),
            }
            for rows in self.additions.values()
            for a in rows
            if str(a.get("serialNumber") or "").startswith("blocktime:")
        ]

    def refuse_blocks(self) -> str:
        """The product blocks are sold as is gone from the catalog: ConnectWise refuses the addition."""
        self.products.pop(12, None)
        return "Product 12 was not found"

    def records(self) -> list[Record]:
        return [
            Record(
                id=row["id"],
                company=row["company"]["id"],
                agreement=(row.get("agreement") or {}).get("id"),
                member=row["member"]["id"],
                ticket=row.get("chargeToId") if row.get("chargeToType") == "ServiceTicket" else None,
                work_type=(row.get("workType") or {}).get("id"),
                start=row["timeStart"],
                end=row.get("timeEnd"),
                minutes=minutes_of(row.get("actualHours") or 0),
                billable=row.get("billableOption") == "Billable",
                notes=row.get("notes") or "",
                reference=row.get("mobileGuid") or _reference(row.get("internalNotes")),
            )
            for row in sorted(self.time_entries.values(), key=lambda r: r["id"])
        ]

    def count(self, operation: str) -> int:
        """How many creates, updates or deletes of time records were answered."""
        method = {"create": "POST", "update": "PATCH", "delete": "DELETE"}[operation]
        return len(self.calls(method))

    def tamper(self, record_id: int, minutes: int) -> None:
        self.time_entries[record_id]["actualHours"] = Decimal(minutes) / 60

    def remove(self, record_id: int) -> None:
        del self.time_entries[record_id]

    def plant(self, like: int, record_id: int, notes: str) -> None:
        """A record typed in the PSA by hand, like ``like`` but not ours."""
        self.time_entries[record_id] = dict(
            self.time_entries[like], id=record_id, mobileGuid=None, internalNotes=None, notes=notes
        )

    def bill(self, record_id: int) -> None:
        self.time_entries[record_id]["status"] = "Billed"

    def fill(self, count: int, agreement: int, member: int) -> None:
        """``count`` records on ``agreement`` in November 2026 (to read back page by page)."""
        template = {
            "company": {"id": self.agreements[agreement]["company"]["id"]},
            "agreement": {"id": agreement},
            "member": {"id": member, "identifier": self.members[member]["identifier"]},
            "timeStart": "2026-11-10T09:00:00Z",
            "actualHours": Decimal("0.25"),
        }
        for number in range(1, count + 1):
            self.time_entries[number] = dict(template, id=number)

    def time_calls(self) -> list[Recorded]:
        """The requests that touched time records."""
        return [r for r in self.requests if r.path.startswith("time/entries")]

    # -- requests ----------------------------------------------------------------------------------

    def _answer(self, request: Incoming) -> tuple[int, Any, dict[str, str]]:
        try:
            if not request.path.startswith(PREFIX):
                raise ApiError(404, "NotFound", f"{request.path} is not an API path")
            body = self.json_body(request, lambda words: _error_body(400, "InvalidObject", words))
            unknown = set(request.query) - QUERY_PARAMETERS
            if unknown:
                raise ApiError(400, "InvalidParameter", f"Unknown query parameter {sorted(unknown)[0]}")
            return self._route(request.method, self._short(request.path), request.query, body)
        except ApiError as error:
            raise Answer(error.status, _error_body(error.status, error.code, error.message, error.errors)) from None

    def _down(self) -> Answer:
        return Answer(503, _error_body(503, "ServiceUnavailable", "ConnectWise is down for maintenance"))

    def _limited(self) -> Answer:
        return Answer(429, _error_body(429, "TooManyRequests", "Too many requests; slow down"))

    def _is_create(self, method: str, path: str, status: int) -> bool:
        return method == "POST" and status == 201  # a time entry, an activity or a ticket
        return method == "POST" and status == 201  # a time entry or an agreement addition

    def _authorise(self, request: Incoming) -> None:
        expected = base64.b64encode(f"{self.company}+{self.public_key}:{self.private_key}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            raise Answer(401, _error_body(401, "Unauthorized", "The API member's keys are not valid"))
        if request.headers.get("clientId") != self.client_id:
            raise Answer(400, _error_body(400, "InvalidClientId", "A valid clientId header is required"))

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> tuple[int, Any, dict[str, str]]:
        parts = path.strip("/").split("/")
        tables = {
            ("company", "companies"): self.companies,
            ("finance", "agreements"): self.agreements,
            ("system", "members"): self.members,
            ("service", "tickets"): self.tickets,
            ("time", "workTypes"): self.work_types,
            ("time", "entries"): self.time_entries,
            ("sales", "activities"): self.activities,
            ("service", "boards"): self.boards,
        }
        if parts == ["system", "info"] and method == "GET":
            return 200, {"version": "v2025.1.12345", "isCloud": True, "serverTimeZone": "Eastern Standard Time"}, {}
        if len(parts) in (4, 5) and parts[:2] == ["finance", "agreements"] and parts[3] == "additions":
            return self._additions(method, parts, query, body, path)
        table = tables.get((parts[0], parts[1])) if len(parts) >= 2 else None
        if table is None:
            raise ApiError(404, "NotFound", f"No endpoint {method} {path}")
        if len(parts) == 2:
            if method == "GET":
                return self._page(list(table.values()), query, path)
            if method == "POST" and parts == ["time", "entries"]:
                return 201, self._create_time(body), {}
            if method == "POST" and parts in (["sales", "activities"], ["service", "tickets"]):
                return 201, self._create_followup(parts[1], body), {}
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

    # -- agreement additions (blocks) -----------------------------------------------------------

    def _additions(
        self, method: str, parts: list[str], query: dict[str, str], body: Any, path: str
    ) -> tuple[int, Any, dict[str, str]]:
        agreement_id = _id(parts[2])
        if agreement_id not in self.agreements:
            raise ApiError(404, "NotFound", f"Agreement {agreement_id} not found")
        rows = self.additions.setdefault(agreement_id, [])
        if len(parts) == 4:
            if method == "GET":
                return self._page(rows, query, path)
            if method == "POST":
                return 201, self._create_addition(agreement_id, body), {}
            raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed on {path}")
        record_id = _id(parts[4])
        found = next((a for a in rows if a["id"] == record_id), None)
        if found is None:
            raise ApiError(404, "NotFound", f"Addition {record_id} not found")
        if method == "GET":
            return 200, found, {}
        if method != "PATCH":
            raise ApiError(405, "MethodNotAllowed", f"{method} is not allowed on {path}")
        changed = dict(found)
        for op in body if isinstance(body, list) else [None]:
            if not isinstance(op, dict) or op.get("op") != "replace" or set(op) - {"op", "path", "value"}:
                raise ApiError(400, "InvalidObject", "A PATCH body is a list of operations")
            changed[str(op.get("path", "")).strip("/")] = op.get("value")
        self._validate_addition({k: v for k, v in changed.items() if k not in ("id", "_info", "agreementId")})
        found.update(changed)
        return 200, found, {}

    def _validate_addition(self, record: dict[str, Any]) -> None:
        """As ConnectWise checks an addition: its schema, then a product of the catalog, a quantity."""
        from pydantic import ValidationError

        def refused(problems: list[tuple[str, str, str]]) -> ApiError:
            return ApiError(
                400,
                "InvalidObject",
                "Addition object is invalid",
                [{"code": c, "message": m, "resource": "Addition", "field": f} for c, f, m in problems],
            )

        try:
            _strict_addition().model_validate(json.loads(json.dumps(record, default=plain)))
        except ValidationError as error:
            raise refused(
                [
                    ("NullValue" if e["type"] == "missing" else "InvalidField", ".".join(map(str, e["loc"])), e["msg"])
                    for e in error.errors()
                ]
            ) from None
        problems = []
        product = (record.get("product") or {}).get("id")
        if product is None:
            problems.append(("NullValue", "product", "Product is required"))
        elif product not in self.products:
            problems.append(("InvalidField", "product", f"Product {product} was not found"))
        if record.get("quantity") is not None and Decimal(str(record["quantity"])) <= 0:
            problems.append(("InvalidField", "quantity", "Quantity must be greater than zero"))
        serial = record.get("serialNumber")
        if serial is not None and len(str(serial)) > 50:
            problems.append(("InvalidField", "serialNumber", "serialNumber cannot be longer than 50 characters"))
        if problems:
            raise refused(problems)

    def _create_addition(self, agreement_id: int, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidObject", "An addition is a JSON object")
        if "id" in body:
            raise ApiError(400, "InvalidObject", "id is assigned by ConnectWise")
        self._validate_addition(body)
        product = self.products[body["product"]["id"]]
        record = {
            **body,
            "id": self.next_id(),
            "agreementId": agreement_id,
            "product": {"id": product["id"], "identifier": product["identifier"]},
            "uom": product["uom"],
            "agreementStatus": "Active",
        }
        self.additions[agreement_id].append(record)
        return record

    # -- time entries ---------------------------------------------------------------------------

    def _validate(self, record: dict[str, Any]) -> None:
        from pydantic import ValidationError

        try:
            _strict_time_entry().model_validate(json.loads(json.dumps(record, default=plain)))
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

    # -- follow-ups: sales activities and service tickets -----------------------------------------

    def _create_followup(self, table: str, body: Any) -> dict[str, Any]:
        """``POST /sales/activities`` or ``POST /service/tickets``: the body checked against the
        ``Activity`` or ``Ticket`` schema (unknown fields refused), then ConnectWise's rules: an
        activity's name and a ticket's summary hold 100 characters; an activity is assigned to a
        member; a ticket is on a board that exists; the company exists."""
        kind, text_field = ("Activity", "name") if table == "activities" else ("Ticket", "summary")
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidObject", f"{kind} is a JSON object")
        if "id" in body:
            raise ApiError(400, "InvalidObject", "id is assigned by ConnectWise")
        self._schema_check(kind, body)
        problems: list[tuple[str, str, str]] = []
        if len(str(body.get(text_field) or "")) > 100:
            problems.append(("InvalidField", text_field, f"{text_field} may not be more than 100 characters"))
        company = (body.get("company") or {}).get("id")
        if company not in self.companies:
            problems.append(("InvalidField", "company", f"Company {company} was not found"))
        if kind == "Activity":
            member = (body.get("assignTo") or {}).get("id")
            if body.get("assignTo") is None:
                problems.append(("NullValue", "assignTo", "The assignTo field is required."))
            elif member not in self.members:
                problems.append(("InvalidField", "assignTo", f"Member {member} was not found"))
        else:
            board = body.get("board")
            if board is None:
                problems.append(("NullValue", "board", "The board field is required."))
            elif not any(b["id"] == board.get("id") or b["name"] == board.get("name") for b in self.boards.values()):
                problems.append(
                    ("InvalidField", "board", f"Board {board.get('id') or board.get('name')} was not found")
                )
        if problems:
            raise ApiError(
                400,
                "InvalidObject",
                f"{kind} object is invalid",
                [{"code": c, "message": m, "resource": kind, "field": f} for c, f, m in problems],
            )
        record = {**body, "id": self.next_id(), "_info": {}}
        (self.activities if kind == "Activity" else self.tickets)[record["id"]] = record
        return record

    def _schema_check(self, kind: str, body: dict[str, Any]) -> None:
        from pydantic import ValidationError

        try:
            _strict(kind).model_validate(json.loads(json.dumps(body, default=plain)))
        except ValidationError as error:
            raise ApiError(
                400,
                "InvalidObject",
                f"{kind} object is invalid",
                [
                    {
                        "code": "InvalidField" if e["type"] != "missing" else "NullValue",
                        "message": e["msg"],
                        "resource": kind,
                        "field": ".".join(str(p) for p in e["loc"]),
                    }
                    for e in error.errors()
                ],
            ) from None

    def _create_time(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "InvalidObject", "A time entry is a JSON object")
        if "id" in body:
            raise ApiError(400, "InvalidObject", "id is assigned by ConnectWise")
        self._validate(body)
        record = self._complete({**body, "id": self.next_id()})
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
        if not self.keeps_mobile_guid:
            record.pop("mobileGuid", None)
        record["_info"] = {"lastUpdated": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
        return record


def _reference(notes: Any) -> str | None:
    words = [w for w in str(notes or "").split() if w.startswith("blocktime:")]
    return words[0][len("blocktime:") :] if words else None


def _id(text: str) -> int:
    if not text.isdigit():
        raise ApiError(400, "InvalidParameter", f"{text!r} is not an id")
    return int(text)


def _moment(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _error_body(status: int, code: str, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "errors": errors or None}


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
