"""The ledger's tables (SQLAlchemy 2.x typed ORM).

Running figures live on ``clients`` and ``blocks`` and change in the same transaction as the entry,
draw or ledger line that moves them, so a balance never scans history. Nothing is deleted: voids are
flags plus ledger lines."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT ids on PostgreSQL, INTEGER (rowid alias) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on SQLite (which stores no zone) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the ledger; use an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime()}


class Client(Base):
    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    handle: Mapped[str] = mapped_column(String(32), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    account_manager: Mapped[str | None] = mapped_column(String(32))
    alert_channel: Mapped[str | None] = mapped_column(String(32))
    timezone: Mapped[str] = mapped_column(String(64))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    # Billing policy, copied from the configured defaults when the client is added.
    rounding_minutes: Mapped[int] = mapped_column(Integer)
    minimum_minutes: Mapped[int] = mapped_column(Integer)
    overdraft_minutes: Mapped[int | None] = mapped_column(Integer)  # None = unlimited, 0 = none
    overage_policy: Mapped[str] = mapped_column(String(8))  # carry | bill
    thresholds: Mapped[str | None] = mapped_column(String(200))  # None = configured default
    expiry_grace_days: Mapped[int | None] = mapped_column(Integer)  # None = configured default
    # Running figures (minutes), kept in the same transaction as each change.
    purchased_minutes: Mapped[int] = mapped_column(Integer, default=0)
    used_minutes: Mapped[int] = mapped_column(Integer, default=0)
    forfeited_minutes: Mapped[int] = mapped_column(Integer, default=0)
    open_overage_minutes: Mapped[int] = mapped_column(Integer, default=0)
    billed_overage_minutes: Mapped[int] = mapped_column(Integer, default=0)
    last_entry_id: Mapped[int | None] = mapped_column(Integer)  # for dashboards, without a scan
    alert_email: Mapped[str | None] = mapped_column(String(200))
    alert_webhook: Mapped[str | None] = mapped_column(String(500))
    alerts_snoozed_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    # What the client's own people may see (guests, Slack Connect members in its linked channel).
    client_notes: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    client_view: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    statement_channel: Mapped[str | None] = mapped_column(String(32))  # client-safe monthly statement
    # the client-safe monthly statement by e-mail: "ap@acme.example,ceo@acme.example" (issue 27)
    statement_emails: Mapped[str | None] = mapped_column(String(1000))
    work_hours: Mapped[str | None] = mapped_column(String(64))  # "mon-fri 08:00-18:00": outside is after hours
    # The client's company and block-time agreement in the MSP's PSA (PSA=connectwise|halopsa|autotask): ids as the PSA says them
    psa_company_id: Mapped[str | None] = mapped_column(String(32))
    psa_agreement_id: Mapped[str | None] = mapped_column(String(32))
    # the ticket for time that names none (HaloPSA and Autotask record time only on tickets)
    psa_ticket_id: Mapped[str | None] = mapped_column(String(32))
    # no ledger line is recorded on a day before this one: set when a new time zone moves the client's
    # calendar back, so a month that is over (and its statement) never gets a new line
    records_from: Mapped[date | None] = mapped_column(Date)
    # -- a block's life (issue 26) --
    # time draws only from paid blocks (then overage): ``client set acme pay-first on``
    pay_first: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    psa_product_id: Mapped[str | None] = mapped_column(String(32))  # the PSA product a block is sold as
    # refill policy: notify (None: today's alert only) | draft (a ready block to confirm) | auto
    refill_mode: Mapped[str | None] = mapped_column(String(8))
    refill_minutes: Mapped[int | None] = mapped_column(Integer)
    refill_paid: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    refill_cap: Mapped[int] = mapped_column(Integer, default=1, server_default="1")  # auto refills a month
    # one refill per run-down: cleared by a refill, set again once the balance is above the lowest threshold
    refill_armed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # recurring allotment: monthly | quarterly | yearly (None: none), its size, the rollover cap
    recurring_period: Mapped[str | None] = mapped_column(String(10))
    recurring_minutes: Mapped[int | None] = mapped_column(Integer)
    rollover_minutes: Mapped[int | None] = mapped_column(Integer)  # None or 0: nothing rolls over
    recurring_last_start: Mapped[date | None] = mapped_column(Date)  # the latest period granted
    psa_alert: Mapped[str | None] = mapped_column(String(10))  # activity | ticket | off; None = the default
    # overage hold: past this much overage new time is refused (minutes, or percent of the last block)
    hold_at_minutes: Mapped[int | None] = mapped_column(Integer)
    hold_at_percent: Mapped[int | None] = mapped_column(Integer)
    hold_approved_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    client_approves: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # the blocks the client may buy on its page (issue 27): ``10h 950.00 USD, 20h 1800.00 USD`` (bot.domain.offers)
    buy_offers: Mapped[str | None] = mapped_column(Text)

    aliases: Mapped[list[ClientAlias]] = relationship(back_populates="client", order_by="ClientAlias.alias")


class ClientAlias(Base):
    __tablename__ = "client_aliases"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    alias: Mapped[str] = mapped_column(String(32), unique=True)

    client: Mapped[Client] = relationship(back_populates="aliases")


class Block(Base):
    __tablename__ = "blocks"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    number: Mapped[int | None] = mapped_column(Integer)  # per client: its first block is 1, the next 2...
    minutes: Mapped[int] = mapped_column(Integer)
    remaining_minutes: Mapped[int] = mapped_column(Integer)
    forfeited_minutes: Mapped[int] = mapped_column(Integer, default=0)
    start_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date)
    price: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    reference: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    sold_by: Mapped[str | None] = mapped_column(String(64))
    renew_months: Mapped[int | None] = mapped_column(Integer)
    renewal_of_id: Mapped[int | None] = mapped_column(ForeignKey("blocks.id"), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # What the keyed request asked for, so a key reused for a different request is refused.
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column()
    voided_at: Mapped[datetime | None] = mapped_column()
    voided_by: Mapped[str | None] = mapped_column(String(64))
    # -- a block's life (issue 26) --
    paid: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    paid_at: Mapped[datetime | None] = mapped_column()
    paid_by: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(
        String(16), default="topup", server_default="topup"
    )  # topup | renewal | refill | recurring | psa
    psa_id: Mapped[str | None] = mapped_column(String(40))  # the PSA's record of the block (written or imported)
    period_start: Mapped[date | None] = mapped_column(Date)  # a recurring allotment's period
    # hours rolled over: into this block from the last period's, and out of this one into the next
    rolled_in_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rolled_out_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def drawn_minutes(self) -> int:
        return (
            self.minutes
            + self.rolled_in_minutes
            - self.remaining_minutes
            - self.forfeited_minutes
            - self.rolled_out_minutes
        )


class Entry(Base):
    __tablename__ = "entries"
    __table_args__ = (
        Index("ix_entries_client_work_date", "client_id", "work_date"),
        Index("ix_entries_client_id_id", "client_id", "id"),
        # a person's own entries (App Home's day, their recent clients): no scan of everyone's
        Index("ix_entries_user_id_id", "user_id", "id"),
        Index("ix_entries_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    user_id: Mapped[str] = mapped_column(String(64))
    user_name: Mapped[str] = mapped_column(String(200))
    typed: Mapped[str] = mapped_column(String(50))
    minutes: Mapped[int] = mapped_column(Integer)
    billable_minutes: Mapped[int] = mapped_column(Integer)
    # Billable minutes no block covers: still open (carried into the next block), or billed separately.
    overage_minutes: Mapped[int] = mapped_column(Integer, default=0)
    billed_overage_minutes: Mapped[int] = mapped_column(Integer, default=0)
    non_billable: Mapped[bool] = mapped_column(Boolean, default=False)
    # minutes is the time worked; billable_minutes what was deducted: worked x multiplier, then the
    # client's rounding and minimum. An entry keeps the multiplier it was logged with.
    work_type: Mapped[str] = mapped_column(String(32), default="standard", server_default="standard")
    multiplier: Mapped[Decimal] = mapped_column(Numeric(8, 3), default=Decimal(1), server_default="1")
    note: Mapped[str] = mapped_column(Text, default="")
    work_date: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime | None] = mapped_column()  # the timer's start, for an entry from a timer
    ticket: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(16))  # slack | thread | cli
    # The Slack message an entry came from ("channel:ts"), so editing or deleting it corrects the entry.
    source_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    # "<channel>:<thread ts>" of the ticket thread the time was logged on (a thread line, a message's
    # shortcut, a nudge's button): the nudge asks only about threads without one
    thread_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"))
    # The first entry of a chain of edits (None: this entry is the first). A chain is one record in the
    # PSA: an edit updates it, a void removes it.
    root_id: Mapped[int | None] = mapped_column(Integer)
    psa_id: Mapped[str | None] = mapped_column(String(40))  # the PSA's id of this chain's time record
    created_at: Mapped[datetime] = mapped_column()
    voided_at: Mapped[datetime | None] = mapped_column()
    voided_by: Mapped[str | None] = mapped_column(String(64))
    void_reason: Mapped[str | None] = mapped_column(Text)

    draws: Mapped[list[Draw]] = relationship(back_populates="entry", order_by="Draw.id")


class Draw(Base):
    """The part of an entry taken from one block."""

    __tablename__ = "draws"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id"), index=True)
    block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id"), index=True)
    minutes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column()
    reversed_at: Mapped[datetime | None] = mapped_column()

    entry: Mapped[Entry] = relationship(back_populates="draws")


class LedgerLine(Base):
    """Every change to a client's balance, with the balance after it (charts and alerts read these)."""

    __tablename__ = "ledger_lines"
    __table_args__ = (
        Index("ix_ledger_lines_client_id_id", "client_id", "id"),
        # the minutes too: a period's sums (opening balance, by kind, by day) read the index alone
        Index("ix_ledger_lines_client_id_recorded_on_minutes", "client_id", "recorded_on", "minutes"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    at: Mapped[datetime] = mapped_column()
    # The day ``at`` was in the client's calendar when the line was written: it decides which statement
    # shows the line, whatever time zone the client has later.
    recorded_on: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(24))  # entry, void, topup, void_topup, forfeit, overage_billed
    minutes: Mapped[int] = mapped_column(Integer)  # change to the balance
    balance_after: Mapped[int] = mapped_column(Integer)
    block_id: Mapped[int | None] = mapped_column(ForeignKey("blocks.id"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")


class Timer(Base):
    """A running timer: one per person, in the database so it survives restarts and several processes."""

    __tablename__ = "timers"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    work_type: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column()


class ThreadActivity(Base):
    """Someone replied in a ticket thread of a linked channel: who, where and when, never what (the
    nudge job asks about threads with no time logged, then forgets the rows)."""

    __tablename__ = "thread_activity"
    __table_args__ = (UniqueConstraint("user_id", "channel_id", "thread_ts"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    channel_id: Mapped[str] = mapped_column(String(32))
    thread_ts: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(index=True)


class NudgeOptOut(Base):
    """Someone who said ``/blocktime nudges off``."""

    __tablename__ = "nudge_optouts"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column()


class WorkType(Base):
    """A kind of work deducted at a multiple of the time worked (``standard`` is x1 and not stored)."""

    __tablename__ = "work_types"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    multiplier: Mapped[Decimal] = mapped_column(Numeric(8, 3))
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column()


class ClientWorkType(Base):
    """A client's own rate for a work type (``client set acme worktype onsite 2``)."""

    __tablename__ = "client_work_types"

    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), primary_key=True)
    work_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    multiplier: Mapped[Decimal] = mapped_column(Numeric(8, 3))


class AuditLog(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column()
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    target: Mapped[str] = mapped_column(String(64))
    before: Mapped[str | None] = mapped_column(Text)  # JSON
    after: Mapped[str | None] = mapped_column(Text)  # JSON


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    granted_by: Mapped[str] = mapped_column(String(64))
    granted_at: Mapped[datetime] = mapped_column()


class SlackPerson(Base):
    """What Slack said of a user when last asked (users.info): staff, guest or another organisation's.
    The Slack edge keeps it fresh; the CLI's ``--as`` reads it."""

    __tablename__ = "slack_people"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    team_id: Mapped[str | None] = mapped_column(String(32))
    standing: Mapped[str] = mapped_column(String(16))  # staff, guest, external
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))  # the profile's, when Slack shares it (PSA members)
    checked_at: Mapped[datetime] = mapped_column()


class SlackChannel(Base):
    """What Slack said of a channel (conversations.info): shared with another organisation or guests."""

    __tablename__ = "slack_channels"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shared: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(200))
    checked_at: Mapped[datetime] = mapped_column()


class ChannelLink(Base):
    """A Slack channel whose messages and commands are about one client (ticket threads)."""

    __tablename__ = "channel_links"

    channel_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    linked_by: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[datetime] = mapped_column()
    # thread confirmations posted in the thread for all to read (an internal channel), not privately
    public_replies: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class OutboxMessage(Base):
    """An alert or report waiting to be delivered to one destination (transactional outbox).

    Written in the same transaction as the change that caused it; the dispatcher claims a row with a
    conditional update (``claimed_until``), delivers it, and marks it sent."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))  # threshold, digest, expiry, renewal, statement
    destination: Mapped[str] = mapped_column(String(16))  # slack, email, webhook
    target: Mapped[str | None] = mapped_column(String(500))  # channel id, address, URL
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[str] = mapped_column(Text)  # JSON facts; each transport renders its own format
    status: Mapped[str] = mapped_column(String(12))  # pending, sent, failed (the other side refused: no retry)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column()
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    # when it was queued: made, or pending again after it was sent or failed (a waiting row's age counts from here)
    created_at: Mapped[datetime] = mapped_column()
    sent_at: Mapped[datetime | None] = mapped_column()
    delivery_ref: Mapped[str | None] = mapped_column(String(100))  # e.g. the Slack message ts
    # PSA sync (destination "psa"): one row per chain of entries (its first entry's id), queued again on
    # every change; ``version`` counts those, so a delivery of an older version never marks a newer sent
    entry_id: Mapped[int | None] = mapped_column(Integer, index=True)
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # a block's write to the PSA (destination "psa"): its block, one row per change of the block
    block_id: Mapped[int | None] = mapped_column(Integer, index=True)


class PsaMember(Base):
    """A technician's member in the PSA: set by hand (``psa member @sam 17``) or found by e-mail."""

    __tablename__ = "psa_members"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(8))  # set | email
    updated_at: Mapped[datetime] = mapped_column()


