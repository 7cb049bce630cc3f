"""Autotask PSA (Datto/Kaseya) over its REST API, v1.0.

- ``AUTOTASK_URL`` is your zone's API, e.g. ``https://webservices5.autotask.net/ATServicesRest/V1.0``;
  without it, Autotask's zone lookup (``AUTOTASK_ZONE_URL``, ``zoneInformation?user=``) says it, once
  per process. Every call carries an API user's ``UserName`` and ``Secret`` and the ``ApiIntegrationCode`` of the
  integration.
- Queries are ``POST /{Entity}/query`` with ``{"filter": [...], "MaxRecords": 500}``; an answer says
  ``{"items": [...], "pageDetails": {"nextPageUrl": ...}}``; a record is ``GET /{Entity}/{id}`` ->
  ``{"item": ...}`` (``null`` when there is none); a create or update answers ``{"itemId": ...}``.
- Time is a ``TimeEntries`` record on a ticket, with the resource, their role, the contract that
  pays, the billing code (our work type), start and end, hours and summary notes. Our reference
  rides in ``internalNotes``: before creating a record, a retry looks for it there.
- A block sold here (issue 26) is a contract block on the linked (Block Hours) contract:
  ``POST /Contracts/{id}/Blocks`` with ``datePurchased``, ``startDate``, ``endDate`` (the block's
  expiry, else the contract's end), ``hours``, ``hourlyRate`` (the block's price per hour, 0 when it
  has none) and ``isPaid``; our reference rides in its ``paymentNumber`` (``blocktime:<reference>``), the
  sale's invoice in ``invoiceNumber``. A void makes the block inactive (``status`` 0), as Autotask keeps
  a block that time may already have drawn from; a block marked paid or unpaid later has its
  ``isPaid`` patched the same way.
- Autotask says a refusal (a business rule, a missing field) as HTTP 500 with ``{"errors": [...]}``:
  that is a refusal, not an outage, and is not retried by itself.

Numbers are read as Decimal (hours and prices are never floats here)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from bot.config import AUTOTASK_ZONE_URL, Settings
from bot.domain.followups import Followup, with_reference
from bot.domain.psa_blocks import PsaBlock, ours
from bot.domain.psa_records import PrepaidBlock, PsaTime, TheirTime, minutes_of_hours
from bot.psa import Agreement, Company, PsaError, PsaNotFound
from bot.psa.http import VendorHttp, day, money, number, parse_stamp, pooled, stamp

PAGE_SIZE = 500
TICKET_NEW, TICKET_MEDIUM = 1, 2  # Autotask's ticket status New and priority Medium
TODO_LENGTH = timedelta(minutes=30)  # a follow-up to-do's slot in the account manager's calendar
REFERENCE = "blocktime:"
NO_RECORD = "No matching records found"  # in the 500 Autotask answers for a record that is not there  # internalNotes carries "blocktime:<our reference>"


class Autotask:
    name = "Autotask"
    needs_ticket = True

    def __init__(
        self,
        url: str | None,
        username: str,
        secret: str,
        integration_code: str,
        timeout: float = 15.0,
        interactive: bool = False,
        zone_url: str = AUTOTASK_ZONE_URL,
    ) -> None:
        self.url = url.rstrip("/") + "/" if url else None
        self.username, self.zone_url = username, zone_url
        client = pooled(
            ("autotask", username, secret, integration_code, timeout),
            lambda: httpx.Client(
                headers={
                    "ApiIntegrationCode": integration_code,
                    "UserName": username,
                    "Secret": secret,
                    "User-Agent": "blocktime",
                },
                timeout=timeout,
            ),
        )
        self.http = VendorHttp("Autotask", client, timeout, interactive, _words, _refused, _missing)
        self._roles: dict[str, str] = {}  # a resource's default role, asked once per process
        self._roles_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, interactive: bool = False) -> Autotask:
        return cls(
            settings.autotask_url,
            settings.autotask_username or "",
            settings.autotask_secret or "",
            settings.autotask_integration_code or "",
            settings.psa_timeout_seconds,
            interactive,
            settings.autotask_zone_url,
        )

    # -- what the interface asks -------------------------------------------------------------------

    def whoami(self) -> str:
        found = self._call("GET", "ThresholdInformation")[0] or {}
        used, limit = found.get("currentTimeframeRequestCount"), found.get("externalRequestThreshold")
        return f"{used} of {limit} requests this hour used" if limit else "reachable"

    def companies(self, name: str) -> list[Company]:
        rows = self._query("Companies", [_where("companyName", "beginsWith", name.strip())], limit=25)
        return [_company(row) for row in rows]

    def company(self, company_id: str) -> Company:
        return _company(self._item("Companies", _number(company_id, "company")))

    def agreements(self, company_id: str) -> list[Agreement]:
        rows = self._query("Contracts", [_where("companyID", "eq", _number(company_id, "company"))])
        return [_agreement(row) for row in rows]

    def agreement(self, agreement_id: str) -> Agreement:
        return _agreement(self._item("Contracts", _number(agreement_id, "contract")))

    def member_by_email(self, email: str) -> str | None:
        rows = self._query("Resources", [_where("email", "eq", email.strip()), _where("isActive", "eq", True)], limit=2)
        return str(rows[0]["id"]) if rows else None

    def member(self, member_id: str) -> str:
        row = self._item("Resources", _number(member_id, "resource"))
        names = " ".join(str(row.get(k) or "") for k in ("firstName", "lastName")).strip()
        return names or str(row.get("userName") or member_id)

    def work_type_exists(self, work_type_id: str) -> bool:
        try:
            self._item("BillingCodes", _number(work_type_id, "billing code"))
            return True
        except PsaNotFound:
            return False

    def find_time(self, reference: str, tickets: Sequence[str] = ()) -> str | None:
        rows = self._query("TimeEntries", [_where("internalNotes", "contains", REFERENCE + reference)], limit=2)
        return str(rows[0]["id"]) if rows else None

    def create_time(self, time_: PsaTime) -> str:
        created = self._call("POST", "TimeEntries", json_body=self._fields(time_))[0]
        return str(created["itemId"])

    def update_time(self, psa_id: str, time_: PsaTime) -> str:
        record = _number(psa_id, "time entry")
        self._item("TimeEntries", record)  # PsaNotFound when someone deleted it in Autotask
        self._call("PATCH", "TimeEntries", json_body={"id": record, **self._fields(time_)})
        return psa_id

    def delete_time(self, psa_id: str) -> None:
        self._call("DELETE", f"TimeEntries/{_number(psa_id, 'time entry')}")

    def times(self, agreement_id: str, start: datetime, end: datetime) -> list[TheirTime]:
        rows = self._query(
            "TimeEntries",
            [
                _where("contractID", "eq", _number(agreement_id, "contract")),
                _where("startDateTime", "gte", stamp(start)),
                _where("startDateTime", "lt", stamp(end)),
            ],
        )
        return [
            TheirTime(
                psa_id=str(row["id"]),
                reference=_reference(row.get("internalNotes")),
                start=parse_stamp(row.get("startDateTime") or row.get("dateWorked")),
                minutes=minutes_of_hours(row.get("hoursWorked") or 0),
                member=str(row.get("resourceID") or ""),
                notes=str(row.get("summaryNotes") or ""),
            )
            for row in rows
        ]

    def prepaid_blocks(self, agreement_id: str, today: date) -> list[PrepaidBlock]:
        """The contract's blocks of hours (a Block Hours contract's ``ContractBlocks``)."""
        rows = self._query("ContractBlocks", [_where("contractID", "eq", _number(agreement_id, "contract"))])
        found = []
        for row in rows:
            hours = row.get("hours")
            if not hours or row.get("status") == 0:
                continue
            rate = row.get("hourlyRate")
            found.append(
                PrepaidBlock(
                    f"block:{row['id']}",
                    minutes_of_hours(hours),
                    day(row.get("startDate")),
                    day(row.get("endDate")),
                    money(Decimal(str(rate)) * Decimal(str(hours)) if rate is not None else None),
                    f"{Decimal(str(hours)):g} h block {row['id']}",
                    paid=None if row.get("isPaid") is None else bool(row["isPaid"]),
                    ours=ours(row.get("paymentNumber")),
                )
            )
        return found

    # -- a low balance's follow-up ------------------------------------------------------------------

    def find_followup(self, followup: Followup) -> str | None:
        """A ticket carries our reference in ``externalID``; a to-do, having no such field, in its
        ``activityDescription``."""
        if followup.kind == "ticket":
            condition = _where("externalID", "eq", followup.reference)
            rows = self._query("Tickets", [condition], limit=2)
        else:
            condition = _where("activityDescription", "contains", REFERENCE + followup.reference)
            rows = self._query("ToDos", [condition], limit=2)
        return str(rows[0]["id"]) if rows else None

    def create_followup(self, followup: Followup) -> str:
        """A ticket in the follow-up queue (``companyID``, ``title``, ``description``, ``status`` New,
        ``priority`` Medium, ``queueID``), or a to-do for the account manager (``companyID``,
        ``assignedToResourceID``, ``actionType``, ``startDateTime``, ``endDateTime``,
        ``activityDescription``)."""
        company = _number(followup.company_id, "company")
        text = with_reference(followup.details, followup.reference)
        body: dict[str, Any]
        if followup.kind == "ticket":
            body = {
                "companyID": company,
                "title": followup.summary,
                "description": text[:8000],
                "status": TICKET_NEW,
                "priority": TICKET_MEDIUM,
                "externalID": followup.reference,
            }
            if followup.board:
                body["queueID"] = _number(followup.board, "queue")
            created = self._call("POST", "Tickets", json_body=body)[0]
        else:
            assert followup.at is not None
            start = followup.at
            body = {
                "companyID": company,
                "assignedToResourceID": _number(followup.member_id or "", "resource"),
                "actionType": self._action_type(),
                "startDateTime": stamp(start),
                "endDateTime": stamp(start + TODO_LENGTH),
                "activityDescription": f"{followup.summary}\n{text}",
            }
            created = self._call("POST", "ToDos", json_body=body)[0]
        return str(created["itemId"])

    def _action_type(self) -> int:
        """The to-do's action type: the active one named General, else the first active one."""
        rows = self._query("ActionTypes", [_where("isActive", "eq", True)])
        if not rows:
            raise PsaError("Autotask has no active action type for a to-do", permanent=True)
        general = [r for r in rows if str(r.get("name") or "").strip().lower() == "general"]
        return int((general or rows)[0]["id"])

    # -- blocks sold here (issue 26) ------------------------------------------------------------

    def find_block(self, block: PsaBlock) -> str | None:
        contract = _number(block.agreement_id, "contract")
        rows = self._query(
            "ContractBlocks", [_where("contractID", "eq", contract), _where("paymentNumber", "eq", block.tag)], limit=1
        )
        return f"block:{rows[0]['id']}" if rows else None

    def create_block(self, block: PsaBlock) -> str:
        contract = _number(block.agreement_id, "contract")
        ends = block.expires_on.isoformat() if block.expires_on else None
        if ends is None:  # Autotask needs an end: the contract's
            ends = str(self._item("Contracts", contract).get("endDate") or "")[:10] or None
        body: dict[str, Any] = {
            "contractID": contract,
            "datePurchased": f"{block.purchased_on.isoformat()}T00:00:00",
            "startDate": f"{block.start_on.isoformat()}T00:00:00",
            "endDate": f"{ends}T00:00:00" if ends else None,
            "hours": float(block.hours),  # JSON has no decimals; 2 places
            "hourlyRate": float(block.hourly_rate or 0),
            "isPaid": block.paid,
            "paymentNumber": block.tag,
            "status": 1,
        }
        if block.invoice:
            body["invoiceNumber"] = block.invoice[:50]
        created = self._call("POST", f"Contracts/{contract}/Blocks", json_body=body)[0]
        return f"block:{created['itemId']}"

    def void_block(self, psa_id: str, block: PsaBlock) -> None:
        contract = _number(block.agreement_id, "contract")
        record = _number(psa_id.removeprefix("block:"), "contract block")
        self._call("PATCH", f"Contracts/{contract}/Blocks", json_body={"id": record, "status": 0})

    def update_block(self, psa_id: str, block: PsaBlock) -> None:
        """A block marked paid or unpaid: ``PATCH /Contracts/{id}/Blocks`` with its ``isPaid``, then read
        back: Autotask's own field list (``getFieldInfo``, as generated API clients show it) has had
        ``isPaid`` read-only for updates, so an update answered but not made is a refusal, said as such,
        not taken as done."""
        contract = _number(block.agreement_id, "contract")
        record = _number(psa_id.removeprefix("block:"), "contract block")
        self._call("PATCH", f"Contracts/{contract}/Blocks", json_body={"id": record, "isPaid": block.paid})
        if bool(self._item("ContractBlocks", record).get("isPaid")) is not block.paid:
            raise PsaError(
                f"Autotask kept contract block {record} {'un' if block.paid else ''}paid (isPaid not changed "
                "through its API): mark it in Autotask",
                permanent=True,
            )

    # -- HTTP -----------------------------------------------------------------------------------

    def _fields(self, time_: PsaTime) -> dict[str, Any]:
        assert time_.ticket_id is not None  # the service refuses ticketless time for Autotask
        fields: dict[str, Any] = {
            "ticketID": self._ticket(time_.ticket_id),
            "resourceID": int(time_.member_id),
            "roleID": int(time_.work_role_id or self._default_role(time_.member_id)),
            "contractID": int(time_.agreement_id),
            "dateWorked": f"{time_.work_date or time_.start.date()}T00:00:00",  # the day, as the client counts
            "startDateTime": stamp(time_.start),
            "endDateTime": stamp(time_.end),
            "hoursWorked": float(round(Decimal(time_.minutes) / 60, 2)),  # JSON has no decimals; 2 places
            "isNonBillable": not time_.billable,
            "summaryNotes": time_.notes,
            "internalNotes": REFERENCE + time_.reference,
        }
        if time_.work_type_id:
            fields["billingCodeID"] = int(time_.work_type_id)
        return fields

    def _ticket(self, reference: str) -> int:
        """A ticket's id: as given, or looked up by its ticket number (T20261125.0042)."""
        if reference.isdigit():
            return int(reference)
        rows = self._query("Tickets", [_where("ticketNumber", "eq", reference)], limit=1)
        if not rows:
            raise PsaError(f"Autotask has no ticket {reference}", permanent=True)
        return int(rows[0]["id"])

    def _default_role(self, resource_id: str) -> str:
        """The role a resource logs ticket time as, unless a work type says another."""
        with self._roles_lock:
            if resource_id in self._roles:
                return self._roles[resource_id]
        rows = self._query(
            "ResourceServiceDeskRoles",
            [
                _where("resourceID", "eq", int(resource_id)),
                _where("isDefault", "eq", True),
                _where("isActive", "eq", True),
            ],
            limit=1,
        )
        if not rows:
            raise PsaError(
                f"Autotask resource {resource_id} has no default service desk role: give them one in Autotask, "
                "or map the work type to a role: `blocktime psa worktype <name> <billing code> role <role id>`",
                permanent=True,
            )
        role = str(rows[0]["roleID"])
        with self._roles_lock:
            self._roles[resource_id] = role
        return role

    def _call(self, method: str, path: str, json_body: Any = None) -> tuple[Any, httpx.Response]:
        return self.http.call(method, self._api() + path, json_body=json_body)

    def _api(self) -> str:
        """The zone's API URL: as set, else as Autotask's zone lookup says for this API user (asked
        once per process)."""
        if self.url:
            return self.url
        name = (self.zone_url, self.username)
        with _ZONES_LOCK:
            if name not in _ZONES:
                try:
                    zone = self.http.call("GET", self.zone_url, params={"user": self.username})[0] or {}
                except PsaError as error:
                    raise PsaError(
                        f"Autotask's zone lookup for {self.username} failed ({error}); set AUTOTASK_URL",
                        permanent=error.permanent,
                        retry_after=error.retry_after,
                    ) from None
                if not zone.get("url"):
                    raise PsaError(f"Autotask knows no zone for {self.username}; set AUTOTASK_URL", permanent=True)
                _ZONES[name] = str(zone["url"]).rstrip("/") + "/V1.0/"
            return _ZONES[name]

    def _item(self, entity: str, record_id: int) -> dict[str, Any]:
        found = self._call("GET", f"{entity}/{record_id}")[0]
        item = found.get("item") if isinstance(found, dict) else None
        if not isinstance(item, dict):
            raise PsaNotFound(f"Autotask has no {entity} {record_id}")
        return item

    def _query(self, entity: str, conditions: list[dict[str, Any]], limit: int | None = None) -> list[dict[str, Any]]:
        """Every page (or the first ``limit`` rows) of a query; conditions are all required."""
        body = {"filter": conditions, "MaxRecords": min(limit or PAGE_SIZE, PAGE_SIZE)}
        page, _ = self._call("POST", f"{entity}/query", json_body=body)
        rows: list[dict[str, Any]] = []
        while True:
            rows.extend(page.get("items") or [])
            if limit is not None and len(rows) >= limit:
                return rows[:limit]
            following = (page.get("pageDetails") or {}).get("nextPageUrl")
            if not following or not page.get("items"):
                return rows
            page, _ = self.http.call("GET", following)


