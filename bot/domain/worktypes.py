"""Work types: on-site or after-hours work is deducted at a multiple of the time worked (Autotask's
block hour factor, HaloPSA's charge-type multipliers). Multipliers are exact decimals; ``standard``
is x1 and always exists."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from bot.domain.errors import ParseError

STANDARD = "standard"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
MAX_MULTIPLIER = Decimal(10)


def parse_work_type(text: str) -> str:
    name = text.strip().lower()
    if not _NAME.match(name):
        raise ParseError(
            f"`{text}` is not a work type name: a letter, then letters, digits, '-' or '_'.", "worktype add onsite 1.5"
        )
    return name


def parse_multiplier(text: str) -> Decimal:
    """``1.5``, ``2``, ``0.5`` or ``x1.5``: more than 0, at most 10, at most three decimals."""
    cleaned = text.strip().lower().lstrip("x×")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ParseError(f"`{text}` is not a multiplier.", "worktype add onsite 1.5") from None
    if not value.is_finite() or value <= 0 or value > MAX_MULTIPLIER or value != value.quantize(Decimal("0.001")):
        raise ParseError(
            f"`{text}`: a multiplier is more than 0 and at most {MAX_MULTIPLIER}, with at most three decimals.",
            "worktype add onsite 1.5",
        )
    return plain(value)


def plain(multiplier: Decimal) -> Decimal:
    """``1.500`` (as stored) -> ``1.5``; ``10.000`` -> ``10`` (not ``1E+1``)."""
    if multiplier == multiplier.to_integral_value():
        return multiplier.quantize(Decimal(1))
    return multiplier.normalize()


def multiplier_label(multiplier: Decimal) -> str:
    """``×1.5``, ``×2``."""
    return "×" + format(plain(multiplier), "f")
