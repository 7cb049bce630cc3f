"""ConnectWise PSA (Manage) over its REST API, v3.0.

- Base URL ``CONNECTWISE_URL``, e.g. ``https://na.myconnectwise.net/v4_6_release/apis/3.0``.
- Basic auth ``{company}+{public key}:{private key}`` and a ``clientId`` header.
- Lists take ``conditions``, ``page`` and ``pageSize`` (at most 1,000) and say the next page in a
  ``Link`` header; errors come as ``{"code", "message", "errors": [{"code", "message", "field"}]}``.
- Our reference rides in a time entry's ``mobileGuid`` (a GUID field of ``TimeEntry`` in ConnectWise's
  OpenAPI description) and, should a ConnectWise version not keep it, in ``internalNotes`` too
  (``blocktime:<reference>``, never shown to the client): a look-up tries the first, then the second,
  so a create that timed out after ConnectWise stored it is never made twice.
- A block sold here (issue 26) is an agreement addition (``POST /finance/agreements/{id}/additions``):
  the product a block is sold as (``client set acme psa-product 12`` or ``PSA_PRODUCT_ID``; ConnectWise
  requires one), ``quantity`` in hours, ``unitPrice`` (the block's price per hour, when it has one),
  ``billCustomer`` ``Billable``, ``effectiveDate`` (the block's start); our reference rides in its
  ``serialNumber`` (``blocktime:<reference>``, at most 50 characters, not printed on invoices). A void
  sets the addition's ``cancelledDate``.
- A technician is the member whose ``primaryEmail`` (the e-mail ConnectWise names by the member's
  ``defaultEmail``: office, mobile or home) is their Slack e-mail, else whose ``officeEmail`` is (what
  integrations commonly match).

Numbers are read as Decimal (hours and prices are never floats here)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx

from bot.config import Settings
from bot.domain.followups import Followup, with_reference
from bot.domain.psa_blocks import PsaBlock, ours
from bot.domain.psa_records import BILLED_PER, PrepaidBlock, PsaTime, TheirTime, cycle_holding, minutes_of_hours
from bot.psa import Agreement, Company, PsaNotFound
from bot.psa.http import VendorHttp, day, money, number, parse_stamp, pooled, stamp

PAGE_SIZE = 1000
ACCEPT = "application/vnd.connectwise.com+json; version=2022.1"
NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')
HOUR_UNITS = ("hour", "hours", "hr", "hrs")
REFERENCE = "blocktime:"  # internalNotes carries "blocktime:<our reference>"
EMAIL_FIELDS = ("primaryEmail", "officeEmail")
# a follow-up's record and the field that carries our reference
FOLLOWUP_RECORDS = {"activity": ("sales/activities", "mobileGuid"), "ticket": ("service/tickets", "externalXRef")}


class ConnectWise:
    name = "ConnectWise PSA"
    needs_ticket = False
    needs_product = True  # an agreement addition is of a product

    def __init__(
        self,
        base_url: str,
        company: str,
        public_key: str,
        private_key: str,
        client_id: str,
        timeout: float = 15.0,
        interactive: bool = False,
    ) -> None:
        base = base_url.rstrip("/") + "/"
        user = f"{company}+{public_key}"
        client = pooled(
            ("connectwise", base, user, private_key, client_id, timeout),
            lambda: httpx.Client(
                base_url=base,
                auth=httpx.BasicAuth(user, private_key),
                headers={"clientId": client_id, "Accept": ACCEPT, "User-Agent": "blocktime"},
                timeout=timeout,
            ),
        )
        self.http = VendorHttp("ConnectWise", client, timeout, interactive, _words)

    @classmethod
    def from_settings(cls, settings: Settings, interactive: bool = False) -> ConnectWise:
        assert settings.connectwise_url and settings.connectwise_company  # checked by Settings
        return cls(
            settings.connectwise_url,
            settings.connectwise_company,
            settings.connectwise_public_key or "",
            settings.connectwise_private_key or "",
            settings.connectwise_client_id or "",
            settings.psa_timeout_seconds,
            interactive,
        )

    # -- what the interface asks -------------------------------------------------------------------

    def whoami(self) -> str:
        info = self._get("system/info")
        return str(info.get("version") or "unknown version")

    def companies(self, name: str) -> list[Company]:
        text = _quoted(name)
        rows = self._list(
            "company/companies",
            f'name like "{text}%" or identifier like "{text}%"',
            fields="id,identifier,name",
            limit=25,
        )
        return [_company(row) for row in rows]

    def company(self, company_id: str) -> Company:
        return _company(self._get(f"company/companies/{_number(company_id, 'company')}"))

    def agreements(self, company_id: str) -> list[Agreement]:
        rows = self._list("finance/agreements", f"company/id={_number(company_id, 'company')}")
        return [_agreement(row) for row in rows]

    def agreement(self, agreement_id: str) -> Agreement:
        return _agreement(self._get(f"finance/agreements/{_number(agreement_id, 'agreement')}"))

    def member_by_email(self, email: str) -> str | None:
        for field in EMAIL_FIELDS:
            rows = self._list("system/members", f'{field}="{_quoted(email)}"', fields="id,identifier", limit=2)
            if rows:
                return str(rows[0]["id"])
        return None

    def member(self, member_id: str) -> str:
        row = self._get(f"system/members/{_number(member_id, 'member')}")
        names = " ".join(str(row.get(k) or "") for k in ("firstName", "lastName")).strip()
        return names or str(row.get("identifier") or member_id)

    def work_type_exists(self, work_type_id: str) -> bool:
        try:
            self._get(f"time/workTypes/{_number(work_type_id, 'work type')}")
            return True
        except PsaNotFound:
            return False

    def find_time(self, reference: str, tickets: Sequence[str] = ()) -> str | None:
        for conditions in (
            f'mobileGuid="{_quoted(reference)}"',
            f'internalNotes contains "{REFERENCE}{_quoted(reference)}"',
        ):
            rows = self._list("time/entries", conditions, fields="id", limit=2)
            if rows:
                return str(rows[0]["id"])
        return None

    def create_time(self, time_: PsaTime) -> str:
        body: dict[str, Any] = {
            "company": {"id": int(time_.company_id)},
            "mobileGuid": time_.reference,
            "internalNotes": REFERENCE + time_.reference,  # set once: an edit keeps what staff add there
            **self._time_fields(time_),
        }
        created = self._call("POST", "time/entries", json_body=body)
        return str(created["id"])

    def update_time(self, psa_id: str, time_: PsaTime) -> str:
        """Every field again; an edit onto another ticket moves the entry there (one that drops its
        ticket stays where it is: ConnectWise keeps a charged entry's charge)."""
        patch = [{"op": "replace", "path": path, "value": value} for path, value in self._time_fields(time_).items()]
        self._call("PATCH", f"time/entries/{_number(psa_id, 'time entry')}", json_body=patch)
        return psa_id

    def delete_time(self, psa_id: str) -> None:
        self._call("DELETE", f"time/entries/{_number(psa_id, 'time entry')}")

    def times(self, agreement_id: str, start: datetime, end: datetime) -> list[TheirTime]:
        conditions = (
            f"agreement/id={_number(agreement_id, 'agreement')} "
            f"and timeStart>=[{stamp(start)}] and timeStart<[{stamp(end)}]"
        )
        return [
            TheirTime(
                psa_id=str(row["id"]),
                reference=row.get("mobileGuid") or _reference(row.get("internalNotes")),
                start=parse_stamp(row["timeStart"]),
                minutes=minutes_of_hours(row.get("actualHours") or 0),
                member=str((row.get("member") or {}).get("identifier") or ""),
                notes=str(row.get("notes") or ""),
            )
            for row in self._list("time/entries", conditions)
        ]

    def prepaid_blocks(self, agreement_id: str, today: date) -> list[PrepaidBlock]:
        """The agreement's hours limit (``applicationLimit`` in ``Hours``) and its additions sold in
        hours. The limit applies per ``applicationCycle`` (a monthly 10 h agreement: 10 h each month),
        so it is offered as one block of the cycle holding ``today``, from its first to its last day,
        named by the cycle's start (each cycle is imported once); its price is ``billAmount`` (per
        billing cycle) when the agreement bills once per application cycle, else none is said."""
        number = _number(agreement_id, "agreement")
        agreement = self._get(f"finance/agreements/{number}")
        end = day(agreement.get("endDate"))
        found = []
        limit = agreement.get("applicationLimit")
        if agreement.get("applicationUnits") == "Hours" and limit and not agreement.get("applicationUnlimitedFlag"):
            found.append(_cycle_block(agreement, number, today))
        for addition in self._list(f"finance/agreements/{number}/additions", None):
            unit = str(addition.get("uom") or "").strip().lower()
            if unit not in HOUR_UNITS or addition.get("cancelledDate") or not addition.get("quantity"):
                continue
            quantity = Decimal(str(addition["quantity"]))
            price = addition.get("unitPrice")
            found.append(
                PrepaidBlock(
                    f"addition:{addition['id']}",
                    minutes_of_hours(quantity),
                    day(addition.get("effectiveDate")),
                    end,
                    money(Decimal(str(price)) * quantity if price is not None else None),
                    str(
                        addition.get("description")
                        or (addition.get("product") or {}).get("identifier")
                        or f"addition {addition['id']}"
                    ),
                    ours=ours(addition.get("serialNumber")),
                )
            )
        return found

    # -- a low balance's follow-up ------------------------------------------------------------------

    def find_followup(self, followup: Followup) -> str | None:
        """An activity carries our reference in ``mobileGuid``, a ticket in ``externalXRef``."""
        path, field = FOLLOWUP_RECORDS[followup.kind]
        rows = self._list(path, f'{field}="{_quoted(followup.reference)}"', fields="id", limit=2)
        return str(rows[0]["id"]) if rows else None

    def create_followup(self, followup: Followup) -> str:
        """A sales activity for the account manager (``POST /sales/activities``: ``name``, ``company``,
        ``assignTo``, ``notes``), or a service ticket on the follow-up board (``POST /service/tickets``:
        ``summary``, ``board``, ``company``, ``initialDescription``)."""
        path, field = FOLLOWUP_RECORDS[followup.kind]
        company = {"id": _number(followup.company_id, "company")}
        text = with_reference(followup.details, followup.reference)
        body: dict[str, Any]
        if followup.kind == "activity":
            body = {"name": followup.summary, "company": company, "notes": text}
            if followup.member_id:
                body["assignTo"] = {"id": _number(followup.member_id, "member")}
        else:
            body = {"summary": followup.summary, "company": company, "initialDescription": text}
            if followup.board:
                board = followup.board.strip()
                body["board"] = {"id": int(board)} if board.isdigit() else {"name": board}
        body[field] = followup.reference
        created = self._call("POST", path, json_body=body)
        return str(created["id"])

    # -- blocks sold here (issue 26) ------------------------------------------------------------

    def find_block(self, block: PsaBlock) -> str | None:
        agreement = _number(block.agreement_id, "agreement")
        rows = self._list(
            f"finance/agreements/{agreement}/additions", f'serialNumber="{_quoted(block.tag)}"', fields="id", limit=2
        )
        return f"addition:{rows[0]['id']}" if rows else None

    def create_block(self, block: PsaBlock) -> str:
        assert block.product_id is not None  # the service refuses a block without a product first
        body: dict[str, Any] = {
            "product": {"id": _number(block.product_id, "product")},
            "quantity": float(block.hours),  # JSON has no decimals; hours with 2 places
            "billCustomer": "Billable",
            "effectiveDate": f"{block.start_on.isoformat()}T00:00:00Z",
            "description": block.note,
            "serialNumber": block.tag,
        }
        if block.hourly_rate is not None:
            body["unitPrice"] = float(block.hourly_rate)
        agreement = _number(block.agreement_id, "agreement")
        created = self._call("POST", f"finance/agreements/{agreement}/additions", json_body=body)
        return f"addition:{created['id']}"

    def void_block(self, psa_id: str, block: PsaBlock) -> None:
        assert block.voided_on is not None
        agreement = _number(block.agreement_id, "agreement")
        addition = _number(psa_id.removeprefix("addition:"), "addition")
        patch = [{"op": "replace", "path": "cancelledDate", "value": f"{block.voided_on.isoformat()}T00:00:00Z"}]
        self._call("PATCH", f"finance/agreements/{agreement}/additions/{addition}", json_body=patch)

    def update_block(self, psa_id: str, block: PsaBlock) -> None:
        """An agreement addition has no paid flag: a block's payment is ours; nothing is sent."""

    # -- HTTP -----------------------------------------------------------------------------------

    @staticmethod
    def _time_fields(time_: PsaTime) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "member": {"id": int(time_.member_id)},
            "agreement": {"id": int(time_.agreement_id)},
            "timeStart": stamp(time_.start),
            "timeEnd": stamp(time_.end),
            "actualHours": float(round(Decimal(time_.minutes) / 60, 2)),  # JSON has no decimals; 2 places
            "billableOption": "Billable" if time_.billable else "DoNotBill",
            "notes": time_.notes,
        }
        if time_.ticket_id is not None:
            fields["chargeToType"], fields["chargeToId"] = "ServiceTicket", _number(time_.ticket_id, "ticket")
        if time_.work_type_id:
            fields["workType"] = {"id": int(time_.work_type_id)}
        if time_.work_role_id:
            fields["workRole"] = {"id": int(time_.work_role_id)}
        return fields

    def _get(self, path: str) -> dict[str, Any]:
        found = self._call("GET", path)
        assert isinstance(found, dict)
        return found

    def _list(
        self, path: str, conditions: str | None, fields: str | None = None, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Every page (or the first ``limit`` rows) of a list."""
        params: dict[str, Any] = {"page": 1, "pageSize": min(limit or PAGE_SIZE, PAGE_SIZE)}
        if conditions:
            params["conditions"] = conditions
        if fields:
            params["fields"] = fields
        rows: list[dict[str, Any]] = []
        url: str | None = path
        query: dict[str, Any] | None = params
        while url:
            page, response = self._call_raw("GET", url, params=query)
            assert isinstance(page, list)
            rows.extend(page)
            if limit is not None and len(rows) >= limit:
                return rows[:limit]
            following = NEXT_LINK.search(response.headers.get("Link", ""))
            # the next page's address carries its whole query (httpx would drop it for params={})
            url, query = (following.group(1), None) if following and page else (None, None)
        return rows

    def _call(self, method: str, path: str, json_body: Any = None) -> Any:
        return self.http.call(method, path, json_body=json_body)[0]

    def _call_raw(
        self, method: str, url: str, params: dict[str, Any] | None = None, json_body: Any = None
    ) -> tuple[Any, httpx.Response]:
        return self.http.call(method, url, params=params, json_body=json_body)


def _words(body: Any, text: str) -> str | None:
    """ConnectWise's error body: ``{"code", "message", "errors": [{"code", "message", "field"}]}``."""
    if not isinstance(body, dict):
        return None
    message = str(body.get("message") or "error")
    details = [
        f"{e.get('field')}: {e.get('message')}" if e.get("field") else str(e.get("message"))
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]
    return message + (f" ({'; '.join(details)})" if details else "")


def _reference(notes: object) -> str | None:
    words = str(notes or "").split()
    return next((w[len(REFERENCE) :] for w in words if w.startswith(REFERENCE) and len(w) > len(REFERENCE)), None)


def _cycle_block(agreement: dict[str, Any], number: int, today: date) -> PrepaidBlock:
    """The agreement's hours of the application cycle holding ``today`` (the whole agreement when it
    names no cycle)."""
    name = str(agreement.get("name") or f"agreement {number}")
    start, end = day(agreement.get("startDate")), day(agreement.get("endDate"))
    cycle = str(agreement.get("applicationCycle") or "")
    hours = minutes_of_hours(agreement["applicationLimit"])
    span = cycle_holding(cycle, start, end, today) if cycle and start else None
    if span is None:
        return PrepaidBlock(f"agreement:{number}", hours, start, end, money(agreement.get("billAmount")), name)
    first, last = span
    billing = str((agreement.get("billingCycle") or {}).get("name") or "").strip()
    per_cycle = billing.lower() == BILLED_PER.get(cycle)
    price = money(agreement.get("billAmount")) if per_cycle else None
    words = f"{name}, {cycle} {first:%Y-%m-%d} to {last:%Y-%m-%d}"
    if not per_cycle:
        words += f" (no price: billed {billing or 'on no cycle'}, hours per {cycle})"
    return PrepaidBlock(f"agreement:{number}:{first.isoformat()}", hours, first, last, price, words)


def _quoted(text: str) -> str:
    """A value inside a conditions string: no quotes or wildcards of its own."""
    return re.sub(r'["%\\]', "", text).strip()


def _number(value: str, what: str) -> int:
    return number(value, "ConnectWise", what)


def _company(row: dict[str, Any]) -> Company:
    return Company(str(row["id"]), str(row.get("identifier") or ""), str(row.get("name") or ""))


def _agreement(row: dict[str, Any]) -> Agreement:
    return Agreement(
        id=str(row["id"]),
        name=str(row.get("name") or ""),
        company_id=str((row.get("company") or {}).get("id") or ""),
        kind=str((row.get("type") or {}).get("name") or ""),
        active=row.get("agreementStatus") in (None, "Active") and not row.get("cancelledFlag"),
    )
