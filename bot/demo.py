"""``blocktime demo``: a few clients, blocks and entries so a new user sees the bot working at once."""

from __future__ import annotations

from bot.domain.errors import DomainError
from bot.domain.grammar import parse_command
from bot.services import Actor, Context, run

DEMO_LINES = (
    "client add acme Acme Corporation",
    "client alias acme acme-corp",
    "client set acme rounding 15m minimum 15m overdraft 2h",
    "topup acme 10 price 1250 ref INV-1001 first block",
    "client add globex Globex Ltd",
    "client set globex overage bill overdraft 1h",
    "topup globex 20 expires {expiry} price 2200 ref INV-1002 renew yearly",
    "client add initech Initech",
    "topup initech 5 ref PO-77",
    "logtime acme 15m laptop advice",
    "logtime acme 1h30m yesterday onsite printer fix #1234",
    "logtime acme 45m new starter account #1240",
    "logtime globex 2h server patching",
    "logtime globex 20m quick question about VPN --nb",
    "logtime initech 4h office move",
)


def seed_demo(ctx: Context) -> list[str]:
    """Run the demo lines as the local admin; returns what was done. Refuses a second run."""
    actor = Actor.local_admin()
    today = ctx.today()
    expiry = today.replace(year=today.year + 1).isoformat()
    done: list[str] = []
    for line in DEMO_LINES:
        text = line.format(expiry=expiry)
        try:
            run(ctx, actor, parse_command(text, today), source="cli")
        except DomainError as error:
            if text.startswith("client add") and "already" in str(error):
                raise DomainError("The demo data is already there (client acme exists).") from None
            raise
        done.append(text)
    return done
