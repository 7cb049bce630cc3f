"""Who may do what. Services check these rules so that every interface (Slack, CLI) obeys them."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from bot.domain.errors import PermissionDenied


class Role(enum.IntEnum):
    """Ordered: each role may do everything the roles below it may."""

    TECHNICIAN = 1
    MANAGER = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Role:
        word = text.strip().lower().removesuffix("s")
        for role in cls:
            if role.label == word or (word == "tech" and role is cls.TECHNICIAN):
                return role
        raise PermissionDenied(f"`{text}` is not a role: use admin, manager or technician.", "role @sam manager")


OWN_VOID_WINDOW = timedelta(hours=24)


def require(role: Role, needed: Role, what: str) -> None:
    if role < needed:
        raise PermissionDenied(
            f"Only {_who(needed)} can {what}; you are a {role.label}. Ask an admin for the {needed.label} role."
        )


def _who(role: Role) -> str:
    return "admins" if role is Role.ADMIN else "account managers and admins"


def check_void_entry(role: Role, actor_id: str, author_id: str, created_at: datetime, now: datetime) -> None:
    """Managers void anyone's entries; a technician only their own, within 24 hours."""
    if role >= Role.MANAGER:
        return
    if actor_id != author_id:
        raise PermissionDenied("Only account managers and admins can void someone else's entry.")
    if now - created_at > OWN_VOID_WINDOW:
        raise PermissionDenied(
            "Your own entries can be voided for 24 hours; this one is older. Ask an account manager to void it."
        )


def check_work_date(role: Role, work_date: date, today: date, backdate_days: int) -> None:
    """Technicians date work at most ``backdate_days`` back; managers and admins may go further
    (a correction for an old month is theirs to make)."""
    if role >= Role.MANAGER or today - work_date <= timedelta(days=backdate_days):
        return
    raise PermissionDenied(
        f"{work_date} is more than {backdate_days} days ago; technicians can log work of the last "
        f"{backdate_days} days. Ask an account manager to log older work.",
        "logtime acme 1h last friday printer fix",
    )
