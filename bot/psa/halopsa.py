"""HaloPSA over its REST API.

- ``HALOPSA_URL`` is the instance, e.g. ``https://acme.halopsa.com``: the API is at ``/api``, the
  authorisation server at ``/auth`` (or ``HALOPSA_AUTH_URL``); hosted instances name their tenant
  (``HALOPSA_TENANT``). An API application's client id and secret sign in with OAuth2's client
  credentials grant (scope ``all``); the bearer token is kept until it expires, and fetched again
  when Halo says 401.
- Halo records time only as an action on a ticket: ``timetaken`` hours, the agent (``who_agentid``),
  the contract that pays (``actioncontractid``), the start and end (``actionarrivaldate``,
  ``actioncompletiondate``), billable or not, the charge rate (our work type), hidden from the end
  user. Our reference rides in ``actionuserdefineddata``: before creating an action, a retry looks
  for it among the ticket's actions.
- A block sold here (issue 26) is a pre-pay record on the client (``POST /ClientPrepay``, a list of
  Halo's ``PrepayHistory``: ``client_id``, ``date``, ``hours``, ``amount``, ``description``,
  ``expirydate``); our reference rides at the end of its ``description`` (``blocktime:<reference>``),
  read back from ``GET /ClientPrepay?client_id=``. A void deletes the record
  (``DELETE /ClientPrepay/{id}``): Halo's pre-pay history has no cancelled state. (Halo's reference
  names these fields; how its list answer is wrapped is not documented there, so a bare list and an
  object holding one list are both read.)
- Lists of tickets page with ``pageinate``, ``page_size`` and ``page_no`` and say ``record_count``.

Numbers are read as Decimal (hours and prices are never floats here)."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx

from bot.config import Settings
from bot.domain.followups import REFERENCE, Followup, with_reference
from bot.domain.psa_blocks import PsaBlock, carries
from bot.domain.psa_records import PrepaidBlock, PsaTime, TheirTime, minutes_of_hours
from bot.psa import Agreement, Company, PsaAccessRefused, PsaError, PsaNotFound
from bot.psa.http import VendorHttp, day, failure_of, money, number, parse_stamp, pooled, stamp

PAGE_SIZE = 100
LOOKUP_TYPES = 11  # Halo's lookup of lookups: their ids and names
EARLY = 60.0  # a token is fetched again this many seconds before it expires


class HaloPsa:
    name = "HaloPSA"
    needs_ticket = True

    def __init__(
        self,
        url: str,
        client_id: str,
        client_secret: str,
        auth_url: str | None = None,
        tenant: str | None = None,
        timeout: float = 15.0,
        interactive: bool = False,
    ) -> None:
        base = url.rstrip("/")
        api = base if base.endswith("/api") else base + "/api"
        token_url = (auth_url or api[: -len("/api")] + "/auth").rstrip("/") + "/token"
        client = pooled(  # its sign-in (and token) shared by the whole process, like the client
            ("halopsa", api, token_url, tenant, client_id, client_secret, timeout),
            lambda: httpx.Client(
                base_url=api + "/",
                auth=_ClientCredentials(token_url, tenant, client_id, client_secret, timeout),
                headers={"User-Agent": "blocktime"},
                timeout=timeout,
            ),
        )
        self.http = VendorHttp("HaloPSA", client, timeout, interactive, _words)

    @classmethod
    def from_settings(cls, settings: Settings, interactive: bool = False) -> HaloPsa:
        assert settings.halopsa_url  # checked by Settings
        return cls(
            settings.halopsa_url,
            settings.halopsa_client_id or "",
            settings.halopsa_client_secret or "",
            settings.halopsa_auth_url,
            settings.halopsa_tenant,
            settings.psa_timeout_seconds,
            interactive,
        )

    # -- what the interface asks -------------------------------------------------------------------

    def whoami(self) -> str:
        me = self._get("Agent/me")
        return f"signed in as {me.get('name') or me.get('id')}"

    def companies(self, name: str) -> list[Company]:
        found = self._get("Client", {"search": name.strip(), "count": 25})
        return [_company(row) for row in found.get("clients") or []]

    def company(self, company_id: str) -> Company:
        return _company(self._get(f"Client/{_number(company_id, 'client')}"))

    def agreements(self, company_id: str) -> list[Agreement]:
        found = self._get("ClientContract", {"client_id": _number(company_id, "client")})
        return [_agreement(row) for row in found.get("contracts") or []]

    def agreement(self, agreement_id: str) -> Agreement:
        return _agreement(self._get(f"ClientContract/{_number(agreement_id, 'contract')}"))

    def member_by_email(self, email: str) -> str | None:
        agents = self.http.call("GET", "Agent")[0] or []
        wanted = email.strip().casefold()
        for agent in agents:
            if str(agent.get("email") or "").strip().casefold() == wanted and not agent.get("isdisabled"):
                return str(agent["id"])
        return None

    def member(self, member_id: str) -> str:
        agent = self._get(f"Agent/{_number(member_id, 'agent')}")
        return str(agent.get("name") or member_id)

    def work_type_exists(self, work_type_id: str) -> bool:
        """Whether Halo has this charge rate (the counterpart of our work types): its lookup is found
        by name among Halo's lookup types."""
        kinds = self.http.call("GET", "Lookup", params={"lookupid": LOOKUP_TYPES})[0] or []
        found = [k["id"] for k in kinds if "charge rate" in str(k.get("name") or "").lower()]
        if not found:
            raise PsaError("HaloPSA lists no charge rate lookup, so work types cannot be checked", permanent=True)
        rates = self.http.call("GET", "Lookup", params={"lookupid": found[0]})[0] or []
        return any(str(rate.get("id")) == str(work_type_id) for rate in rates)

    def find_time(self, reference: str, tickets: Sequence[str] = ()) -> str | None:
        """Our action among the actions of the tickets the chain named (an edit may have moved it)."""
        for ticket in tickets:
            if not ticket.isdigit():
                continue  # not a Halo ticket id: nothing was stored there
            for action in self._actions(ticket):
                if action.get("actionuserdefineddata") == reference:
                    return str(action["id"])
        return None

    def create_time(self, time_: PsaTime) -> str:
        created = self.http.call("POST", "Actions", json_body=[self._action(time_)])[0]
        return str(_one(created)["id"])

    def update_time(self, psa_id: str, time_: PsaTime) -> str:
        """Halo saves by upsert: an action posted with the id of one deleted meanwhile may come back
        as a new action; its id is what the answer says."""
        saved = self.http.call("POST", "Actions", json_body=[{"id": _number(psa_id, "action"), **self._action(time_)}])
        return str(_one(saved[0])["id"])

    def delete_time(self, psa_id: str) -> None:
        self.http.call("DELETE", f"Actions/{_number(psa_id, 'action')}")

    def times(self, agreement_id: str, start: datetime, end: datetime) -> list[TheirTime]:
        """The contract's client's tickets with an action since ``start``; their actions on the contract."""
        contract = _number(agreement_id, "contract")
        client = self._get(f"ClientContract/{contract}").get("client_id")
        found = []
        for ticket in self._tickets(client, start):
            for action in self._actions(str(ticket["id"])):
                if str(action.get("actioncontractid") or "") != str(contract) or not action.get("timetaken"):
                    continue
                began = parse_stamp(action.get("actionarrivaldate") or action.get("datetime"))
                if start <= began < end:
                    found.append(
                        TheirTime(
                            psa_id=str(action["id"]),
                            reference=action.get("actionuserdefineddata") or None,
                            start=began,
                            minutes=minutes_of_hours(action["timetaken"]),
                            member=str(action.get("who") or action.get("who_agentid") or ""),
                            notes=str(action.get("note") or ""),
                        )
                    )
        return found

    def prepaid_blocks(self, agreement_id: str, today: date) -> list[PrepaidBlock]:
        """The contract's prepaid hours (its hours per period), offered as one block."""
        contract = self._get(f"ClientContract/{_number(agreement_id, 'contract')}")
        hours = contract.get("chargehoursperperiod")
        if not hours:
            return []
        return [
            PrepaidBlock(
                f"contract:{contract['id']}",
                minutes_of_hours(hours),
                day(contract.get("start_date")),
                day(contract.get("end_date")),
                money(contract.get("periodchargeamount")),
                str(contract.get("ref") or f"contract {contract['id']}"),
            )
        ]

    # -- a low balance's follow-up ------------------------------------------------------------------

    def find_followup(self, followup: Followup) -> str | None:
        """The client's ticket whose details carry our reference (Halo searches a ticket's text)."""
        params = {"client_id": _number(followup.company_id, "client"), "search": REFERENCE + followup.reference}
        for ticket in self._get("Tickets", params).get("tickets") or []:
            if REFERENCE + followup.reference in str(ticket.get("details") or ""):
                return str(ticket["id"])
        return None

    def create_followup(self, followup: Followup) -> str:
        """A ticket on the client (``POST /Tickets``: ``summary``, ``details``, ``client_id``), given to the
        account manager's agent when known. Halo has no activities: an activity is a ticket too."""
        ticket: dict[str, Any] = {
            "summary": followup.summary,
            "details": with_reference(followup.details, followup.reference),
            "client_id": _number(followup.company_id, "client"),
        }
        if followup.member_id:
            ticket["agent_id"] = _number(followup.member_id, "agent")
        created = self.http.call("POST", "Tickets", json_body=[ticket])[0]
        return str(_one(created)["id"])

    # -- blocks sold here (issue 26) ------------------------------------------------------------

    def find_block(self, block: PsaBlock) -> str | None:
        client = _number(block.company_id, "client")
        found = self.http.call("GET", "ClientPrepay", params={"client_id": client})[0]
        rows = (
            found if isinstance(found, list) else next((v for v in (found or {}).values() if isinstance(v, list)), [])
        )
        mine = [row for row in rows if carries(row.get("description"), block.reference)]
        return f"prepay:{mine[0]['id']}" if mine else None

    def create_block(self, block: PsaBlock) -> str:
        record: dict[str, Any] = {
            "client_id": _number(block.company_id, "client"),
            "date": f"{block.purchased_on.isoformat()}T00:00:00",
            "hours": float(block.hours),  # JSON has no decimals; 2 places
            "description": f"{block.note} {block.tag}",
        }
        if block.price is not None:
            record["amount"] = float(block.price)
        if block.expires_on is not None:
            record["expirydate"] = f"{block.expires_on.isoformat()}T23:59:59"
        created = self.http.call("POST", "ClientPrepay", json_body=[record])[0]
        return f"prepay:{_one(created)['id']}"

    def void_block(self, psa_id: str, block: PsaBlock) -> None:
        self.http.call("DELETE", f"ClientPrepay/{_number(psa_id.removeprefix('prepay:'), 'pre-pay record')}")

    def update_block(self, psa_id: str, block: PsaBlock) -> None:
        """A pre-pay record has no paid flag: a block's payment is ours; nothing is sent."""

    # -- HTTP -----------------------------------------------------------------------------------

    @staticmethod
    def _action(time_: PsaTime) -> dict[str, Any]:
        assert time_.ticket_id is not None  # the service refuses ticketless time for Halo
        hours = float(round(Decimal(time_.minutes) / 60, 2))  # JSON has no decimals; 2 places
        action: dict[str, Any] = {
            "ticket_id": _number(time_.ticket_id, "ticket"),
            "who_agentid": int(time_.member_id),
            "note": time_.notes,
            "timetaken": hours,
            "nonbilltime": 0 if time_.billable else hours,
            "actisbillable": time_.billable,
            "actioncontractid": int(time_.agreement_id),
            "actionarrivaldate": stamp(time_.start),
            "actioncompletiondate": stamp(time_.end),
            "hiddenfromuser": True,  # a technician's note is not shown to the client's users
            "actionuserdefineddata": time_.reference,
        }
        if time_.work_type_id:
            action["chargerate"] = int(time_.work_type_id)
        return action

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        found = self.http.call("GET", path, params=params)[0]
        if not isinstance(found, dict):
            raise PsaNotFound(f"HaloPSA has no {path}")
        return found

    def _actions(self, ticket_id: str) -> list[dict[str, Any]]:
        params = {"ticket_id": _number(ticket_id, "ticket"), "excludesys": "true"}
        return list(self._get("Actions", params).get("actions") or [])

    def _tickets(self, client: object, since: datetime) -> list[dict[str, Any]]:
        """Every page of the client's tickets with an action since ``since``."""
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            params = {
                "client_id": client,
                "datesearch": "lastactiondate",
                "startdate": stamp(since),
                "pageinate": "true",
                "page_size": PAGE_SIZE,
                "page_no": page,
            }
            found = self._get("Tickets", params)
            chunk = list(found.get("tickets") or [])
            rows.extend(chunk)
            if not chunk or len(rows) >= int(found.get("record_count") or 0):
                return rows
            page += 1


