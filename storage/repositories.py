"""Query functions on a unit of work's session: the SQL the use cases need, kept in storage. Each takes
the session (so it joins the caller's transaction) and returns models or plain values."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from storage.models import (
    Block,
    ChannelLink,
    Client,
    ClientAlias,
    Draw,
    Entry,
    LedgerLine,
    OutboxMessage,
    Timer,
    UserRole,
    WorkType,
)


def client_by_handle(session: Session, handle: str, lock: bool = False) -> Client | None:
    """The client whose handle is ``handle`` (re-read, so running figures are current)."""
    query = select(Client).where(Client.handle == handle).execution_options(populate_existing=True)
    return session.scalar(query.with_for_update() if lock else query)


def client_id_by_alias(session: Session, alias: str) -> int | None:
    return session.scalar(select(ClientAlias.client_id).where(ClientAlias.alias == alias))


def locked_client(session: Session, client_id: int) -> Client | None:
    """The client's row, locked for this transaction (``SELECT ... FOR UPDATE`` on PostgreSQL)."""
    return session.get(Client, client_id, with_for_update=True, populate_existing=True)


def active_handles(session: Session) -> list[str]:
    return list(session.scalars(select(Client.handle).where(Client.archived.is_(False))))


def active_client_ids(session: Session) -> list[int]:
    return list(session.scalars(select(Client.id).where(Client.archived.is_(False)).order_by(Client.id)))


def billable_used_since(session: Session, client_id: int, start: date) -> int:
    """Billable minutes of live entries with a work date from ``start`` on."""
    total = session.scalar(
        select(func.coalesce(func.sum(Entry.billable_minutes), 0)).where(
            Entry.client_id == client_id, Entry.work_date >= start, Entry.voided_at.is_(None)
        )
    )
    return int(total or 0)


def unpaid_blocks(session: Session) -> list[Block]:
    query = (
        select(Block)
        .join(Client, Client.id == Block.client_id)
        .where(Block.voided_at.is_(None), Block.paid.is_(False), Client.archived.is_(False))
        .order_by(Block.client_id, Block.number, Block.id)
    )
    return list(session.scalars(query))


def unrenewed_blocks(session: Session) -> list[tuple[int, date, int]]:
    """``(block id, start, months)`` of live blocks with a renewal rule and no renewal yet, oldest first."""
    successor = aliased(Block)
    rows = session.execute(
        select(Block.id, Block.start_on, Block.renew_months)
        .outerjoin(successor, successor.renewal_of_id == Block.id)
        .where(Block.renew_months.is_not(None), Block.voided_at.is_(None), successor.id.is_(None))
        .order_by(Block.start_on, Block.id)
    ).all()
    return [(int(block_id), start, int(months)) for block_id, start, months in rows if months is not None]


def renewal_of(session: Session, block_id: int) -> int | None:
    """The id of the block that renewed ``block_id``, if one did."""
    return session.scalar(select(Block.id).where(Block.renewal_of_id == block_id))


def client(session: Session, client_id: int) -> Client | None:
    return session.get(Client, client_id)


def clients_by_id(session: Session, client_ids: list[int]) -> dict[int, Client]:
    """The given clients by id, in one query."""
    if not client_ids:
        return {}
    return {c.id: c for c in session.scalars(select(Client).where(Client.id.in_(client_ids)))}


def entry(session: Session, entry_id: int) -> Entry | None:
    return session.get(Entry, entry_id)


def clients(session: Session, include_archived: bool = False) -> list[Client]:
    """The clients by handle, archived ones only when asked for."""
    query = select(Client).order_by(Client.handle)
    if not include_archived:
        query = query.where(Client.archived.is_(False))
    return list(session.scalars(query))


def open_blocks(session: Session, client_ids: list[int], used_up_since: date | None = None) -> dict[int, list[Block]]:
    """Each client's live blocks with minutes left (a few per client: the balance's inputs). With
    ``used_up_since``, also the used-up ones that may still be current blocks on that day (the
    denominator of "% left", ``bot.domain.charges.current_block_minutes``, decides): expiring on or
    after it, or never expiring and started no earlier than the oldest block with minutes left."""
    found: dict[int, list[Block]] = {cid: [] for cid in client_ids}
    if not client_ids:
        return found
    holding = aliased(Block)
    run_start = (
        select(func.min(holding.start_on))
        .where(holding.client_id == Block.client_id, holding.voided_at.is_(None), holding.remaining_minutes > 0)
        .scalar_subquery()
    )
    wanted = (
        Block.remaining_minutes > 0
        if used_up_since is None
        else or_(
            Block.remaining_minutes > 0,
            Block.expires_on >= used_up_since,
            and_(Block.expires_on.is_(None), Block.start_on >= run_start),
        )
    )
    rows = session.scalars(select(Block).where(Block.client_id.in_(client_ids), Block.voided_at.is_(None), wanted))
    for block in rows:
        found[block.client_id].append(block)
    return found


def blocks_of(session: Session, client_id: int) -> list[Block]:
    """All of a client's blocks, newest first, voided and used-up ones included."""
    return list(session.scalars(select(Block).where(Block.client_id == client_id).order_by(Block.id.desc())))


