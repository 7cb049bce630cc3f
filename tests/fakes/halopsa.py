"""A local HaloPSA API, written from HaloPSA's published API reference (its swagger, and the HaloAPI
module's templates of its models).

It checks every request as Halo does and records it:
- sign-in: ``POST /auth/token`` with a form (``grant_type=client_credentials``, ``client_id``,
  ``client_secret``, ``scope``; ``?tenant=`` on hosted instances) answers a bearer token that
  expires; every ``/api`` call needs a token it issued (401 otherwise; :meth:`revoke` drops them);
- query parameters each endpoint takes (unknown ones refused), paging of tickets with ``pageinate``,
  ``page_size`` and ``page_no`` and a ``record_count``;
- ``POST /api/Actions`` takes a list of actions; each field must be a field of Halo's Action model
  (``halopsa_action_fields.json``), and Halo's rules hold: the ticket and agent exist, the contract is
  the ticket's client's, the charge rate exists, the completion is after the arrival; an action with
  ``id`` updates that action; an invoiced action is not changed or deleted;
- errors come as Halo's: a JSON string saying what is wrong; 429 carries ``Retry-After``."""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs

from tests.fakes.psa_base import Answer, FakeServer, Incoming, Record, Recorded, minutes_of

ACTION_FIELDS = frozenset(json.loads((Path(__file__).parent / "halopsa_action_fields.json").read_text())["fields"])
PARAMETERS = {
    "Agent": {"includeenabled", "includedisabled", "search"},
    "Client": {"search", "count", "includeinactive"},
    "ClientContract": {"client_id", "search", "count"},
    "Lookup": {"lookupid"},
    "Actions": {"ticket_id", "excludesys", "count", "agentonly"},
    "Tickets": {
        "client_id",
        "contract_id",
        "datesearch",
        "startdate",
        "enddate",
        "pageinate",
        "page_size",
        "page_no",
        "search",
    },
    "ClientPrepay": {"client_id", "search", "count"},
}
TICKET_FIELDS = frozenset(  # a part of Halo's ticket (Faults) model: what a new ticket may say
    {
        "summary",
        "details",
        "client_id",
        "site_id",
        "user_id",
        "agent_id",
        "team",
        "tickettype_id",
        "priority_id",
        "status_id",
        "category_1",
        "third_party_id",
        "dateoccurred",
    }
)
LOOKUP_TYPES, CHARGE_RATES = 11, 17
LOOKUPS = {  # a few of Halo's lookup types (lookup 11 lists them)
    1: {"id": 1, "name": "Ticket Types"},
    CHARGE_RATES: {"id": CHARGE_RATES, "name": "Charge Rates"},
    41: {"id": 41, "name": "Asset Status"},
}


