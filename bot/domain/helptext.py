"""The commands' usage lines and help: what `help` shows and what refusals quote as examples."""

from __future__ import annotations

from bot.domain.errors import ParseError

USAGE = {
    "logtime": "logtime <client> <duration> [when] [at HH:MM] [as <type>] [note...]   e.g. logtime acme 1h30m yesterday printer fix #1234"
    "  (after the client, the date, `at`, `as` and --nb may stand anywhere, each once)"
    "  |  timers: logtime start <client> [as <type>] [note...], logtime stop [keep|<duration>] [note...],"
    " logtime timer, logtime discard",
    "balance": "balance [client]   e.g. balance acme",
    "topup": "topup <client> <hours> [expires YYYY-MM-DD|never] [starts YYYY-MM-DD] [price 1500] [ref INV-1001]"
    " [renew monthly|quarterly|yearly|6months] [note...]"
    "   e.g. topup acme 10 expires 2027-06-30 price 1500 ref INV-1001",
    "blocks": "blocks <client>   e.g. blocks acme",
    "entries": "entries <client> [this month|last month|YYYY-MM]   e.g. entries acme last month",
    "void": "void <entry-id> [reason...]  or  void topup <client> <block number>   e.g. void 42 wrong client",
    "edit": "edit <entry-id> <duration> [when] [note...]   e.g. edit 42 45m laptop setup",
    "client": "client add <handle> <name...> | client alias <handle> <alias> | client rename <handle> <name...>"
    " | client archive|unarchive <handle> | client set <handle> <key> <value> ... | client show <handle>"
    " | clients",
    "role": "role <@user> admin|manager|technician   e.g. role @sam manager",
    "link": "link <client> [replies public|private]  (in a channel)  or  link none",
    "snooze": "snooze <client> [days]   e.g. snooze acme 7  (low-balance alerts)",
    "report": "report <client>|--all [this month|last month|YYYY-MM|YYYY-MM..YYYY-MM]   e.g. report acme last month",
    "insights": "insights   (clients for whom a flat-fee agreement makes most sense)",
    "worktype": "worktype add <name> <multiplier> | worktype list | worktype archive <name>"
    "   e.g. worktype add onsite 1.5  (then: logtime acme 1h as onsite printer fix)",
    "nudges": "nudges off|on   (a DM on workdays about ticket threads you replied in without logging time)",
    "help": "help [command]",
}


CLIENT_SET_KEYS = (
    "name, rounding (15m|none), minimum (15m|none), overdraft (2h|none|unlimited), overage (carry|bill), "
    "grace (7d: days after expiry that late work may still draw from a block), "
    "client-view (on|off: the client's people may see their card with /balance in their channel), "
    "client-notes (on|off: notes shown on the client card), statement-to (#channel|none: the client-safe "
    "monthly statement), "
    "manager (@user|none), channel (#channel|none), timezone (Europe/Berlin), thresholds (50%,25%,2h,0), "
    "email (address|none), webhook (URL|none), hours (mon-fri 08:00-18:00|none: working hours; work outside "
    "them is billed as BLOCKTIME_AFTER_HOURS_TYPE), worktype (onsite 2|onsite none: this client's rate), "
    "psa-company (250|none) and psa-agreement (30|none): the client's company and agreement in the PSA, "
    "psa-ticket (5678|none): the PSA ticket for time that names no #ticket (HaloPSA and Autotask need one)"
)


def help_text(topic: str = "") -> str:
    if topic in USAGE:
        return USAGE[topic]
    if topic in ("clients",):
        return USAGE["client"]
    if topic:
        raise ParseError(f"There is no command `{topic}`. Commands: {', '.join(USAGE)}.", "help logtime")
    lines = ["blocktime commands:"] + [f"• {usage}" for usage in USAGE.values()]
    lines.append(f"client set keys: {CLIENT_SET_KEYS}")
    lines.append("Durations: 15m, 45 minutes, 1h, 1.5h, 1h30m, 1 hr 15 mins, 1:30. Add --nb for non-billable.")
    return "\n".join(lines)