def used_between(session: Session, client_ids: list[int], start: date, end: date) -> dict[int, int]:
    """Billable minutes of live entries per client, work date in [start, end)."""
    if not client_ids:
        return {}
    rows = session.execute(
        select(Entry.client_id, func.coalesce(func.sum(Entry.billable_minutes), 0))
        .where(
            Entry.client_id.in_(client_ids),
            Entry.work_date >= start,
            Entry.work_date < end,
            Entry.voided_at.is_(None),
        )
        .group_by(Entry.client_id)
    )
    return {client_id: int(total) for client_id, total in rows}


def usage_by_handle(session: Session, today: date) -> dict[str, tuple[int, int]]:
    """Billable minutes per client handle over the last 30 and 90 days, in one query."""
    since_30 = today - timedelta(days=30)
    rows = session.execute(
        select(
            Client.handle,
            func.coalesce(func.sum(case((Entry.work_date >= since_30, Entry.billable_minutes), else_=0)), 0),
            func.coalesce(func.sum(Entry.billable_minutes), 0),
        )
        .join(Client, Client.id == Entry.client_id)
        .where(Entry.work_date >= today - timedelta(days=90), Entry.voided_at.is_(None))
        .group_by(Client.handle)
    )
    return {handle: (int(a), int(b)) for handle, a, b in rows}


def latest_entries(session: Session, client_id: int, limit: int) -> list[Entry]:
    """A client's newest live entries."""
    return list(
        session.scalars(
            select(Entry)
            .where(Entry.client_id == client_id, Entry.voided_at.is_(None))
            .order_by(Entry.id.desc())
            .limit(limit)
        )
    )


def entries_by_id(session: Session, ids: list[int]) -> list[Entry]:
    found: list[Entry] = []
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        found += session.scalars(select(Entry).where(Entry.id.in_(chunk)))
    return found


def entries_in_period(session: Session, client_id: int, start: date, end: date) -> list[Entry]:
    """A client's entries with a work date in [start, end), oldest first, voided ones included."""
    return list(
        session.scalars(
            select(Entry)
            .where(Entry.client_id == client_id, Entry.work_date >= start, Entry.work_date < end)
            .order_by(Entry.work_date, Entry.id)
        )
    )


def running_timer(session: Session, user_id: str) -> tuple[Timer, Client] | None:
    found = session.execute(
        select(Timer, Client).join(Client, Timer.client_id == Client.id).where(Timer.user_id == user_id)
    ).first()
    return (found[0], found[1]) if found is not None else None


def entries_logged_since(session: Session, user_id: str, start: datetime, limit: int) -> list[tuple[Entry, str]]:
    """``(entry, client handle)`` of a person's live entries recorded since ``start``, newest first."""
    rows = session.execute(
        select(Entry, Client.handle)
        .join(Client, Entry.client_id == Client.id)
        .where(Entry.user_id == user_id, Entry.created_at >= start, Entry.voided_at.is_(None))
        .order_by(Entry.id.desc())
        .limit(limit)
    ).all()
    return [(e, h) for e, h in rows]


def logged_since_totals(session: Session, user_id: str, start: datetime) -> tuple[int, int]:
    """``(count, billable minutes)`` of a person's live entries recorded since ``start``: all of them,
    whatever a list shows."""
    count, minutes = session.execute(
        select(func.count(Entry.id), func.coalesce(func.sum(Entry.billable_minutes), 0)).where(
            Entry.user_id == user_id, Entry.created_at >= start, Entry.voided_at.is_(None)
        )
    ).one()
    return int(count), int(minutes)


def recent_client_handles(session: Session, user_id: str, limit: int) -> list[str]:
    """The active clients a person logged time for lately, most recent first, each once."""
    recent: list[str] = []
    for handle in session.scalars(
        select(Client.handle)
        .join(Entry, Entry.client_id == Client.id)
        .where(Entry.user_id == user_id, Client.archived.is_(False))
        .order_by(Entry.id.desc())
        .limit(50)
    ):
        if handle not in recent:
            recent.append(handle)
    return recent[:limit]


def aliases(session: Session) -> list[str]:
    return list(session.scalars(select(ClientAlias.alias)))


def stored_role(session: Session, user_id: str) -> str | None:
    """The role an admin gave ``user_id`` (``admin``, ``manager``, ``technician``), if any."""
    row = session.get(UserRole, user_id)
    return row.role if row is not None else None


def work_types(session: Session, include_archived: bool = False) -> list[WorkType]:
    """The defined work types by name (``standard`` is not stored)."""
    query = select(WorkType).order_by(WorkType.name)
    if not include_archived:
        query = query.where(WorkType.archived.is_(False))
    return list(session.scalars(query))


def recent_threshold_alerts(session: Session, client_id: int, limit: int = 50) -> list[OutboxMessage]:
    """The client's latest threshold alerts in the outbox, newest first."""
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.client_id == client_id, OutboxMessage.kind == "threshold")
            .order_by(OutboxMessage.id.desc())
            .limit(limit)
        )
    )


