"""A refill that could not run, told to the managers (issue 26, part 3): an entry refused by the
overdraft rule writes nothing, so it crosses no threshold and no refill (auto) or draft can follow it.
The refusal goes to the technician as before; this queues a ``refill_failed`` notice where the client's
alerts go, in a transaction of its own, once a day per client (a technician trying again is not news)."""

from __future__ import annotations

from bot.domain.durations import format_duration
from bot.domain.errors import OutOfHours
from bot.domain.notices import RefillFailed
from bot.domain.refills import policy_of
from bot.services import alerts
from bot.services.context import Actor, Context


def tell_out_of_hours(ctx: Context, actor: Actor, refused: OutOfHours) -> bool:
    """Queue the notice when the client has a refill policy (draft or auto); whether one was queued.
    A client on notify costs nothing more (no transaction is opened)."""
    if refused.refill_mode not in ("draft", "auto"):
        return False
    with ctx.db.unit_of_work() as uow:
        client = uow.clients.by_id(refused.client_id)
        if client is None:  # pragma: no cover - the refusal read it a moment ago
            return False
        policy = policy_of(client.refill_mode, client.refill_minutes, client.refill_paid, client.refill_cap, True)
        if policy.mode == "notify":
            return False
        reason = (
            f"a {format_duration(refused.minutes)} entry by {actor.label} was refused: it would go past the "
            f"overdraft limit with {format_duration(max(refused.left, 0))} left"
        )
        notice = RefillFailed(
            client=client.handle,
            display_name=client.display_name,
            account_manager=client.account_manager,
            rule=policy.rule,
            reason=reason,
            remaining_minutes=refused.left,
            at=ctx.now().isoformat(),
        )
        added = alerts.queue(uow, ctx, notice, client, f"refill_failed:{client.id}:{ctx.today(client.timezone)}")
        uow.commit()
        return added > 0
