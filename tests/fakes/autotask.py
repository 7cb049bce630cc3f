"""A local Autotask PSA REST API (v1.0), written from Autotask's published REST API reference (its
entities' fields, the query syntax, paging and error bodies).

It checks every request as Autotask does and records it:
- the ``ApiIntegrationCode``, ``UserName`` and ``Secret`` headers (401 otherwise);
- queries: ``POST /{Entity}/query`` with ``{"filter": [...], "MaxRecords": 1..500, "IncludeFields"}``,
  conditions ``{"op", "field", "value"}`` (``eq``, ``noteq``, ``gt``, ``gte``, ``lt``, ``lte``,
  ``beginsWith``, ``endsWith``, ``contains``, ``exist``, ``notExist``, ``in``) and groups
  ``{"op": "and"|"or", "items": [...]}``, on fields the entity has; the answer's ``pageDetails`` names
  the next page, fetched with ``GET``;
- ``GET /zoneInformation?user=`` (no sign-in) answers the zone's API URL for that API user;
- ``GET /{Entity}/{id}`` answers ``{"item": ...}``, ``null`` when there is none;
- ``POST /TimeEntries`` and ``PATCH /TimeEntries`` take only fields of the TimeEntries entity, the
  required ones present, and hold Autotask's rules: the ticket, resource, role and billing code exist;
  the contract is the ticket's company's; the end is after the start; hours are more than 0 and at most
  24; an approved and posted entry is not changed or deleted;
- ``POST`` and ``PATCH /Contracts/{id}/Blocks`` (a contract block, issue 26): an update names a block
  of that contract, leaves ``hoursApproved`` (read-only) alone and gives ``isPaid`` as true or false;
- errors come as Autotask's: ``{"errors": ["..."]}``, with HTTP 500 for a broken business rule and
  for a record to delete or update that does not exist ("No matching records found"); 429 carries
  ``Retry-After``."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from tests.fakes.psa_base import Answer, FakeServer, Incoming, Record, Recorded, minutes_of

PREFIX = "/ATServicesRest/V1.0/"
TIME_ENTRY_FIELDS = frozenset(
    {
        "id",
        "billingApprovalDateTime",
        "billingApprovalLevelMostRecent",
        "billingApprovalResourceID",
        "billingCodeID",
        "contractID",
        "contractServiceBundleID",
        "contractServiceID",
        "createDateTime",
        "creatorUserID",
        "dateWorked",
        "endDateTime",
        "hoursToBill",
        "hoursWorked",
        "impersonatorCreatorResourceID",
        "impersonatorUpdaterResourceID",
        "internalBillingCodeID",
        "internalNotes",
        "isInternalNotesVisibleToComanaged",
        "isNonBillable",
        "lastModifiedDateTime",
        "lastModifiedUserID",
        "offsetHours",
        "resourceID",
        "roleID",
        "showOnInvoice",
        "startDateTime",
        "summaryNotes",
        "taskID",
        "ticketID",
        "timeEntryType",
        "userDefinedFields",
    }
)
READ_ONLY = {"createDateTime", "creatorUserID", "lastModifiedDateTime", "lastModifiedUserID", "billingApprovalDateTime"}
ENTITY_FIELDS = {
    "Companies": {"id", "companyName", "companyNumber", "isActive"},
    "Contracts": {"id", "contractName", "companyID", "contractType", "status", "startDate", "endDate"},
    "ContractBlocks": {
        "id",
        "contractID",
        "hours",
        "hourlyRate",
        "startDate",
        "endDate",
        "datePurchased",
        "isPaid",
        "status",
        "invoiceNumber",
        "paymentNumber",
        "paymentType",
        "hoursApproved",
    },
    "Resources": {"id", "firstName", "lastName", "email", "userName", "isActive"},
    "ResourceServiceDeskRoles": {"id", "resourceID", "roleID", "isDefault", "isActive"},
    "Roles": {"id", "name", "isActive"},
    "BillingCodes": {"id", "name", "useType", "isActive"},
    "Tickets": {
        "id",
        "companyID",
        "contractID",
        "ticketNumber",
        "title",
        "description",
        "status",
        "priority",
        "queueID",
        "externalID",
        "assignedResourceID",
        "assignedResourceRoleID",
        "createDate",
    },
    "ToDos": {
        "id",
        "actionType",
        "activityDescription",
        "assignedToResourceID",
        "companyID",
        "completedDate",
        "contactID",
        "contractID",
        "createDateTime",
        "creatorResourceID",
        "endDateTime",
        "lastModifiedDate",
        "opportunityID",
        "startDateTime",
        "ticketID",
    },
    "ActionTypes": {"id", "name", "isActive", "isSystemActionType", "view"},
    "TimeEntries": set(TIME_ENTRY_FIELDS),
}
NO_RECORD = (
    "No message. No matching records found. The logged in Resource may not have the required permissions "
    "to delete the data."
)
MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T")
OPS = {"eq", "noteq", "gt", "gte", "lt", "lte", "beginsWith", "endsWith", "contains", "exist", "notExist", "in"}


@dataclass
class FakeAutotask(FakeServer):
    label: ClassVar[str] = "Autotask"  # as blocktime names it
    vendor: ClassVar[str] = "Autotask"  # as its errors begin
    page_size: ClassVar[int] = 500  # records read back per page
    prefix: ClassVar[str] = PREFIX
    name: str = "autotask"
    username: str = "api@msp.example"
    secret: str = "at-secret"
    integration_code: str = "AT-INTEGRATION"
    tables: dict[str, dict[int, dict[str, Any]]] = field(default_factory=lambda: {k: {} for k in ENTITY_FIELDS})
    queues: dict[int, str] = field(default_factory=dict)  # the ticket queue picklist
    # an instance whose field list has a contract block's isPaid read-only: an update answers 200 and
    # leaves it as it was (what blocktime reads back)
    paid_read_only: bool = False

    def reset(self) -> FakeAutotask:
        for table in self.tables.values():
            table.clear()
        self.queues.clear()
        self.paid_read_only = False
        self.reset_requests()
        return self

    def settings_values(self) -> dict[str, Any]:
        return {
            "psa": "autotask",
            "autotask_url": self.url,
            "autotask_username": self.username,
            "autotask_secret": self.secret,
            "autotask_integration_code": self.integration_code,
        }

    @property
    def time_entries(self) -> dict[int, dict[str, Any]]:
        return self.tables["TimeEntries"]

    def add(self, entity: str, **row: Any) -> None:
        self.tables[entity][row["id"]] = row

    # -- what every PSA's fake offers the shared tests ------------------------------------------

    def seed(self) -> FakeAutotask:
        self.reset()
        for company_id, name in ((250, "Acme Corp"), (251, "Acme Logistics"), (300, "Globex")):
            self.add("Companies", id=company_id, companyName=name, companyNumber=f"C{company_id}", isActive=True)
        term = {"startDate": "2026-11-01T00:00:00", "endDate": "2027-10-31T00:00:00"}
        self.add("Contracts", id=30, contractName="Acme block time", companyID=250, contractType=4, status=1, **term)
        self.add("Contracts", id=40, contractName="Globex block time", companyID=300, contractType=4, status=1, **term)
        self.add(
            "ContractBlocks",
            id=7,
            contractID=30,
            hours=20,
            hourlyRate=100,
            startDate="2026-11-01T00:00:00",
            endDate="2027-10-31T00:00:00",
            datePurchased="2026-11-01T00:00:00",
            isPaid=True,
            status=1,
        )
        self.add(
            "Resources",
            id=17,
            firstName="Tess",
            lastName="Tech",
            email="tess@msp.example",
            userName="tess",
            isActive=True,
        )
        self.add(
            "Resources",
            id=18,
            firstName="Max",
            lastName="Manager",
            email="max@msp.example",
            userName="max",
            isActive=True,
        )
        self.add("Roles", id=29682833, name="Technician", isActive=True)
        for number, resource in ((1, 17), (2, 18)):
            self.add(
                "ResourceServiceDeskRoles",
                id=number,
                resourceID=resource,
                roleID=29682833,
                isDefault=True,
                isActive=True,
            )
        self.add("BillingCodes", id=5, name="Onsite", useType=1, isActive=True)
        for ticket_id, company_id, title in (
            (1234, 250, "Laptop will not boot"),
            (4321, 300, "Globex printer"),
            (5000, 250, "Acme: general"),
            (6000, 300, "Globex: general"),
        ):
            self.add(
                "Tickets", id=ticket_id, companyID=company_id, ticketNumber=f"T20261101.{ticket_id:04d}", title=title
            )
        self.add("ActionTypes", id=1, name="Phone Call", isActive=True, isSystemActionType=True, view=2)
        self.add("ActionTypes", id=3, name="General", isActive=True, isSystemActionType=True, view=2)
        self.queues[29683354] = "Account Management"
        return self

    def records(self) -> list[Record]:
        return [
            Record(
                id=row["id"],
                company=self.tables["Tickets"][row["ticketID"]]["companyID"],
                agreement=row.get("contractID"),
                member=row["resourceID"],
                ticket=row["ticketID"],
                work_type=row.get("billingCodeID"),
                start=row["startDateTime"],
                end=row.get("endDateTime"),
                minutes=minutes_of(row.get("hoursWorked") or 0),
                billable=not row.get("isNonBillable"),
                notes=row.get("summaryNotes") or "",
                reference=(row.get("internalNotes") or "").removeprefix("blocktime:") or None,
            )
            for row in sorted(self.time_entries.values(), key=lambda r: r["id"])
        ]

    def count(self, operation: str) -> int:
        method = {"create": "POST", "update": "PATCH", "delete": "DELETE"}[operation]
        return len(
            [r for r in self.time_calls() if r.method == method and r.path.split("/")[-1] != "query" and r.status < 300]
        )

    def tamper(self, record_id: int, minutes: int) -> None:
        self.time_entries[record_id]["hoursWorked"] = Decimal(minutes) / 60

    def remove(self, record_id: int) -> None:
        del self.time_entries[record_id]

    def plant(self, like: int, record_id: int, notes: str) -> None:
        self.time_entries[record_id] = dict(
            self.time_entries[like], id=record_id, internalNotes=None, summaryNotes=notes
        )

    def bill(self, record_id: int) -> None:
        self.time_entries[record_id]["billingApprovalDateTime"] = "2026-11-26T10:00:00Z"

    def fill(self, count: int, agreement: int, member: int) -> None:
        ticket = next(
            t
            for t in self.tables["Tickets"].values()
            if t["companyID"] == self.tables["Contracts"][agreement]["companyID"]
        )
        for number in range(1, count + 1):
            self.time_entries[number] = {
                "id": number,
                "ticketID": ticket["id"],
                "resourceID": member,
                "roleID": 29682833,
                "contractID": agreement,
                "dateWorked": "2026-11-10T00:00:00",
                "startDateTime": "2026-11-10T09:00:00Z",
                "hoursWorked": Decimal("0.25"),
                "summaryNotes": "typed in Autotask",
            }

    def time_calls(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.startswith("TimeEntries")]

    # -- requests ----------------------------------------------------------------------------------

    def _down(self) -> Answer:
        return Answer(503, {"errors": ["The service is temporarily unavailable"]})

    def _limited(self) -> Answer:
        return Answer(429, {"errors": ["Request rejected: the integration's thread limit was exceeded"]})

    def _is_create(self, method: str, path: str, status: int) -> bool:
        short = self._short(path)
        return (
            method == "POST"
            and (short in ("TimeEntries", "Tickets", "ToDos") or short.endswith("/Blocks"))
            and status == 200
        )

    def _authorise(self, request: Incoming) -> None:
        if request.path == PREFIX + "zoneInformation":
            return  # asked before signing in
        headers = request.headers
        if (
            headers.get("ApiIntegrationCode") != self.integration_code
            or headers.get("UserName") != self.username
            or headers.get("Secret") != self.secret
        ):
            raise Answer(401, {"errors": ["The user name, secret or integration code is not valid"]})

    def _answer(self, request: Incoming) -> tuple[int, Any, dict[str, str]]:
        if not request.path.startswith(PREFIX):
            raise Answer(404, {"errors": [f"{request.path} is not an API path"]})
        parts = self._short(request.path).strip("/").split("/")
        method = request.method
        if parts == ["zoneInformation"] and method == "GET":
            if request.query.get("user", "").lower() != self.username.lower():
                raise Answer(500, {"errors": ["Invalid user name or no zone found for this user"]})
            zone = {"zoneName": "Local", "url": self.origin + "/ATServicesRest/", "webUrl": self.origin, "ci": 0}
            return 200, zone, {}
        if parts == ["ThresholdInformation"] and method == "GET":
            return (
                200,
                {
                    "externalRequestThreshold": 10000,
                    "requestThresholdTimeframe": 60,
                    "currentTimeframeRequestCount": len(self.requests),
                },
                {},
            )
        entity = parts[0]
        if entity not in self.tables:
            raise Answer(404, {"errors": [f"No entity {entity}"]})
        if request.query and parts[1:] != ["query", "next"]:
            raise Answer(400, {"errors": [f"Unknown query parameter {sorted(request.query)[0]}"]})
        body = self.json_body(request, lambda words: {"errors": [words]})
        if parts[1:] == ["query"] and method == "POST":
            return 200, self._query(entity, body, 0), {}
        if parts[1:] == ["query", "next"] and method == "GET":
            try:
                state = json.loads(base64.urlsafe_b64decode(request.query.get("paging", "")))
            except ValueError:
                raise Answer(400, {"errors": ["The paging token is not valid"]}) from None
            return 200, self._query(entity, state["search"], state["offset"]), {}
        if len(parts) == 2 and method == "GET":
            return 200, {"item": self.tables[entity].get(_id(parts[1]))}, {}
        if entity in ("Tickets", "ToDos") and len(parts) == 1 and method == "POST":
            return 200, {"itemId": self._create_followup(entity, body)}, {}
        if entity == "Contracts" and len(parts) == 3 and parts[2] == "Blocks" and method in ("POST", "PATCH"):
            return 200, {"itemId": self._block(_id(parts[1]), method, body)}, {}
        if entity != "TimeEntries":
            raise Answer(405, {"errors": [f"{method} is not allowed on {entity}"]})
        if len(parts) == 1 and method == "POST":
            return 200, {"itemId": self._create(body)}, {}
        if len(parts) == 1 and method == "PATCH":
            return 200, {"itemId": self._update(body)}, {}
        if len(parts) == 2 and method == "DELETE":
            record_id = _id(parts[1])
            if record_id not in self.time_entries:  # as Autotask says it: a 500, not a 404
                raise Answer(500, {"errors": [NO_RECORD]})
            self._not_posted(self.time_entries[record_id])
            del self.time_entries[record_id]
            return 200, {"itemId": record_id}, {}
        raise Answer(405, {"errors": [f"{method} is not allowed here"]})

    # -- queries ---------------------------------------------------------------------------------

    def _query(self, entity: str, search: Any, offset: int) -> dict[str, Any]:
        if not isinstance(search, dict) or not isinstance(search.get("filter"), list) or not search["filter"]:
            raise Answer(500, {"errors": ["A query needs a filter"]})
        unknown = set(search) - {"filter", "MaxRecords", "IncludeFields"}
        if unknown:
            raise Answer(500, {"errors": [f"Unknown query member {sorted(unknown)[0]}"]})
        size = search.get("MaxRecords", PAGE)
        if not isinstance(size, int) or not 1 <= size <= PAGE:
            raise Answer(500, {"errors": ["MaxRecords is between 1 and 500"]})
        for condition in search["filter"]:
            self._check(entity, condition)
        rows = [
            r
            for r in sorted(self.tables[entity].values(), key=lambda r: r["id"])
            if all(self._test(entity, r, c) for c in search["filter"])
        ]
        chunk = rows[offset : offset + size]
        following = None
        if offset + size < len(rows):
            token = base64.urlsafe_b64encode(
                json.dumps({"search": search, "offset": offset + size}, default=str).encode()
            ).decode()
            following = f"{self.url}/{entity}/query/next?paging={token}"
        fields = search.get("IncludeFields")
        if fields:
            chunk = [{k: v for k, v in row.items() if k in fields or k == "id"} for row in chunk]
        details = {"count": len(chunk), "requestCount": size, "prevPageUrl": None, "nextPageUrl": following}
        return {"items": chunk, "pageDetails": details}

    def _check(self, entity: str, condition: Any) -> None:
        """A condition Autotask can read: a known operator on a field the entity has."""
        if not isinstance(condition, dict) or condition.get("op") not in OPS | {"and", "or"}:
            raise Answer(500, {"errors": [f"Cannot read the condition {condition!r}"]})
        if condition["op"] in ("and", "or"):
            for item in condition.get("items") or []:
                self._check(entity, item)
        elif condition.get("field") not in ENTITY_FIELDS[entity]:
            raise Answer(500, {"errors": [f"{condition.get('field')} is not a field of {entity}"]})

    def _test(self, entity: str, row: dict[str, Any], condition: Any) -> bool:
        if not isinstance(condition, dict) or condition.get("op") not in OPS | {"and", "or"}:
            raise Answer(500, {"errors": [f"Cannot read the condition {condition!r}"]})
        op = condition["op"]
        if op in ("and", "or"):
            items = condition.get("items") or []
            results = [self._test(entity, row, c) for c in items]
            return all(results) if op == "and" else any(results)
        name = condition.get("field")
        if name not in ENTITY_FIELDS[entity]:
            raise Answer(500, {"errors": [f"{name} is not a field of {entity}"]})
        value, wanted = row.get(name), condition.get("value")
        if op == "exist":
            return value not in (None, "")
        if op == "notExist":
            return value in (None, "")
        if op == "in":
            return value in (wanted or [])
        if op in ("beginsWith", "endsWith", "contains"):
            text, part = str(value or "").lower(), str(wanted or "").lower()
            return {"beginsWith": text.startswith, "endsWith": text.endswith, "contains": text.__contains__}[op](part)
        if value is None:
            return op == "noteq"
        if isinstance(value, str) and MOMENT.match(value) and isinstance(wanted, str):
            value, wanted = _moment(value), _moment(wanted)
        elif isinstance(value, bool) or isinstance(wanted, bool):
            value, wanted = bool(value), wanted
        elif isinstance(value, int | float | Decimal):
            value, wanted = Decimal(str(value)), Decimal(str(wanted))
        elif isinstance(value, str):
            value, wanted = value.lower(), str(wanted).lower()
        compare = {
            "eq": lambda a, b: a == b,
            "noteq": lambda a, b: a != b,
            "gt": lambda a, b: a > b,
            "gte": lambda a, b: a >= b,
            "lt": lambda a, b: a < b,
            "lte": lambda a, b: a <= b,
        }[op]
        return bool(compare(value, wanted))

    # -- follow-ups: tickets and to-dos -------------------------------------------------------

    def _create_followup(self, entity: str, body: Any) -> int:
        """``POST /Tickets`` or ``POST /ToDos``: only the entity's fields, the required ones present,
        and Autotask's rules: the company exists; a ticket's title holds 255 characters and it is in a
        queue (of the picklist) or with a resource; a to-do's resource and action type exist and it
        ends after it starts."""
        if not isinstance(body, dict):
            raise Answer(500, {"errors": [f"A {entity} record is a JSON object"]})
        if "id" in body:
            raise Answer(500, {"errors": ["id is assigned by Autotask"]})
        unknown = sorted(set(body) - ENTITY_FIELDS[entity])
        if unknown:
            raise Answer(500, {"errors": [f"{unknown[0]} is not a field of {entity}"]})
        required = {
            "Tickets": ("companyID", "title", "status", "priority"),
            "ToDos": ("companyID", "assignedToResourceID", "actionType", "startDateTime", "endDateTime"),
        }[entity]
        missing = [f for f in required if body.get(f) in (None, "")]
        if missing:
            raise Answer(500, {"errors": [f"{name} is required" for name in missing]})
        problems = []
        if body["companyID"] not in self.tables["Companies"]:
            problems.append(f"Company {body['companyID']} does not exist")
        if entity == "Tickets":
            if len(str(body["title"])) > 255:
                problems.append("title: the value exceeds the maximum length of 255")
            queue = body.get("queueID")
            if queue is None and body.get("assignedResourceID") is None:
                problems.append("A Ticket must have a Queue or a Primary Resource assigned.")
            elif queue is not None and queue not in self.queues:
                problems.append(f"Value {queue} is not a valid queueID")
        else:
            if body["assignedToResourceID"] not in self.tables["Resources"]:
                problems.append(f"Resource {body['assignedToResourceID']} does not exist")
            if body["actionType"] not in self.tables["ActionTypes"]:
                problems.append(f"Value {body['actionType']} is not a valid actionType")
            if _moment(body["endDateTime"]) <= _moment(body["startDateTime"]):
                problems.append("endDateTime must be after startDateTime")
        if problems:
            raise Answer(500, {"errors": problems})
        record = {**body, "id": self.next_id()}
        if entity == "Tickets":
            record["ticketNumber"] = f"T20261201.{record['id']:04d}"
        self.tables[entity][record["id"]] = record
        return int(record["id"])

    # -- contract blocks (blocks sold in blocktime) ----------------------------------------------

    def blocks_written(self) -> list[dict[str, Any]]:
        """The contract blocks blocktime wrote (they carry its reference), in the shared tests' words."""
        return [
            {
                "psa_id": f"block:{row['id']}",
                "hours": Decimal(str(row["hours"])),
                "reference": row["paymentNumber"],
                "cancelled": row.get("status") == 0,
                "paid": row.get("isPaid"),
            }
            for row in sorted(self.tables["ContractBlocks"].values(), key=lambda r: r["id"])
            if str(row.get("paymentNumber") or "").startswith("blocktime:")
        ]

    def refuse_blocks(self) -> str:
        """Acme's contract is no longer a Block Hours contract: Autotask refuses a block on it."""
        self.tables["Contracts"][30]["contractType"] = 1
        return "Contract blocks can only be added to a Block Hours contract"

    def _block(self, contract_id: int, method: str, body: Any) -> int:
        """``POST`` or ``PATCH /Contracts/{id}/Blocks``: a block of hours on a Block Hours contract."""
        if not isinstance(body, dict):
            raise Answer(500, {"errors": ["A contract block is a JSON object"]})
        unknown = sorted(set(body) - ENTITY_FIELDS["ContractBlocks"])
        if unknown:
            raise Answer(500, {"errors": [f"{unknown[0]} is not a field of ContractBlocks"]})
        contract = self.tables["Contracts"].get(contract_id)
        if contract is None:
            raise Answer(500, {"errors": [f"Contract {contract_id} does not exist"]})
        blocks = self.tables["ContractBlocks"]
        if method == "PATCH":
            found = blocks.get(body.get("id"))
            if found is None or found.get("contractID") != contract_id:  # not a block of this contract
                raise Answer(500, {"errors": [NO_RECORD]})
            problems = [f"{name} is read-only" for name in ("hoursApproved",) if name in body]
            if "isPaid" in body and not isinstance(body["isPaid"], bool):
                problems.append("isPaid must be true or false")
            if "contractID" in body and body["contractID"] != contract_id:
                problems.append("contractID must be the parent contract")
            if problems:
                raise Answer(500, {"errors": problems})
            changes = {k: v for k, v in body.items() if not (k == "isPaid" and self.paid_read_only)}
            found.update(changes)
            return int(body["id"])
        if "id" in body:
            raise Answer(500, {"errors": ["id is assigned by Autotask"]})
        required = ("contractID", "datePurchased", "startDate", "endDate", "hours", "hourlyRate")
        missing = [name for name in required if body.get(name) in (None, "")]
        if missing:
            raise Answer(500, {"errors": [f"{name} is required" for name in missing]})
        problems = []
        if body["contractID"] != contract_id:
            problems.append("contractID must be the parent contract")
        if contract.get("contractType") != 4:
            problems.append("Contract blocks can only be added to a Block Hours contract")
        if Decimal(str(body["hours"])) <= 0:
            problems.append("hours must be more than 0")
        if _moment(body["endDate"]) < _moment(body["startDate"]):
            problems.append("endDate must be on or after startDate")
        if len(str(body.get("paymentNumber") or "")) > 50:
            problems.append("paymentNumber is at most 50 characters")
        if problems:
            raise Answer(500, {"errors": problems})
        record = {**body, "id": self.next_id()}
        blocks[record["id"]] = record
        return int(record["id"])

    # -- time entries ---------------------------------------------------------------------------

    def _create(self, body: Any) -> int:
        if not isinstance(body, dict):
            raise Answer(500, {"errors": ["A time entry is a JSON object"]})
        if "id" in body:
            raise Answer(500, {"errors": ["id is assigned by Autotask"]})
        self._fields(body)
        missing = [f for f in ("resourceID", "dateWorked", "roleID", "summaryNotes") if body.get(f) in (None, "")]
        if not (body.get("hoursWorked") or (body.get("startDateTime") and body.get("endDateTime"))):
            missing.append("hoursWorked")
        if not (body.get("ticketID") or body.get("taskID") or body.get("internalBillingCodeID")):
            missing.append("ticketID")
        if missing:
            raise Answer(500, {"errors": [f"{name} is required" for name in missing]})
        record = {**body, "id": self.next_id(), "createDateTime": _now()}
        self._rules(record)
        self.time_entries[record["id"]] = record
        return int(record["id"])

    def _update(self, body: Any) -> int:
        if not isinstance(body, dict) or "id" not in body:
            raise Answer(500, {"errors": ["An update names the entry's id"]})
        self._fields(body)
        record_id = body["id"]
        if record_id not in self.time_entries:
            raise Answer(500, {"errors": [NO_RECORD]})
        self._not_posted(self.time_entries[record_id])
        record = {**self.time_entries[record_id], **body, "lastModifiedDateTime": _now()}
        self._rules(record)
        self.time_entries[record_id] = record
        return int(record_id)

    @staticmethod
    def _fields(body: dict[str, Any]) -> None:
        unknown = sorted(set(body) - TIME_ENTRY_FIELDS)
        if unknown:
            raise Answer(500, {"errors": [f"{unknown[0]} is not a field of TimeEntries"]})
        read_only = sorted(set(body) & READ_ONLY)
        if read_only:
            raise Answer(500, {"errors": [f"{read_only[0]} is read-only"]})

    def _rules(self, record: dict[str, Any]) -> None:
        problems = []
        ticket = self.tables["Tickets"].get(record.get("ticketID"))  # type: ignore[arg-type]
        if record.get("ticketID") is not None and ticket is None:
            problems.append(f"Ticket {record.get('ticketID')} does not exist")
        if record.get("resourceID") not in self.tables["Resources"]:
            problems.append(f"Resource {record.get('resourceID')} does not exist")
        if record.get("roleID") not in self.tables["Roles"]:
            problems.append(f"Role {record.get('roleID')} does not exist")
        code = record.get("billingCodeID")
        if code is not None and code not in self.tables["BillingCodes"]:
            problems.append(f"Billing code {code} does not exist")
        contract = record.get("contractID")
        if contract is not None:
            found = self.tables["Contracts"].get(contract)
            if found is None:
                problems.append(f"Contract {contract} does not exist")
            elif ticket is not None and found["companyID"] != ticket["companyID"]:
                problems.append(f"Contract {contract} does not belong to the company of ticket {ticket['id']}")
        hours = Decimal(str(record.get("hoursWorked") or 0))
        if not 0 < hours <= 24:
            problems.append("hoursWorked must be more than 0 and at most 24")
        start, end = record.get("startDateTime"), record.get("endDateTime")
        if start and end and _moment(end) <= _moment(start):
            problems.append("endDateTime must be after startDateTime")
        if problems:
            raise Answer(500, {"errors": problems})

    @staticmethod
    def _not_posted(record: dict[str, Any]) -> None:
        if record.get("billingApprovalDateTime"):
            raise Answer(500, {"errors": [f"TimeEntry {record['id']} is approved and posted; it cannot be changed"]})


PAGE = 500


def _id(text: str) -> int:
    if not text.isdigit():
        raise Answer(400, {"errors": [f"{text!r} is not an id"]})
    return int(text)


def _moment(value: Any) -> datetime:
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