def bought_above_since(session: Session, client_id: int, since: datetime, level: int) -> bool:
    """Whether hours were bought (a top-up or renewal line) after ``since`` that left the balance above ``level``."""
    found = session.scalar(
        select(LedgerLine.id)
        .where(
            LedgerLine.client_id == client_id,
            LedgerLine.kind.in_(("topup", "renewal")),
            LedgerLine.at > since,
            LedgerLine.balance_after > level,
        )
        .limit(1)
    )
    return found is not None


def outbox_key_taken(session: Session, dedupe_key: str) -> bool:
    return session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)) is not None


def open_overage_entries(session: Session, client_id: int) -> list[Entry]:
    """The client's live entries with overage, oldest first (the next block pays them off in order)."""
    return list(
        session.scalars(
            select(Entry)
            .where(Entry.client_id == client_id, Entry.overage_minutes > 0, Entry.voided_at.is_(None))
            .order_by(Entry.id)
        )
    )


def channel_links(session: Session) -> list[tuple[str, int, str, str, bool]]:
    """``(channel, client id, handle, display name, public replies)`` of every linked channel."""
    rows = session.execute(
        select(ChannelLink.channel_id, Client.id, Client.handle, Client.display_name, ChannelLink.public_replies).join(
            Client, ChannelLink.client_id == Client.id
        )
    ).all()
    return [(channel, client_id, handle, name, bool(public)) for channel, client_id, handle, name, public in rows]


def live_entry_of_message(session: Session, source_ref: str) -> Entry | None:
    """The live entry a Slack message logged (its latest, after corrections)."""
    return session.scalar(
        select(Entry).where(Entry.source_ref == source_ref, Entry.voided_at.is_(None)).order_by(Entry.id.desc())
    )


def name_taken(session: Session, name: str) -> bool:
    """Whether ``name`` is a client's handle or alias already."""
    return (
        session.scalar(select(Client.id).where(Client.handle == name)) is not None
        or session.scalar(select(ClientAlias.id).where(ClientAlias.alias == name)) is not None
    )


def entry_by_key(session: Session, key: str) -> Entry | None:
    return session.scalar(select(Entry).where(Entry.idempotency_key == key))


def block_by_key(session: Session, key: str) -> Block | None:
    return session.scalar(select(Block).where(Block.idempotency_key == key))


def last_block_number(session: Session, client_id: int) -> int | None:
    return session.scalar(select(func.max(Block.number)).where(Block.client_id == client_id))


def refills_since(session: Session, client_id: int, since: datetime) -> int:
    query = select(func.count()).where(
        Block.client_id == client_id,
        Block.source == "refill",
        Block.voided_at.is_(None),
        Block.created_at >= since,
    )
    return int(session.scalar(query) or 0)


def refill_of_entry(session: Session, client_id: int, entry_id: int) -> Block | None:
    """The live refill block added by the posting that logged the entry: its ``topup`` line comes after
    the entry's line, at the same moment (one posting, one moment), with no entry of the client logged
    in between (one refill a posting; the client's row lock keeps a posting's lines together)."""
    logged = session.execute(
        select(LedgerLine.id, LedgerLine.at)
        .where(LedgerLine.client_id == client_id, LedgerLine.entry_id == entry_id, LedgerLine.kind == "entry")
        .order_by(LedgerLine.id)
        .limit(1)
    ).first()
    if logged is None:
        return None
    topup, other = aliased(LedgerLine), aliased(LedgerLine)
    later_entry = (
        select(other.id)
        .where(other.client_id == client_id, other.kind == "entry", other.id > logged.id, other.id < topup.id)
        .exists()
    )
    query = (
        select(Block)
        .join(topup, topup.block_id == Block.id)
        .where(
            Block.client_id == client_id,
            Block.source == "refill",
            Block.voided_at.is_(None),
            topup.client_id == client_id,
            topup.kind == "topup",
            topup.id > logged.id,
            topup.at == logged.at,
            ~later_entry,
        )
        .order_by(topup.id)
        .limit(1)
    )
    return session.scalars(query).first()


def block_by_number(session: Session, client_id: int, number: int) -> Block | None:
    return session.scalar(select(Block).where(Block.client_id == client_id, Block.number == number))


def live_draws_of(session: Session, block_id: int) -> list[Draw]:
    return list(session.scalars(select(Draw).where(Draw.block_id == block_id, Draw.reversed_at.is_(None))))


def clients_with_blocks_expiring_by(session: Session, day: date) -> list[int]:
    """Clients with a live, unused-in-part block whose expiry is on or before ``day``."""
    return list(
        session.scalars(
            select(Block.client_id)
            .where(
                Block.voided_at.is_(None),
                Block.remaining_minutes > 0,
                Block.expires_on.is_not(None),
                Block.expires_on <= day,
            )
            .distinct()
        )
    )


def latest_live_entry_id(session: Session, client_id: int, besides: int) -> int | None:
    """The client's newest live entry other than ``besides`` (what a dashboard shows once it is voided)."""
    return session.scalar(
        select(func.max(Entry.id)).where(Entry.client_id == client_id, Entry.id != besides, Entry.voided_at.is_(None))
    )