_ZONES: dict[tuple[str, str], str] = {}  # (zone lookup, user) -> the zone's API URL
_ZONES_LOCK = threading.Lock()


def _where(field: str, op: str, value: Any) -> dict[str, Any]:
    return {"op": op, "field": field, "value": value}


def _words(body: Any, text: str) -> str | None:
    """Autotask's error body: ``{"errors": ["...", ...]}``."""
    if isinstance(body, dict) and body.get("errors"):
        return "; ".join(str(e) for e in body["errors"])
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return text.strip()[:300] or None


def _refused(status: int, body: Any) -> bool:
    """Autotask answers a broken business rule as 500 with its reasons: refused, not down."""
    return status == 500 and isinstance(body, dict) and bool(body.get("errors"))


def _missing(status: int, body: Any) -> bool:
    """Autotask says a record to delete is not there as a 500 with these words, not a 404."""
    return status == 500 and isinstance(body, dict) and any(NO_RECORD in str(e) for e in body.get("errors") or [])


def _reference(notes: object) -> str | None:
    text = str(notes or "")
    at = text.find(REFERENCE)
    return text[at + len(REFERENCE) :].split()[0] if at >= 0 and text[at + len(REFERENCE) :].strip() else None


def _number(value: str, what: str) -> int:
    return number(value, "Autotask", what)


def _company(row: dict[str, Any]) -> Company:
    return Company(str(row["id"]), str(row.get("companyNumber") or row["id"]), str(row.get("companyName") or ""))


def _agreement(row: dict[str, Any]) -> Agreement:
    return Agreement(
        id=str(row["id"]),
        name=str(row.get("contractName") or ""),
        company_id=str(row.get("companyID") or ""),
        kind=f"contract type {row.get('contractType')}" if row.get("contractType") is not None else "",
        active=row.get("status") in (None, 1),
    )
