"""A low balance opens work in the PSA (issue 26, part 5), through the outbox.

1. :func:`queue_followup` runs in the transaction of the change that crossed a threshold (``ClientBook``'s
   alert): one outbox row (destination ``psa``, kind ``psa_followup``) per crossing, its dedupe key the
   alert's, so a crossing never queues two; none when the client's follow-up is off
   (``client set acme psa-alert``, else ``PSA_ALERT``), no PSA is connected or the client is not linked
   to a PSA company. The row carries the alert's facts and a fresh reference for the PSA's record.
2. :func:`deliver_followup` (the PSA transport, ``bot.jobs.transports.PsaTransport``) opens it: once a
   create was sent (marked on the row before the call), a later attempt first looks for the record by
   our reference, so a create that timed out after the PSA stored it is never made twice.
3. A refusal of the PSA is shown to the managers at once, in its words (a ``psa_followup_failed``
   notice where the client's alerts go); ``blocktime psa retry`` sends the follow-up again."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

from bot.domain.followups import Followup, followup_kind, followup_words
from bot.domain.notices import FollowupRefused
from bot.domain.psa_records import masked
from bot.psa import Psa, PsaError, psa_label
from bot.services import alerts
from bot.services.context import Context
from storage import outbox
from storage.db import UnitOfWork
from storage.psa_chains import CREATE_SENT, DESTINATION
from storage.repos import Client

FOLLOWUP = "psa_followup"  # the outbox row's kind (and its payload's)
log = logging.getLogger("blocktime.psa_followup")


def queue_followup(
    uow: UnitOfWork,
    ctx: Context,
    client: Client,
    facts: Mapping[str, Any],
    key: str,
    refill: Mapping[str, Any] | None = None,
) -> bool:
    """Queue the follow-up of the crossing ``key`` names, in the caller's transaction; whether one was.
    ``facts`` are the alert's (``ThresholdCrossed``); ``refill``, the block a refill added in the same
    change (issue 26, part 3: ``minutes``, ``paid``, ``rule``), makes it say so instead of asking."""
    kind = followup_kind(client.psa_alert, ctx.settings.psa_alert)
    if kind is None or not ctx.settings.psa or not client.psa_company_id:
        return False
    dedupe = f"{FOLLOWUP}:{key}"
    if uow.outbox.key_taken(dedupe):
        return False
    payload = {
        "kind": FOLLOWUP,
        "reference": str(uuid.uuid4()),
        "followup": kind,
        "client_id": client.id,
        CREATE_SENT: False,
        "facts": dict(facts),
        "refill": dict(refill) if refill else None,
    }
    row = outbox.new_row(
        kind=FOLLOWUP,
        destination=DESTINATION,
        now=ctx.now(),
        payload=json.dumps(payload, default=str),
        dedupe_key=dedupe,
        client_id=client.id,
    )
    uow.outbox.add(row)
    uow.after_commit(ctx.db.outbox_written)
    return True


def deliver_followup(ctx: Context, psa: Psa, outbox_id: int, version: int, payload: Mapping[str, Any]) -> str:
    """Open the follow-up a row queued; the PSA record's id. Raises ``PsaError`` (a refusal is
    permanent, and told to the managers first)."""
    try:
        return _Delivery(ctx, psa, outbox_id, payload).open()
    except PsaError as error:
        if error.permanent:
            _tell_managers(ctx, psa, outbox_id, version, payload, str(error))
        raise


class _Delivery:
    def __init__(self, ctx: Context, psa: Psa, outbox_id: int, payload: Mapping[str, Any]) -> None:
        self.ctx, self.psa, self.outbox_id, self.payload = ctx, psa, outbox_id, payload

    def open(self) -> str:
        followup = self._followup()
        if self.payload.get(CREATE_SENT, True):
            found = self.psa.find_followup(followup)
            if found:
                return found
        else:
            with self.ctx.db.unit_of_work() as uow:  # committed before the call: see the module's step 2
                uow.outbox.mark_create_sent(self.outbox_id)
                uow.commit()
        return self.psa.create_followup(followup)

    def _followup(self) -> Followup:
        kind = str(self.payload["followup"])
        facts = self.payload.get("facts") or {}
        with self.ctx.db.unit_of_work(read_only=True) as uow:
            client = uow.clients.by_id(int(self.payload["client_id"]))
            if client is None:
                raise PsaError(f"client {self.payload['client_id']} is not in this database", permanent=True)
            if not client.psa_company_id:
                raise PsaError(
                    f"{client.display_name} has no {self.psa.name} company: run `blocktime psa link {client.handle}`",
                    permanent=True,
                )
            manager = client.account_manager
            mapped = uow.psa.member_of(manager) if manager else None
            member = mapped.member_id if mapped else None
            email = uow.psa.email_of(manager) if manager and mapped is None else None
            company, name, handle = client.psa_company_id, client.display_name, client.handle
        member = member or self._member_by_email(manager, email)
        if kind == "activity" and member is None:
            why = "it has no account manager" if not manager else f"no {self.psa.name} member for <@{manager}>"
            raise PsaError(
                f"an activity for {name} needs its account manager in {self.psa.name}, and {why}"
                + (f" (their Slack e-mail: {masked(email)})" if email else "")
                + f": `client set {handle} manager @someone`, `blocktime psa member <user> <member id>`, "
                f"or `client set {handle} psa-alert ticket`",
                permanent=True,
            )
        summary, details = followup_words(facts, self.ctx.settings.home_url, self.payload.get("refill"))
        settings = self.ctx.settings
        boards = {"connectwise": settings.connectwise_followup_board, "autotask": settings.autotask_followup_queue}
        board = boards.get(settings.psa or "")
        return Followup(
            reference=str(self.payload["reference"]),
            kind=kind,
            company_id=company,
            summary=summary,
            details=details,
            member_id=member,
            board=str(board) if board else None,
            at=self.ctx.now(),
        )

    def _member_by_email(self, user_id: str | None, email: str | None) -> str | None:
        """The account manager's member, found by their Slack e-mail (and kept, as a technician's is)."""
        found = self.psa.member_by_email(email) if user_id and email else None
        if user_id and found:
            with self.ctx.db.unit_of_work() as uow:
                uow.psa.set_member(user_id, found, "email", self.ctx.now())
                uow.commit()
        return found


def _tell_managers(
    ctx: Context, psa: Psa, outbox_id: int, version: int, payload: Mapping[str, Any], error: str
) -> None:
    """The refusal, where the client's alerts go (once per queuing of the follow-up)."""
    with ctx.db.unit_of_work() as uow:
        client = uow.clients.by_id(int(payload["client_id"]))
        if client is None:
            return
        notice = FollowupRefused(
            client=client.handle,
            display_name=client.display_name,
            account_manager=client.account_manager,
            psa=psa_label(ctx.settings) or psa.name,
            followup=str(payload["followup"]),
            error=error,
        )
        added = alerts.queue(uow, ctx, notice, client, f"psa_followup_failed:{outbox_id}:{version}")
        uow.commit()
    if not added:
        log.warning("the follow-up of %s was refused and no alert destination is set: %s", client.handle, error)