@dataclass
class FakeHalo(FakeServer):
    label: ClassVar[str] = "HaloPSA"  # as blocktime names it
    vendor: ClassVar[str] = "HaloPSA"  # as its errors begin
    page_size: ClassVar[int] = 100  # records read back per page
    prefix: ClassVar[str] = "/api/"
    name: str = "halopsa"
    client_id: str = "halo-client-id"
    client_secret: str = "halo-secret"
    tenant: str = "msp"
    token_lifetime: int = 3600
    upsert: bool = False  # a Halo that saves an action posted with an unknown id as a new one
    clients: dict[int, dict[str, Any]] = field(default_factory=dict)
    contracts: dict[int, dict[str, Any]] = field(default_factory=dict)
    agents: dict[int, dict[str, Any]] = field(default_factory=dict)
    tickets: dict[int, dict[str, Any]] = field(default_factory=dict)
    charge_rates: dict[int, dict[str, Any]] = field(default_factory=dict)
    actions: dict[int, dict[str, Any]] = field(default_factory=dict)
    prepays: dict[int, dict[str, Any]] = field(default_factory=dict)  # the clients' pre-pay records

    def __post_init__(self) -> None:
        super().__post_init__()
        self.tokens: dict[str, float] = {}

    def reset(self) -> FakeHalo:
        for table in (
            self.clients,
            self.contracts,
            self.agents,
            self.tickets,
            self.charge_rates,
            self.actions,
            self.prepays,
        ):
            table.clear()
        self.tokens.clear()
        self.reset_requests()
        self.upsert = False
        return self

    @property
    def url(self) -> str:
        """The instance, as HALOPSA_URL names it: the API is at /api, the sign-in at /auth."""
        return self.origin

    def settings_values(self) -> dict[str, Any]:
        return {
            "psa": "halopsa",
            "halopsa_url": self.url,
            "halopsa_tenant": self.tenant,
            "halopsa_client_id": self.client_id,
            "halopsa_client_secret": self.client_secret,
        }

    def revoke(self) -> None:
        """Every token issued so far stops working (Halo restarted, or the secret was rolled)."""
        self.tokens.clear()

    # -- what every PSA's fake offers the shared tests ------------------------------------------

    def seed(self) -> FakeHalo:
        self.reset()
        for client_id, name in ((250, "Acme Corp"), (251, "Acme Logistics"), (300, "Globex")):
            self.clients[client_id] = {"id": client_id, "name": name, "inactive": False}
        self.contracts[30] = {
            "id": 30,
            "client_id": 250,
            "client_name": "Acme Corp",
            "ref": "Acme block time",
            "start_date": "2026-11-01T00:00:00",
            "end_date": "2027-10-31T00:00:00",
            "started": True,
            "expired": False,
            "chargehoursperperiod": 20,
            "periodchargeamount": 2000,
        }
        self.contracts[40] = {"id": 40, "client_id": 300, "ref": "Globex block time", "started": True, "expired": False}
        self.agents[17] = {"id": 17, "name": "Tess Tech", "email": "tess@msp.example", "isdisabled": False}
        self.agents[18] = {"id": 18, "name": "Max Manager", "email": "Max@msp.example", "isdisabled": False}
        for ticket_id, client_id, summary in (
            (1234, 250, "Laptop will not boot"),
            (4321, 300, "Globex printer"),
            (5000, 250, "Acme: general"),
            (6000, 300, "Globex: general"),
        ):
            self.tickets[ticket_id] = {"id": ticket_id, "client_id": client_id, "summary": summary}
        self.charge_rates[5] = {"id": 5, "name": "Onsite"}
        return self

    def records(self) -> list[Record]:
        return [
            Record(
                id=row["id"],
                company=self.tickets[row["ticket_id"]]["client_id"],
                agreement=row.get("actioncontractid"),
                member=row["who_agentid"],
                ticket=row["ticket_id"],
                work_type=row.get("chargerate"),
                start=row["actionarrivaldate"],
                end=row.get("actioncompletiondate"),
                minutes=minutes_of(row.get("timetaken") or 0),
                billable=bool(row.get("actisbillable")),
                notes=row.get("note") or "",
                reference=row.get("actionuserdefineddata"),
            )
            for row in sorted(self.actions.values(), key=lambda r: r["id"])
        ]

    def count(self, operation: str) -> int:
        posts = [r for r in self.requests if r.method == "POST" and r.path == "Actions" and r.status < 300]
        if operation == "delete":
            return len([r for r in self.requests if r.method == "DELETE" and r.status < 300])
        updates = [r for r in posts if isinstance(r.body, list) and r.body and "id" in r.body[0]]
        return len(updates) if operation == "update" else len(posts) - len(updates)

    def tamper(self, record_id: int, minutes: int) -> None:
        self.actions[record_id]["timetaken"] = Decimal(minutes) / 60

    def remove(self, record_id: int) -> None:
        del self.actions[record_id]

    def plant(self, like: int, record_id: int, notes: str) -> None:
        self.actions[record_id] = dict(self.actions[like], id=record_id, actionuserdefineddata="", note=notes)

    def bill(self, record_id: int) -> None:
        self.actions[record_id]["actioninvoicenumber"] = "INV-1001"

    def fill(self, count: int, agreement: int, member: int) -> None:
        """``count`` actions on ``agreement``, over as many tickets (so reading them back pages)."""
        client = self.contracts[agreement]["client_id"]
        for number in range(1, count + 1):
            ticket = 100000 + number
            self.tickets[ticket] = {"id": ticket, "client_id": client, "summary": f"ticket {number}"}
            self.actions[number] = {
                "id": number,
                "ticket_id": ticket,
                "who_agentid": member,
                "actioncontractid": agreement,
                "actionarrivaldate": "2026-11-10T09:00:00Z",
                "timetaken": Decimal("0.25"),
                "actisbillable": True,
            }

    def time_calls(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith("Actions")]

    # -- requests ----------------------------------------------------------------------------------

    def _down(self) -> Answer:
        return Answer(503, "The service is unavailable")

    def _limited(self) -> Answer:
        return Answer(429, "Too many requests")

    def _is_create(self, method: str, path: str, status: int) -> bool:
        return method == "POST" and path in ("/api/Actions", "/api/Tickets", "/api/ClientPrepay") and status == 201

    def _authorise(self, request: Incoming) -> None:
        if request.path == "/auth/token":
            return
        header = request.headers.get("Authorization") or ""
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
        if self.tokens.get(token, 0) < time.monotonic():
            raise Answer(401, None)

    def _answer(self, request: Incoming) -> tuple[int, Any, dict[str, str]]:
        if request.path == "/auth/token":
            return self._token(request)
        if not request.path.startswith("/api/"):
            raise Answer(404, f"{request.path} is not an API path")
        parts = self._short(request.path).strip("/").split("/")
        allowed = PARAMETERS.get(parts[0], set())
        unknown = set(request.query) - allowed
        if unknown:
            raise Answer(400, f"The parameter {sorted(unknown)[0]} is not recognised")
        body = self.json_body(request, lambda words: words)
        method = request.method
        if parts == ["Agent", "me"] and method == "GET":
            return 200, {"id": 1, "name": "blocktime API application", "is_agent": True}, {}
        if parts[0] == "Actions":
            return self._actions(method, parts, request.query, body)
        if parts == ["Tickets"] and method == "POST":
            return self._new_tickets(body)
        if parts[0] == "ClientPrepay":
            return self._prepay(method, parts, request.query, body)
        tables = {
            "Client": (self.clients, "clients"),
            "ClientContract": (self.contracts, "contracts"),
            "Agent": (self.agents, None),
            "Tickets": (self.tickets, "tickets"),
        }
        if parts == ["Lookup"] and method == "GET":
            lookups = {LOOKUP_TYPES: list(LOOKUPS.values()), CHARGE_RATES: list(self.charge_rates.values())}
            return 200, lookups.get(int(request.query.get("lookupid") or 0), []), {}
        if parts[0] not in tables or method != "GET" or len(parts) > 2:
            raise Answer(404, f"No endpoint {method} {request.path}")
        table, key = tables[parts[0]]
        if len(parts) == 2:
            record = table.get(_id(parts[1]))
            if record is None:
                raise Answer(404, f"{parts[0]} {parts[1]} not found")
            return 200, record, {}
        rows = sorted(table.values(), key=lambda r: r["id"])
        rows = self._filtered(parts[0], rows, request.query)
        if key is None:
            return 200, rows, {}
        if parts[0] == "Tickets" and request.query.get("pageinate") == "true":
            size, page = int(request.query.get("page_size", "50")), int(request.query.get("page_no", "1"))
            if not 1 <= size <= 1000 or page < 1:
                raise Answer(400, "page_size is between 1 and 1000; page_no starts at 1")
            chunk = rows[(page - 1) * size : page * size]
            return 200, {"page_no": page, "page_size": size, "record_count": len(rows), key: chunk}, {}
        count = int(request.query.get("count", "0") or 0)
        return 200, {"record_count": len(rows), key: rows[:count] if count else rows}, {}

    def _filtered(self, table: str, rows: list[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
        if "search" in query:
            text = query["search"].lower()
            if table == "Tickets":  # a ticket's summary and details
                rows = [r for r in rows if text in f"{r.get('summary') or ''} {r.get('details') or ''}".lower()]
            else:
                rows = [r for r in rows if text in str(r.get("name") or r.get("ref") or "").lower()]
        if "client_id" in query:
            rows = [r for r in rows if str(r.get("client_id")) == query["client_id"]]
        if table == "Tickets" and query.get("datesearch") == "lastactiondate" and "startdate" in query:
            since = _moment(query["startdate"])
            active = {
                a["ticket_id"]
                for a in self.actions.values()
                if _moment(a.get("actionarrivaldate") or a.get("datetime")) >= since
            }
            rows = [r for r in rows if r["id"] in active]
        return rows

    def _token(self, request: Incoming) -> tuple[int, Any, dict[str, str]]:
        if request.method != "POST":
            raise Answer(405, "Use POST")
        if "application/x-www-form-urlencoded" not in (request.headers.get("Content-Type") or ""):
            raise Answer(400, {"error": "invalid_request", "error_description": "A form body is required"})
        form = {k: v[-1] for k, v in parse_qs(request.raw.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            raise Answer(400, {"error": "unsupported_grant_type"})
        if self.tenant and request.query.get("tenant") != self.tenant:
            raise Answer(400, {"error": "invalid_request", "error_description": "Unknown tenant"})
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            raise Answer(401, {"error": "invalid_client", "error_description": "The client id or secret is wrong"})
        if form.get("scope") != "all":
            raise Answer(400, {"error": "invalid_scope"})
        token = secrets.token_hex(16)
        self.tokens[token] = time.monotonic() + self.token_lifetime
        return (
            200,
            {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime, "scope": "all"},
            {},
        )

    # -- pre-pay records (blocks sold in blocktime) ---------------------------------------------

    def blocks_written(self) -> list[dict[str, Any]]:
        """The pre-pay records blocktime wrote (they carry its reference), in the shared tests' words.
        Halo has no cancelled pre-pay: a void deletes the record, kept here as ``cancelled``."""
        return [
            {
                "psa_id": f"prepay:{row['id']}",
                "hours": Decimal(str(row["hours"])),
                "reference": "blocktime:" + str(row["description"]).split("blocktime:")[1],
                "cancelled": row.get("_deleted", False),
            }
            for row in sorted(self.prepays.values(), key=lambda r: r["id"])
            if "blocktime:" in str(row.get("description") or "")
        ]

    def refuse_blocks(self) -> str:
        """Acme's client is made inactive in Halo: it takes no new pre-pay."""
        self.clients[250]["inactive"] = True
        return "Client 250 is inactive"

    def _prepay(
        self, method: str, parts: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if method == "GET" and len(parts) == 1:
            rows = [r for r in sorted(self.prepays.values(), key=lambda r: r["id"]) if not r.get("_deleted")]
            if "client_id" in query:
                rows = [r for r in rows if str(r["client_id"]) == query["client_id"]]
            return 200, {"record_count": len(rows), "prepays": [_shown(r) for r in rows]}, {}
        if method == "DELETE" and len(parts) == 2:
            found = self.prepays.get(_id(parts[1]))
            if found is None or found.get("_deleted"):
                raise Answer(404, f"Prepay {parts[1]} not found")
            found["_deleted"] = True  # gone from Halo; kept for the tests to see
            return 200, None, {}
        if method == "POST" and len(parts) == 1:
            if not isinstance(body, list) or not body or not all(isinstance(r, dict) for r in body):
                raise Answer(400, "The body is a list of prepay records")
            saved = [self._save_prepay(record) for record in body]
            return 201, saved[0] if len(saved) == 1 else saved, {}
        raise Answer(404, f"No endpoint {method} ClientPrepay")

    def _save_prepay(self, record: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(record) - PREPAY_FIELDS)
        if unknown:
            raise Answer(400, f"{unknown[0]} is not a field of a prepay record")
        if "id" in record:
            raise Answer(400, "id is assigned by Halo")
        client = self.clients.get(record.get("client_id"))  # type: ignore[arg-type]
        if client is None:
            raise Answer(400, f"Client {record.get('client_id')} does not exist")
        if client.get("inactive"):
            raise Answer(400, f"Client {client['id']} is inactive")
        hours = record.get("hours")
        if not isinstance(hours, int | float | Decimal) or Decimal(str(hours)) <= 0:
            raise Answer(400, "hours must be a number greater than 0")
        if not record.get("date"):
            raise Answer(400, "date is required")
        saved = {**record, "id": self.next_id(), "client_name": client["name"]}
        self.prepays[saved["id"]] = saved
        return _shown(saved)

    # -- actions ---------------------------------------------------------------------------------

    def _actions(
        self, method: str, parts: list[str], query: dict[str, str], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if method == "GET" and len(parts) == 1:
            if "ticket_id" not in query:
                raise Answer(400, "ticket_id is required")
            ticket = _id(query["ticket_id"])
            if ticket not in self.tickets:
                raise Answer(404, f"Ticket {ticket} not found")
            rows = [a for a in sorted(self.actions.values(), key=lambda r: r["id"]) if a["ticket_id"] == ticket]
            return 200, {"record_count": len(rows), "actions": rows}, {}
        if method == "DELETE" and len(parts) == 2:
            action_id = _id(parts[1])
            if action_id not in self.actions:
                raise Answer(404, f"Action {action_id} not found")
            self._not_invoiced(self.actions[action_id])
            del self.actions[action_id]
            return 200, None, {}
        if method == "POST" and len(parts) == 1:
            if not isinstance(body, list) or not body or not all(isinstance(a, dict) for a in body):
                raise Answer(400, "The body is a list of actions")
            saved = [self._save(action) for action in body]
            return 201, saved[0] if len(saved) == 1 else saved, {}
        raise Answer(404, f"No endpoint {method} Actions")

    def _save(self, action: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(action) - ACTION_FIELDS)
        if unknown:
            raise Answer(400, f"{unknown[0]} is not a field of an action")
        action_id = action.get("id")
        if action_id is not None and action_id not in self.actions and self.upsert:
            action, action_id = {k: v for k, v in action.items() if k != "id"}, None
        if action_id is not None:
            if action_id not in self.actions:
                raise Answer(404, f"Action {action_id} not found")
            self._not_invoiced(self.actions[action_id])
            record = {**self.actions[action_id], **action}
        else:
            record = dict(action)
        ticket = self.tickets.get(record.get("ticket_id"))  # type: ignore[arg-type]
        if ticket is None:
            raise Answer(400, f"Ticket {record.get('ticket_id')} does not exist")
        if record.get("who_agentid") not in self.agents:
            raise Answer(400, f"Agent {record.get('who_agentid')} does not exist")
        contract = record.get("actioncontractid")
        if contract is not None:
            found = self.contracts.get(contract)
            if found is None:
                raise Answer(400, f"Contract {contract} does not exist")
            if found["client_id"] != ticket["client_id"]:
                raise Answer(400, f"Contract {contract} is not a contract of ticket {ticket['id']}'s client")
        rate = record.get("chargerate")
        if rate is not None and rate not in self.charge_rates:
            raise Answer(400, f"Charge rate {rate} does not exist")
        taken = record.get("timetaken")
        if taken is None or Decimal(str(taken)) < 0:
            raise Answer(400, "timetaken is a number of hours")
        arrival, completion = record.get("actionarrivaldate"), record.get("actioncompletiondate")
        if arrival and completion and _moment(completion) <= _moment(arrival):
            raise Answer(400, "The end date must be after the start date")
        if action_id is None:
            record["id"] = self.next_id()
        record["who"] = self.agents[record["who_agentid"]]["name"]
        record["datetime"] = record.get("actionarrivaldate")
        self.actions[record["id"]] = record
        return record

    # -- tickets (a low balance's follow-up) --------------------------------------------------------

    def _new_tickets(self, body: Any) -> tuple[int, Any, dict[str, str]]:
        """``POST /api/Tickets`` takes a list of tickets; each field must be one of Halo's ticket model
        (``TICKET_FIELDS``, a part of it), a new ticket needs a summary and a client that exists, and an
        agent it names exists."""
        if not isinstance(body, list) or not body or not all(isinstance(t, dict) for t in body):
            raise Answer(400, "The body is a list of tickets")
        saved = []
        for ticket in body:
            unknown = sorted(set(ticket) - TICKET_FIELDS)
            if unknown:
                raise Answer(400, f"{unknown[0]} is not a field of a ticket")
            if not str(ticket.get("summary") or "").strip():
                raise Answer(400, "Please enter a Summary")
            if ticket.get("client_id") not in self.clients:
                raise Answer(400, f"Client {ticket.get('client_id')} does not exist")
            if "agent_id" in ticket and ticket["agent_id"] not in self.agents:
                raise Answer(400, f"Agent {ticket['agent_id']} does not exist")
            record = {**ticket, "id": self.next_id()}
            self.tickets[record["id"]] = record
            saved.append(record)
        return 201, saved[0] if len(saved) == 1 else saved, {}

    @staticmethod
    def _not_invoiced(action: dict[str, Any]) -> None:
        if action.get("actioninvoicenumber"):
            raise Answer(400, f"Action {action['id']} has been invoiced and cannot be changed")


PREPAY_FIELDS = frozenset(  # Halo's PrepayHistory model
    {
        "id",
        "client_id",
        "client_name",
        "date",
        "hours",
        "description",
        "invoicedate",
        "invoice_id",
        "amount",
        "expirydate",
        "expirychecked",
    }
)


def _shown(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def _id(text: str) -> int:
    if not text.isdigit():
        raise Answer(400, f"{text!r} is not an id")
    return int(text)


def _moment(value: Any) -> datetime:
    from datetime import UTC

    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
