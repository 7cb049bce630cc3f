"""Which service carries out which command: each service declares the commands it serves
(``@serves``) where it is written, and ``bot.services.run`` dispatches on the command's type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import singledispatch
from typing import Any, TypeVar

from bot.domain.commands import Command
from bot.services.context import Actor, Context
from bot.services.results import Result

Service = TypeVar("Service", bound=Callable[..., Result])

# Every command type and the function that serves it (its return type names the result a view renders).
SERVED: dict[type[Command], Callable[..., Result]] = {}


@dataclass(frozen=True)
class Call:
    """Who asks, and from where: what every service is carried out with besides the command."""

    ctx: Context
    actor: Actor
    source: str = "cli"
    idempotency_key: str | None = None
    client_id: int | None = None  # the client of a linked channel, for a command that names none
    ticket: str | None = None


@singledispatch
def service(command: Command, call: Call) -> Result:
    raise AssertionError(f"no service for {command!r}")  # pragma: no cover


def serves(*kinds: type[Command]) -> Callable[[Service], Service]:
    """Declare ``function(ctx, actor, command)`` the service of each command type in ``kinds``."""

    def register(function: Service) -> Service:
        for kind in kinds:
            _register(kind, function, lambda command, call: function(call.ctx, call.actor, command))
        return function

    return register


def serves_call(kind: type[Command]) -> Callable[[Service], Service]:
    """Declare ``function(command, call)`` the service of ``kind``: for a service that needs more of
    the call than who asks (the request's key, where it came from, a linked channel's client)."""

    def register(function: Service) -> Service:
        _register(kind, function, function)
        return function

    return register


def _register(kind: type[Command], function: Callable[..., Result], run: Callable[[Any, Call], Result]) -> None:
    assert kind not in SERVED, f"{kind.__name__} is served twice"
    SERVED[kind] = function
    service.register(kind, run)