class _ClientCredentials(httpx.Auth):
    """OAuth2 client credentials: a bearer token, kept until shortly before it expires, fetched again
    when Halo answers 401 (revoked, or the server restarted)."""

    def __init__(self, url: str, tenant: str | None, client_id: str, secret: str, timeout: float) -> None:
        self.url, self.tenant, self.client_id, self.secret, self.timeout = url, tenant, client_id, secret, timeout
        self._lock = threading.Lock()
        self._token: str | None = None
        self._until = 0.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._current(False)}"
        response = yield request
        if response.status_code == 401:
            request.headers["Authorization"] = f"Bearer {self._current(True)}"
            yield request

    def _current(self, again: bool) -> str:
        with self._lock:
            if again or self._token is None or time.monotonic() >= self._until:
                self._token, lifetime = self._fetch()
                self._until = time.monotonic() + max(0.0, lifetime - EARLY)
            return self._token

    def _fetch(self) -> tuple[str, float]:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.secret,
            "scope": "all",
        }
        params = {"tenant": self.tenant} if self.tenant else None
        try:
            response = httpx.post(self.url, data=form, params=params, timeout=self.timeout)
        except httpx.TimeoutException:
            raise PsaError(f"HaloPSA's sign-in did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as error:
            raise PsaError(f"HaloPSA's sign-in is unreachable ({type(error).__name__})") from None
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            words = _words(body, response.text) or response.reason_phrase
            if response.status_code in (400, 401):  # a wrong id or secret: not fixed by waiting
                raise PsaAccessRefused(f"HaloPSA refused the sign-in ({response.status_code}: {words})")
            raise failure_of(response.status_code, f"HaloPSA's sign-in failed ({response.status_code}: {words})")
        token = response.json()
        return str(token["access_token"]), float(token.get("expires_in") or 3600)


def _words(body: Any, text: str) -> str | None:
    """Halo's error bodies: a JSON string, an OAuth error, or an object with a message."""
    if isinstance(body, str):
        return body
    if isinstance(body, dict):
        for key in ("error_description", "message", "Message", "error", "title"):
            if body.get(key):
                return str(body[key])
    return text.strip()[:300] or None


def _one(found: Any) -> dict[str, Any]:
    """A POST of one record answers that record (some versions: a list of one)."""
    if isinstance(found, list):
        found = found[0] if found else None
    if not isinstance(found, dict) or "id" not in found:
        raise PsaError("HaloPSA answered a create without the record's id")
    return found


def _number(value: str, what: str) -> int:
    return number(value, "HaloPSA", what)


def _company(row: dict[str, Any]) -> Company:
    return Company(str(row["id"]), str(row.get("id")), str(row.get("name") or ""))


def _agreement(row: dict[str, Any]) -> Agreement:
    return Agreement(
        id=str(row["id"]),
        name=str(row.get("ref") or ""),
        company_id=str(row.get("client_id") or ""),
        kind=str(row.get("billingdescription") or "contract"),
        active=not row.get("expired") and row.get("started", True) is not False,
    )
