"""Each command is declared once, on its parser: its words, its usage line and its facts. The word
table and the help are read from the declarations, so a command left undeclared is caught here."""

from __future__ import annotations

from typing import get_args

from bot.domain import commands as c
from bot.domain.grammar import VERBS, facts_of, verb_named
from bot.domain.helptext import help_text
from bot.domain.roles import Role


def test_every_command_is_made_by_exactly_one_verb() -> None:
    made = [kind for verb in VERBS.values() for kind in verb.makes]
    assert sorted(k.__name__ for k in made) == sorted(k.__name__ for k in get_args(c.Command))
    assert len(made) == len(set(made))


def test_every_verb_has_a_usage_line_with_its_name() -> None:
    for name, verb in VERBS.items():
        assert verb.usage.startswith(name), name


def test_the_verbs_and_their_words_are_those_users_know() -> None:
    assert list(VERBS) == [
        "logtime", "balance", "topup", "blocks", "block", "entries", "void", "edit", "client", "role", "link",
        "snooze", "approve", "report", "statement", "insights", "worktype", "nudges", "share", "help",
    ]  # fmt: skip
    others = {word: getattr(verb_named(word), "name", None) for word in ("log", "clients", "worktypes")}
    assert others == {"log": "logtime", "clients": "client", "worktypes": "worktype"}


def test_help_lists_every_verb_in_the_order_declared() -> None:
    lines = help_text().split("\n")
    assert lines[0] == "blocktime commands:"
    assert lines[1 : 1 + len(VERBS)] == [f"• {verb.usage}" for verb in VERBS.values()]
    assert help_text("clients") == help_text("client") == VERBS["client"].usage


def test_only_reads_say_nothing_could_be_shown() -> None:
    reads = {k.__name__ for k in get_args(c.Command) if not facts_of(k).writes}
    assert reads == {
        "Balance", "Blocks", "Entries", "ClientShow", "ClientList", "Report", "Insights", "Help", "TimerShow",
        "WorkTypeList", "ShareList", "PreviewStatement",
    }  # fmt: skip


def test_what_moves_hours_refreshes_app_home_and_reports_are_answered_after_the_ack() -> None:
    home = {k.__name__ for k in get_args(c.Command) if facts_of(k).refreshes_home}
    assert home == {"LogTime", "TopUp", "VoidEntry", "VoidTopUp", "EditEntry", "TimerStop", "MarkPaid", "MarkUnpaid"}
    assert {k.__name__ for k in get_args(c.Command) if facts_of(k).slow} == {"Report", "Insights"}


def test_only_balance_is_open_to_client_contacts() -> None:
    assert [k.__name__ for k in get_args(c.Command) if facts_of(k).role is Role.CLIENT] == ["Balance"]
