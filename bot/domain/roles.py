"""Who may do what. Services check these rules so that every interface (Slack, CLI) obeys them.

A Slack user is not staff just because Slack let them send a request. Staff are members of the
workspace that installed the app who are not guests, bots or deactivated; they have a role
(technician by default). Guests are client contacts unless an admin gave them a role (contractors).
Members of another organisation (Slack Connect) are client contacts, whatever role anyone tries to give
them. Client contacts move no hours and see at most their own client's client-safe card."""

from __future__ import annotations

import enum
from datetime import date, datetime, timedelta

from bot.domain.errors import PermissionDenied


class Role(enum.IntEnum):
    """Ordered: each role may do everything the roles below it may."""

    CLIENT = 0  # a client contact: a guest without a role, or a member of another organisation
    TECHNICIAN = 1
    MANAGER = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return "client contact" if self is Role.CLIENT else self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Role:
        word = text.strip().lower().removesuffix("s")
        for role in (cls.TECHNICIAN, cls.MANAGER, cls.ADMIN):
            if role.label == word or (word == "tech" and role is cls.TECHNICIAN):
                return role
        raise PermissionDenied(f"`{text}` is not a role: use admin, manager or technician.", "role @sam manager")


OWN_VOID_WINDOW = timedelta(hours=24)


class Standing(enum.StrEnum):
    """Who a Slack user is to the MSP, from Slack's own facts (users.info, the event's team)."""

    STAFF = "staff"
    GUEST = "guest"  # is_restricted / is_ultra_restricted
    EXTERNAL = "external"  # another organisation (Slack Connect), a bot, a deactivated user
    UNVERIFIED = "unverified"  # Slack could not be asked: nothing is written on its word


class Unverified(PermissionDenied):
    """Slack could not confirm who the user is; the request is refused, fail closed."""

    def __init__(self) -> None:
        super().__init__("I could not verify you with Slack just now; nothing was recorded. Please try again.")


def role_for(standing: Standing, stored: Role | None, configured_admin: bool) -> Role:
    """The role a user acts with: a configured admin is an admin (unless of another organisation);
    staff have their stored role or technician; a guest has only a role an admin gave them; another
    organisation's member is always a client contact."""
    if standing is Standing.UNVERIFIED:
        raise Unverified()
    if standing is Standing.EXTERNAL:
        return Role.CLIENT
    if configured_admin:
        return Role.ADMIN
    if standing is Standing.GUEST:
        return stored or Role.CLIENT
    return stored or Role.TECHNICIAN


def require(role: Role, needed: Role, what: str) -> None:
    if role is Role.CLIENT:
        raise PermissionDenied(
            f"Only the MSP's staff can {what}. For anything about your hours, ask your account manager."
        )
    if role < needed:
        raise PermissionDenied(
            f"Only {_who(needed)} can {what}; you are a {role.label}. Ask an admin for the {needed.label} role."
        )


def _who(role: Role) -> str:
    return "admins" if role is Role.ADMIN else "account managers and admins"


def check_void_entry(
    role: Role, actor_id: str, author_id: str, created_at: datetime, now: datetime, what: str = "void"
) -> None:
    """Managers void or edit anyone's entries; a technician only their own, within 24 hours."""
    require(role, Role.TECHNICIAN, "change entries")
    if role >= Role.MANAGER:
        return
    if actor_id != author_id:
        raise PermissionDenied(f"Only account managers and admins can {what} someone else's entry.")
    if now - created_at > OWN_VOID_WINDOW:
        raise PermissionDenied(
            f"Your own entries can be {what}ed for 24 hours; this one is older. Ask an account manager to {what} it."
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
