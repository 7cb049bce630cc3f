"""Every notice kind as the services store it in the outbox (every key, in their order): samples for
the unit tests of ``bot.domain.notices`` and the registries' completeness test."""

from __future__ import annotations

from typing import Any

# Every notice kind as the services store it in the outbox today (every key, in their order).
STORED: dict[str, dict[str, Any]] = {
    "threshold": {
        "kind": "threshold",
        "client": "acme",
        "display_name": "Acme",
        "account_manager": "UAM",
        "remaining_minutes": 90,
        "overdraft_minutes": None,
        "percent_left": 15,
        "block_minutes": 600,
        "used_30d_minutes": 510,
        "burn_per_day_minutes": "17.0",
        "run_out_on": "2026-11-30",
        "next_expiry": "2027-01-31",
        "threshold": "20%",
        "level_minutes": 120,
        "before_minutes": 150,
        "at": "2026-11-25T10:00:00+00:00",
    },
    "expiry": {
        "kind": "expiry",
        "client": "acme",
        "display_name": "Acme",
        "account_manager": None,
        "block_id": 3,
        "block_number": 2,
        "block_minutes": 600,
        "forfeited_minutes": 90,
        "expires_on": "2026-11-24",
        "reason": "expired",
        "remaining_minutes": 0,
        "reference": "INV-7",
        "rolled_over_minutes": 0,
        "rolled_into_block": None,
    },
    "renewal": {
        "kind": "renewal",
        "client": "acme",
        "display_name": "Acme",
        "block_id": 4,
        "block_number": 3,
        "minutes": 600,
        "start_on": "2026-12-01",
        "expires_on": None,
        "remaining_minutes": 600,
        "account_manager": None,
    },
    "digest": {
        "kind": "digest",
        "date": "2026-11-25",
        "low": [{"client": "acme", "display_name": "Acme", "remaining_minutes": 60, "threshold": "2h"}],
        "overdrawn": [{"client": "bolt", "display_name": "Bolt", "remaining_minutes": -30}],
        "expiring": [
            {
                "client": "acme",
                "display_name": "Acme",
                "remaining_minutes": 60,
                "expires_on": "2026-12-01",
                "block_id": 3,
                "block_number": 2,
            }
        ],
        "psa": {
            "name": "ConnectWise",
            "failed_count": 2,
            "failed": [
                {
                    "entry_id": 9,
                    "client": "acme",
                    "user_name": "Tess",
                    "minutes": 30,
                    "work_date": "2026-11-24",
                    "error": "no such member",
                }
            ],
            "failed_block_count": 1,
            "failed_blocks": [
                {
                    "block_id": 4,
                    "block_number": 3,
                    "client": "acme",
                    "minutes": 600,
                    "voided": False,
                    "error": "ConnectWise 400: Addition object is invalid (product: Product 12 was not found)",
                }
            ],
        },
    },
    "statement": {
        "kind": "statement",
        "client": "acme",
        "display_name": "Acme",
        "account_manager": "UAM",
        "period": "October 2026",
        "start": "2026-10-01",
        "end": "2026-11-01",
        "opening_minutes": 0,
        "bought_minutes": 600,
        "used_minutes": 90,
        "forfeited_minutes": 0,
        "overage_billed_minutes": 0,
        "closing_minutes": 510,
        "remaining_minutes": 510,
        "non_billable_minutes": 0,
        "overage_minutes": 0,
        "late_minutes": 30,
        "by_technician": [["Tess Tech", 90]],
        "by_ticket": [["#12", 90]],
        "by_work_type": [["standard", 90]],
        "entry_count": 2,
        "correction_count": 0,
        "late": [
            {
                "entry_id": 5,
                "work_date": "2026-09-30",
                "recorded_on": "2026-10-01",
                "minutes": 30,
                "voided": False,
                "replaced_by": None,
                "replaces": None,
            }
        ],
        "in_grace": [
            {
                "as_of": "2026-11-25",
                "block_id": 1,
                "block_number": 1,
                "minutes": 60,
                "expires_on": "2026-10-31",
                "closing_on": "2026-11-30",
            }
        ],
        "unpaid_minutes": 0,
        "held_for_payment_minutes": 0,
        "rolled_over_minutes": 0,
    },
    "nudge": {
        "kind": "nudge",
        "user": "UTECH",
        "date": "2026-11-25",
        "count": 1,
        "threads": [
            {
                "client": "acme",
                "display_name": "Acme",
                "channel": "CACME",
                "thread_ts": "1700000000.000100",
                "started": "09:15",
            }
        ],
    },
    "timer_check": {
        "kind": "timer_check",
        "user": "UTECH",
        "client": "acme",
        "display_name": "Acme",
        "minutes": 600,
        "since": "Wed 25 Nov 08:00",
        "started_at": "2026-11-25T08:00:00+00:00",
    },
}
STORED["client_statement"] = {
    **{k: v for k, v in STORED["statement"].items() if k != "account_manager"},
    "kind": "client_statement",
    "by_technician": [["Tess", 90]],
}
STORED["psa_followup_failed"] = {
    "kind": "psa_followup_failed",
    "client": "acme",
    "display_name": "Acme",
    "account_manager": "UAM",
    "psa": "ConnectWise PSA",
    "followup": "ticket",
    "error": "ConnectWise PSA refused: Ticket object is invalid (board: Board is required)",
}
STORED["purchase_paid"] = {
    "kind": "purchase_paid",
    "client": "acme",
    "display_name": "Acme",
    "account_manager": "UAM",
    "minutes": 600,
    "amount": "950.00",
    "currency": "USD",
    "reference": "bp_3f9c2a7d1e",
    "block_number": 3,
    "remaining_minutes": 720,
}
STORED["purchase_trouble"] = {
    "kind": "purchase_trouble",
    "client": "acme",
    "display_name": "Acme",
    "account_manager": "UAM",
    "trouble": "refunded",
    "news": "refunded: 950.00 USD",
    "reference": "bp_3f9c2a7d1e",
    "minutes": 600,
    "amount": "950.00",
    "currency": "USD",
    "block_number": 3,
}
STORED["refill_failed"] = {
    "kind": "refill_failed",
    "client": "acme",
    "display_name": "Acme",
    "account_manager": "UAM",
    "rule": "refill auto 10h",
    "reason": "a 2h entry by Tess Tech was refused: it would go past the overdraft limit with 1h 30m left",
    "remaining_minutes": 90,
    "at": "2026-11-25T10:00:00+00:00",
}
STORED["statement_email"] = {
    **STORED["client_statement"],
    "kind": "statement_email",
    "address": "ap@acme.example",
    "link_id": 7,
    "lines": [
        {
            "recorded_on": "2026-10-06",
            "work_date": "2026-10-06",
            "technician": "Tess",
            "minutes": 90,
            "ticket": "#12",
            "note": None,
            "correction": False,
            "non_billable": False,
        }
    ],
    "more_lines": 0,
}
STORED["statement_bounced"] = {
    "kind": "statement_bounced",
    "client": "acme",
    "display_name": "Acme",
    "account_manager": "UAM",
    "period": "November 2026",
    "month": "2026-11",
    "address": "ceo@acme.example",
    "error": "550 5.1.1 mailbox unavailable",
}
