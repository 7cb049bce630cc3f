"""The outbox dispatcher: delivers pending messages, at least once, with as small a window for a
repeat as the design allows.

Each step:
1. pick pending rows that are due and not claimed (or whose claim expired: a crashed worker);
2. claim a row by a conditional update (``... WHERE id = ? AND claim is free``); only the worker whose
   update changed one row delivers it, so several processes never send one message twice;
3. deliver outside any transaction;
4. mark it sent at once (or schedule a retry: exponential backoff with jitter, or Slack's Retry-After).

A repeat can only happen if the process dies between 3 and 4 (the destination accepted the message
but the "sent" update never committed): then the claim expires and the message is sent again. That
window is one database round trip; webhook bodies carry the outbox ``id`` and e-mails a stable
Message-ID so receivers can drop such a repeat."""

from __future__ import annotations

import json
import logging
import os
import random
import socket
from collections.abc import Mapping
from datetime import timedelta

from bot.jobs.transports import Delivery, DeliveryFailed, Transport
from bot.services import Context

log = logging.getLogger("blocktime.dispatcher")
CLAIM_SECONDS = 120
BASE_DELAY = 5.0
MAX_DELAY = 120.0  # an alert must not wait long once the destination is back


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def backoff(attempts: int, rng: random.Random, retry_after: float | None = None) -> float:
    """Seconds until the next try: Retry-After when the server gave one, else exponential with jitter."""
    if retry_after is not None:
        return retry_after + rng.uniform(0, 1)
    ceiling = min(MAX_DELAY, BASE_DELAY * 2 ** max(0, attempts - 1))
    return rng.uniform(ceiling / 2, ceiling)


class Dispatcher:
    def __init__(
        self,
        ctx: Context,
        transports: Mapping[str, Transport],
        worker: str | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.ctx = ctx
        self.transports = transports
        self.worker = worker or worker_name()
        self.rng = rng or random.Random()

    def run_once(self, limit: int = 50) -> int:
        """Deliver what is due now; returns how many were delivered. A destination that fails for a
        reason that may pass (down, slow, rate limiting) gets no more tries in this pass: its other
        messages wait for the next one, and the others' (Slack's alerts while the PSA hangs) go now."""
        delivered = 0
        down: set[str] = set()
        for outbox_id, destination in self._due(limit):
            if destination in down:
                continue
            claimed = self._claim(outbox_id)
            if claimed is None:
                continue
            outcome = self._deliver(*claimed)
            if outcome is True:
                delivered += 1
            elif outcome == "retry":
                down.add(destination)
        return delivered

    def _due(self, limit: int) -> list[tuple[int, str]]:
        with self.ctx.db.unit_of_work(read_only=True) as uow:
            return uow.outbox.due(self.ctx.now(), self.transports, limit)

    def _claim(self, outbox_id: int) -> tuple[str, Delivery] | None:
        now = self.ctx.now()
        with self.ctx.db.unit_of_work() as uow:
            row = uow.outbox.claim(outbox_id, self.worker, now, now + timedelta(seconds=CLAIM_SECONDS))
            if row is None:
                return None
            claimed = (
                row.destination,
                Delivery(row.id, row.target or "", json.loads(row.payload), row.version, row.entry_id),
            )
            uow.commit()
        return claimed

    def _deliver(self, destination: str, delivery: Delivery) -> bool | str:
        """True when delivered; "retry" when the destination may be back later; else False."""
        try:
            ref = self.transports[destination].deliver(delivery)
        except DeliveryFailed as failure:
            if failure.permanent:
                self._failed(delivery, str(failure))
                return False
            self._retry_later(delivery, str(failure), failure.retry_after)
            return "retry"
        except Exception as error:  # a bug in a builder must not stop the other messages
            log.exception("delivery of outbox %s crashed", delivery.outbox_id)
            self._retry_later(delivery, f"crash: {error!r}", None)
            return False
        with self.ctx.db.unit_of_work() as uow:
            sent = uow.outbox.mark_sent(delivery.outbox_id, self.worker, self.ctx.now(), ref or "", delivery.version)
            uow.commit()
        return sent

    def _failed(self, delivery: Delivery, reason: str) -> None:
        with self.ctx.db.unit_of_work() as uow:
            uow.outbox.mark_failed(delivery.outbox_id, self.worker, reason, delivery.version)
            uow.commit()
        log.warning("outbox %s refused by its destination: %s", delivery.outbox_id, reason)

    def _retry_later(self, delivery: Delivery, reason: str, retry_after: float | None) -> None:
        with self.ctx.db.unit_of_work() as uow:
            delay = uow.outbox.retry_later(
                delivery.outbox_id,
                delivery.version,
                self.ctx.now(),
                reason,
                lambda attempts: backoff(attempts, self.rng, retry_after),
            )
            uow.commit()
        if delay is not None:  # else queued again meanwhile: the newer version goes now
            log.warning("outbox %s not delivered (%s); next try in %.0f s", delivery.outbox_id, reason, delay)