class PsaWorkType(Base):
    """A work type's counterpart in the PSA (``psa worktype onsite 5 role 3``); ``standard`` included."""

    __tablename__ = "psa_work_types"

    work_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    psa_work_type_id: Mapped[str | None] = mapped_column(String(32))
    psa_work_role_id: Mapped[str | None] = mapped_column(String(32))


class JobRun(Base):
    """One run of a scheduled job for one due time: the unique key makes it run once across processes."""

    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    due_key: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column()
    lease_until: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    summary: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("job", "due_key", name="uq_job_runs_job_due_key"),)


class ShareLink(Base):
    """A client's private page link (``share acme``): only the SHA-256 of its token is kept, so the
    database never holds a link that works. Revoked and expired links stay, for the audit."""

    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the token
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    last_viewed_at: Mapped[datetime | None] = mapped_column()
    views: Mapped[int] = mapped_column(Integer, default=0)


class Purchase(Base):
    """A block bought on the client's page through Stripe Checkout (issue 27): recorded ``pending`` when
    the Checkout Session is made, with the offer as it stood; only a verified payment of this row (its
    ``reference`` in the session's metadata) adds the block. What Stripe says afterwards (a failed
    payment, a refund, a dispute) is kept in ``state`` and ``news``; hours are never taken back here."""

    __tablename__ = "purchases"

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)  # ours, in the session's metadata
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    minutes: Mapped[int] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    currency: Mapped[str] = mapped_column(String(3))
    session_id: Mapped[str | None] = mapped_column(String(255), unique=True)  # Stripe's cs_...
    payment_intent: Mapped[str | None] = mapped_column(String(255), index=True)  # Stripe's pi_..., once paid
    # pending | paid | failed | expired | refused (the event disagreed) | refunded | disputed
    state: Mapped[str] = mapped_column(String(16))
    block_id: Mapped[int | None] = mapped_column(ForeignKey("blocks.id"))
    news: Mapped[str | None] = mapped_column(Text)  # the last thing Stripe said of it, in words
    created_at: Mapped[datetime] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()


class StripeEvent(Base):
    """A Stripe event handled: inserted in the transaction of its effect, so an event (delivered again,
    or twice at once) has its effect once."""

    __tablename__ = "stripe_events"

    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)  # evt_...
    type: Mapped[str] = mapped_column(String(64))
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("purchases.id"))
    outcome: Mapped[str] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column()
