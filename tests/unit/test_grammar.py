"""Every command of the grammar (``bot.domain.grammar``), word by word: what each line reads as, and
which lines are refused (with the words that say why). A table per command, so a changed rule shows
as one row."""

from __future__ import annotations

from datetime import date, time
from decimal import Decimal

import pytest

from bot.domain import commands as c
from bot.domain.dates import Period
from bot.domain.errors import ParseError
from bot.domain.grammar import VERBS, parse_command, timer_misread
from bot.domain.roles import Role

USAGE = {name: verb.usage for name, verb in VERBS.items()}  # each verb's usage line, as declared
TODAY = date(2026, 11, 25)  # a Wednesday
NOVEMBER = Period(date(2026, 11, 1), date(2026, 12, 1), "November 2026")
OCTOBER = Period(date(2026, 10, 1), date(2026, 11, 1), "October 2026")


def parse(text: str, client_known: bool = False, max_minutes: int = 24 * 60) -> c.Command:
    return parse_command(text, TODAY, max_minutes, client_known=client_known)


def refusal(text: str, client_known: bool = False, max_minutes: int = 24 * 60) -> ParseError:
    with pytest.raises(ParseError) as refused:
        parse(text, client_known, max_minutes)
    return refused.value


def example_of(verb: str) -> str:
    return USAGE[verb].split("   e.g. ")[1]


# the verb


@pytest.mark.parametrize(
    "text",
    [
        "logtime acme 15m advice",
        "log acme 15m advice",
        "/logtime acme 15m advice",
        "LOGTIME Acme 15m advice",
        "/blocktime logtime acme 15m advice",
        "blocktime log acme 15m advice",
        "  BlockTime  logtime acme 15m advice ",
    ],
)
def test_a_line_may_start_with_the_command_the_slash_or_the_app(text: str) -> None:
    assert parse(text) == c.LogTime("acme", 15, "15m", None, "advice")


@pytest.mark.parametrize("text", ["", "   ", "blocktime", "/blocktime"])
def test_no_words_ask_for_help(text: str) -> None:
    assert parse(text) == c.Help()


def test_a_mistyped_command_suggests_the_close_one_with_its_example() -> None:
    refused = refusal("topu acme 10")
    assert "`topu` is not a command I know. Did you mean `topup`?" in refused.message
    assert refused.example == example_of("topup")


def test_a_close_command_without_an_example_of_its_own_offers_its_usage() -> None:
    refused = refusal("insight")
    assert "Did you mean `insights`?" in refused.message
    assert refused.example == USAGE["insights"].split("   e.g. ")[-1]


def test_an_unknown_command_points_to_help_with_the_logtime_example() -> None:
    refused = refusal("Frobnicate acme")
    assert "`Frobnicate` is not a command I know. Try `help`." in refused.message
    assert refused.example == example_of("logtime")


def test_a_linked_channel_logs_without_a_client() -> None:
    assert parse("log 30m fixed VPN", client_known=True) == c.LogTime(None, 30, "30m", None, "fixed VPN")
    assert parse("logtime 30m fixed VPN", client_known=True) == c.LogTime(None, 30, "30m", None, "fixed VPN")


def test_a_linked_channel_still_reads_a_named_client() -> None:
    assert parse("logtime acme 30m VPN", client_known=True) == c.LogTime("acme", 30, "30m", None, "VPN")


def test_a_linked_channels_line_may_start_with_at_or_on_words() -> None:
    assert parse("log at 22:00 30m fix", client_known=True) == c.LogTime(None, 30, "30m", None, "fix", at=time(22, 0))
    assert parse("log on site 30m", client_known=True) == c.LogTime(None, 30, "30m", None, "on site")


def test_two_long_durations_still_offer_their_sum() -> None:
    assert "(31h if both are meant)" in refusal("logtime acme 30h fix 1h", max_minutes=3000).message
    assert "(3h if both are meant)" in refusal("logtime acme 1h fix 2h").message


def test_the_longest_entry_is_the_callers() -> None:
    assert parse("logtime acme 25h migration", max_minutes=25 * 60) == c.LogTime("acme", 1500, "25h", None, "migration")
    assert "more than 24h" in refusal("logtime acme 25h migration").message


# logtime


def test_logtime_reads_every_key_wherever_it_stands() -> None:
    command = parse("logtime acme printer 1h at 22:00 as onsite yesterday fix --nb #55")
    assert command == c.LogTime("acme", 60, "1h", "yesterday", "printer fix #55", True, "#55", "onsite", at=time(22, 0))


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("logtime --nb", "Say which client and how long."),
        ("logtime 30m acme", "Say which client the time is for, before the duration."),
        ("logtime as onsite 30m", "Say which client the time is for"),
        ("logtime -30m fix", "Say which client the time is for"),
        ("logtime yesterday 30m", "Say which client the time is for"),
        ("logtime acme", "Say how long you worked for acme."),
        ("logtime acme --nb", "Say how long you worked for acme."),
        ("logtime acme printer fix", "There is no duration in `printer fix`"),
        ("logtime acme 30 printer", "has no unit"),
        ("logtime acme -30m printer", "an entry has one duration, more than zero"),
        ("logtime acme 1h fix 2h", "Two durations"),
        ("logtime acme 1h at 9:00 at 10:00", "Two times of day"),
        ("logtime acme 1h as onsite as remote", "Two work types"),
        ("logtime acme 1h yesterday 2026-11-20", "Two dates"),
    ],
)
def test_logtime_mistakes_are_explained(text: str, why: str) -> None:
    assert why in refusal(text).message


def test_the_same_time_type_or_date_twice_is_taken_once() -> None:
    command = parse("logtime acme 1h at 9:00 as onsite yesterday fix at 09:00 as onsite yesterday")
    assert command == c.LogTime("acme", 60, "1h", "yesterday", "fix", False, None, "onsite", at=time(9, 0))


def test_two_durations_offer_their_sum_in_the_example() -> None:
    refused = refusal("logtime acme 1h printer 30m")
    assert "Two durations: 1h and 30m" in refused.message and "(1h30m if both are meant)" in refused.message
    assert refused.example == "logtime acme 1h30m yesterday printer fix"


def test_a_second_duration_that_is_no_time_at_all_offers_a_plain_example() -> None:
    refused = refusal("logtime acme 1h printer 0m")
    assert "Two durations: 1h and 0m" in refused.message and "(1h30m if both are meant)" in refused.message


def test_a_duration_of_several_words_is_one_duration() -> None:
    assert parse("logtime acme 1 hr 15 mins cabling") == c.LogTime("acme", 75, "1 hr 15 mins", None, "cabling")
    assert parse("logtime acme cabling 2 hours") == c.LogTime("acme", 120, "2 hours", None, "cabling")


def test_a_bare_number_after_the_client_is_a_duration_without_a_unit() -> None:
    refused = refusal("logtime acme 90 printer")
    assert "`90` has no unit" in refused.message


# timers


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("logtime timer", c.TimerShow()),
        ("logtime Timer", c.TimerShow()),
        ("log discard", c.TimerDiscard()),
        ("logtime start acme", c.TimerStart("acme")),
        ("logtime START Acme printer fix", c.TimerStart("acme", "printer fix")),
        ("logtime start acme as onsite printer", c.TimerStart("acme", "printer", "onsite")),
        ("logtime stop", c.TimerStop(None)),
        ("logtime stop fixed it", c.TimerStop("fixed it")),
        ("logtime stop 2h fixed", c.TimerStop("fixed", minutes=120)),
        ("logtime stop keep", c.TimerStop(None, keep=True)),
        ("logtime stop Keep fixed", c.TimerStop("fixed", keep=True)),
    ],
)
def test_timer_words(text: str, command: c.Command) -> None:
    assert parse(text) == command


def test_a_linked_channels_timer_needs_no_client() -> None:
    assert parse("logtime start printer fix", client_known=True) == c.TimerStart(None, "printer fix")
    assert parse("logtime start", client_known=True) == c.TimerStart(None, "")


def test_start_then_a_duration_is_an_entry_for_a_client_called_start() -> None:
    command = parse("logtime start 15m acme")
    assert command == c.LogTime("start", 15, "15m", None, "acme")
    assert isinstance(command, c.LogTime)
    misread = timer_misread(command)
    assert misread is not None and "A timer takes no duration: `logtime start acme`" in misread.message
    assert misread.example == "logtime acme 15m printer fix  or  logtime start acme printer fix"


def test_an_entry_for_another_client_is_no_misread_timer() -> None:
    command = parse("logtime acme 15m start")
    assert isinstance(command, c.LogTime) and timer_misread(command) is None


def test_a_misread_timer_without_a_client_names_an_example_client() -> None:
    command = parse("logtime start 15m")
    assert isinstance(command, c.LogTime)
    misread = timer_misread(command)
    assert misread is not None and "`logtime start acme`" in misread.message


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("logtime start", "Say which client the timer is for."),
        ("logtime start acme 2h printer", "A timer takes no duration: `logtime start acme`"),
        ("logtime start acme yesterday", "A timer is dated by its start, so `yesterday` can't go with `logtime start`"),
        ("logtime start acme at 9:00", "so `at 09:00` can't go with `logtime start`"),
        ("logtime stop yesterday", "can't go with `logtime stop`"),
        ("logtime stop at 17:30", "`at 17:30` can't go with `logtime stop`"),
        ("logtime stop as onsite", "A timer's work type is named when it starts"),
        ("logtime stop keep 2h", "either `keep` or the real time"),
    ],
)
def test_timer_mistakes_are_explained(text: str, why: str) -> None:
    assert why in refusal(text).message


def test_a_linked_channels_timer_refuses_a_duration_naming_an_example_client() -> None:
    refused = refusal("logtime start fix 2h", client_known=True)
    assert "`logtime start acme`" in refused.message and "To log 2h already worked" in refused.message


# balance, blocks, entries, report


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("balance", c.Balance(None)),
        ("balance Acme", c.Balance("acme")),
        ("balance acme public", c.Balance("acme", True)),
        ("balance PUBLIC acme", c.Balance("acme", True)),
        ("balance public", c.Balance(None, True)),
        ("blocks ACME", c.Blocks("acme")),
        ("entries Acme", c.Entries("acme", NOVEMBER)),
        ("entries acme last month", c.Entries("acme", OCTOBER)),
        ("report acme", c.Report("acme", NOVEMBER)),
        ("report ACME 2026-10", c.Report("acme", OCTOBER)),
        ("report --all last month", c.Report(None, OCTOBER)),
        ("report All", c.Report(None, NOVEMBER)),
    ],
)
def test_reading_commands(text: str, command: c.Command) -> None:
    assert parse(text) == command


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("balance acme globex", "`balance` takes one client at most."),
        ("blocks", "`blocks` takes one client."),
        ("blocks acme globex", "`blocks` takes one client."),
        ("entries", "`entries` needs a client."),
        ("report", "Say which client, or --all."),
        ("report acme someday", "is not a period I understand"),
    ],
)
def test_reading_mistakes_are_explained(text: str, why: str) -> None:
    assert why in refusal(text).message


def test_too_many_balance_clients_are_refused_with_the_usage() -> None:
    assert refusal("balance a b").example == USAGE["balance"]


# topup


def test_topup_reads_every_key_and_its_other_names() -> None:
    command = parse("topup Acme 10 expiry 2027-06-30 from 2026-12-01 price €990 invoice INV-7 renews quarterly prepaid")
    assert command == c.TopUp(
        "acme", 600, date(2027, 6, 30), date(2026, 12, 1), Decimal("990.00"), "EUR", "INV-7", 3, "prepaid"
    )


@pytest.mark.parametrize(
    ("words", "field", "value"),
    [
        ("expires 2027-01-31", "expires_on", date(2027, 1, 31)),
        ("exp 2027-01-31", "expires_on", date(2027, 1, 31)),
        ("expiring 2027-01-31", "expires_on", date(2027, 1, 31)),
        ("EXPIRES never", "expires_on", None),
        ("expires Never", "expires_on", None),
        ("starts 2026-12-01", "starts_on", date(2026, 12, 1)),
        ("start 2026-12-01", "starts_on", date(2026, 12, 1)),
        ("ref INV-1", "reference", "INV-1"),
        ("reference INV-2", "reference", "INV-2"),
        ("po PO-3", "reference", "PO-3"),
        ("currency usd", "currency", "USD"),
        ("currency EUR", "currency", "EUR"),
        ("price 1500 USD", "currency", "USD"),
        ("price 1500", "currency", None),
        ("price $1500", "currency", "USD"),
        ("price 1500 usd", "note", "usd"),
        ("renew monthly", "renew_months", 1),
        ("renew 6months", "renew_months", 6),
        ("every yearly", "renew_months", 12),
        ("confirm", "confirmed", True),
        ("Confirm thanks", "note", "thanks"),
        ("", "confirmed", False),
    ],
)
def test_topup_keys(words: str, field: str, value: object) -> None:
    command = parse(f"topup acme 10 {words}")
    assert isinstance(command, c.TopUp) and getattr(command, field) == value


def test_a_price_then_a_currency_code_leaves_the_words_after_them_as_note() -> None:
    command = parse("topup acme 10 price 1500 EUR first block")
    assert isinstance(command, c.TopUp)
    assert (command.price, command.currency, command.note) == (Decimal("1500.00"), "EUR", "first block")


def test_a_price_with_its_currency_between_other_keys() -> None:
    command = parse("topup acme 10 ref X price 1500 EUR renew monthly")
    assert command == c.TopUp("acme", 600, date(2026, 12, 24), None, Decimal("1500.00"), "EUR", "X", 1, "", False)


def test_a_reference_is_cut_to_a_hundred_characters() -> None:
    command = parse(f"topup acme 10 ref {'R' * 120}")
    assert isinstance(command, c.TopUp) and command.reference == "R" * 100


def test_a_block_that_renews_runs_for_its_first_period() -> None:
    command = parse("topup acme 10 renew quarterly")
    assert isinstance(command, c.TopUp) and command.expires_on == date(2027, 2, 24)
    started = parse("topup acme 10 starts 2027-01-31 renew monthly")
    assert isinstance(started, c.TopUp) and started.expires_on == date(2027, 2, 27)


def test_a_renewing_block_keeps_the_expiry_it_is_given() -> None:
    command = parse("topup acme 10 renew monthly expires 2027-03-31")
    assert isinstance(command, c.TopUp) and (command.renew_months, command.expires_on) == (1, date(2027, 3, 31))


def test_a_block_may_expire_the_day_it_starts() -> None:
    command = parse("topup acme 10 starts 2026-12-01 expires 2026-12-01")
    assert isinstance(command, c.TopUp) and command.expires_on == date(2026, 12, 1)
    assert "before it starts" in refusal("topup acme 10 expires 2026-11-24").message


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("topup", "Say which client and how many hours."),
        ("topup acme", "Say which client and how many hours."),
        ("topup acme 10 expires never renew yearly", "A block that renews needs an expiry"),
        ("topup acme 10 expires 2027-01-01 exp 2027-02-01", "`exp` is given twice"),
        ("topup acme 10 ref A invoice B", "`invoice` is given twice"),
        ("topup acme 10 price 10 price 20", "`price` is given twice"),
        ("topup acme 10 currency EURO", "`EURO` is not a currency code."),
        ("topup acme 10 currency", "`currency` needs a value after it."),
        ("topup acme 10 ref", "`ref` needs a value after it."),
        ("topup acme 10 starts", "`starts` needs a value after it."),
        ("topup acme 10 renew", "`renew` needs a value after it."),
        ("topup acme 10 price", "`price` needs a value after it."),
        ("topup acme 10 starts soon", "is not a real date"),
        ("topup acme 10 renew sometimes", "is not a renewal period"),
    ],
)
def test_topup_mistakes_are_explained(text: str, why: str) -> None:
    assert why in refusal(text).message


def test_topup_refusals_quote_the_topup_example() -> None:
    assert refusal("topup acme").example == example_of("topup")
    assert refusal("topup acme 10 exp 2027-01-01 expires 2027-01-02").example == example_of("topup")
    assert refusal("topup acme 10 expires 2026-01-01").example == example_of("topup")
    assert refusal("topup acme 10 expires never renew monthly").example == example_of("topup")


def test_a_missing_value_is_refused_with_an_example_of_its_key() -> None:
    assert refusal("topup acme 10 expires").example == "expires 2027-06-30 or expires never"
    assert refusal("topup acme 10 ref").example == "ref INV-1001"
    assert refusal("topup acme 10 currency").example == "currency EUR"
    assert refusal("topup acme 10 starts").example == "starts 2026-12-01"
    assert refusal("topup acme 10 price").example == "price 1500"
    assert refusal("topup acme 10 renew").example == "renew yearly"
    assert "`expires` needs a value after it." in refusal("topup acme 10 expires").message


# void and edit


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("void 42", c.VoidEntry(42, "")),
        ("void #42 wrong client", c.VoidEntry(42, "wrong client")),
        ("void entry 42 typo", c.VoidEntry(42, "typo")),
        ("void Entry #42", c.VoidEntry(42, "")),
        ("void topup 7 refunded", c.VoidTopUp(7, "refunded")),
        ("void block #7", c.VoidTopUp(7, "")),
        ("void top-up 7", c.VoidTopUp(7, "")),
        ("void TOPUP Acme 2 sold twice", c.VoidTopUp(2, "sold twice", client="acme")),
        ("void topup acme #2", c.VoidTopUp(2, "", client="acme")),
        ("void topup 7 2", c.VoidTopUp(7, "2")),
        ("void topup #7 2", c.VoidTopUp(7, "2")),
        ("void topup 7 sold twice", c.VoidTopUp(7, "sold twice")),
    ],
)
def test_void_reads_an_entry_or_a_block(text: str, command: c.Command) -> None:
    assert parse(text) == command


@pytest.mark.parametrize(
    ("text", "why", "example"),
    [
        ("void", "Say which entry to void.", "void 42 wrong client  or  void topup 7"),
        ("void topup", "Say which top-up to void", "void topup acme 2"),
        ("void abc", "`abc` is not an entry number.", "void 42 wrong client  or  void topup 7"),
        ("void entry", "`entry` is not an entry number.", "void 42 wrong client  or  void topup 7"),
        ("void topup acme", "`acme` is not a top-up number.", "void 42 wrong client  or  void topup 7"),
        ("void topup acme two", "`two` is not a block number.", "void topup acme 2"),
    ],
)
def test_void_mistakes_are_explained(text: str, why: str, example: str) -> None:
    refused = refusal(text)
    assert why in refused.message and refused.example == example


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("edit 42 45m", c.EditEntry(42, 45, "45m", None, None)),
        ("edit #42 1h yesterday new note", c.EditEntry(42, 60, "1h", "yesterday", "new note")),
        ("edit 42 1h --nb", c.EditEntry(42, 60, "1h", None, None, True)),
        ("edit 42 1h Non-Billable", c.EditEntry(42, 60, "1h", None, None, True)),
        ("edit 42 1h billable", c.EditEntry(42, 60, "1h", None, None, False)),
        ("edit 42 --billable 1h", c.EditEntry(42, 60, "1h", None, None, False)),
        ("edit 42 1h as onsite", c.EditEntry(42, 60, "1h", None, None, None, "onsite")),
    ],
)
def test_edit_reads_what_changes(text: str, command: c.Command) -> None:
    assert parse(text) == command


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("edit", "Say which entry and its new duration."),
        ("edit 42", "Say which entry and its new duration."),
        ("edit x 45m", "`x` is not an entry number."),
        ("edit 42 new note", "There is no duration in `new note`"),
        ("edit 42 30m at 22:00", "`at` is for new entries"),
        ("edit 42 30m 1h", "Two durations"),
    ],
)
def test_edit_mistakes_are_explained(text: str, why: str) -> None:
    assert why in refusal(text).message


def test_an_edit_of_flags_alone_is_refused_for_want_of_a_duration() -> None:
    """Found by mutation testing: it crashed (IndexError) instead of answering."""
    refused = refusal("edit 42 --nb")
    assert "duration" in refused.message and refused.example == "edit 42 45m --nb"


def test_an_edit_refusing_at_names_the_type_to_use() -> None:
    assert refusal("edit 42 30m at 22:00").example == "edit 42 30m as afterhours"


def test_edit_refusals_quote_an_edit_example() -> None:
    assert refusal("edit 42").example == "edit 42 45m laptop setup"
    assert refusal("edit x 45m").example == "edit 42 45m laptop setup"
    assert refusal("edit 42 30m 1h").example == "edit 42 45m yesterday laptop setup".replace(" 1h ", " 1h30m ")


# client


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("client add Acme Acme Corporation", c.ClientAdd("acme", "Acme Corporation")),
        ("client add acme", c.ClientAdd("acme", "acme")),
        ("client ALIAS Acme Acme-Corp", c.ClientAlias("acme", "acme-corp")),
        ("client rename acme Acme  Corp", c.ClientRename("acme", "Acme Corp")),
        ("client rename acme Globex", c.ClientRename("acme", "Globex")),
        ("client archive Acme", c.ClientArchive("acme", True)),
        ("client unarchive acme", c.ClientArchive("acme", False)),
        ("client show ACME", c.ClientShow("acme")),
        ("client list", c.ClientList(False)),
        ("client list all", c.ClientList(True)),
        ("client list --ALL", c.ClientList(True)),
        ("clients", c.ClientList(False)),
        ("clients All", c.ClientList(True)),
        ("clients --all", c.ClientList(True)),
    ],
)
def test_client_subcommands(text: str, command: c.Command) -> None:
    assert parse(text) == command


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("client", "`client` needs a subcommand."),
        ("client add", "`client add` needs a client handle."),
        ("client alias acme", "`client alias` takes a handle and one alias."),
        ("client alias acme a b", "`client alias` takes a handle and one alias."),
        ("client alias acme 1h", "not a usable handle"),
        ("client rename acme", "`client rename` needs the new display name."),
        ("client merge acme globex", "`client merge` is not a client subcommand."),
        ("client set acme", "Say what to set: name, rounding"),
    ],
)
def test_client_mistakes_are_explained(text: str, why: str) -> None:
    assert why in refusal(text).message


def test_client_refusals_quote_the_client_usage() -> None:
    assert refusal("client").example == USAGE["client"]
    assert refusal("client show").example == USAGE["client"]
    assert refusal("client frob acme").example == USAGE["client"]


def settings_of(words: str, max_minutes: int = 24 * 60) -> dict[str, object]:
    command = parse(f"client set acme {words}", max_minutes=max_minutes)
    assert isinstance(command, c.ClientSet) and command.handle == "acme"
    return command.changes


@pytest.mark.parametrize(
    ("words", "changes"),
    [
        ("name Acme Corporation Ltd", {"display_name": "Acme Corporation Ltd"}),
        ("rounding 15m name Acme", {"rounding_minutes": 15, "display_name": "Acme"}),
        ("increment 6m", {"rounding_minutes": 6}),
        ("rounding none", {"rounding_minutes": 0}),
        ("minimum 30m", {"minimum_minutes": 30}),
        ("min 1h", {"minimum_minutes": 60}),
        ("overdraft 2h", {"overdraft_minutes": 120}),
        ("OVERDRAFT Unlimited", {"overdraft_minutes": None}),
        ("client-notes on", {"client_notes": True}),
        ("client-view off", {"client_view": False}),
        ("statement-to <#C42|acme>", {"statement_channel": "C42"}),
        ("statement-to none", {"statement_channel": None}),
        ("statement-to Off", {"statement_channel": None}),
        ("grace 7d", {"expiry_grace_days": 7}),
        ("overage carry", {"overage_policy": "carry"}),
        ("manager <@U123|sam>", {"account_manager": "U123"}),
        ("manager None", {"account_manager": None}),
        ("am U77ABC", {"account_manager": "U77ABC"}),
        ("am none", {"account_manager": None}),
        ("channel C99ABC", {"alert_channel": "C99ABC"}),
        ("channel NONE", {"alert_channel": None}),
        ("tz Europe/Berlin", {"timezone": "Europe/Berlin"}),
        ("thresholds 50%,2h", {"thresholds": "50%,2h"}),
        ("email am@msp.example", {"alert_email": "am@msp.example"}),
        ("email none", {"alert_email": None}),
        ("webhook https://psa.example/hook", {"alert_webhook": "https://psa.example/hook"}),
        ("webhook None", {"alert_webhook": None}),
        ("psa-company 250", {"psa_company_id": "250"}),
        ("psa-agreement none", {"psa_agreement_id": None}),
        ("psa-ticket #5678", {"psa_ticket_id": "5678"}),
        ("hours mon-fri 08:00-18:00", {"work_hours": "mon-fri 08:00-18:00"}),
        ("hours none rounding 15m", {"work_hours": None, "rounding_minutes": 15}),
        ("hours OFF", {"work_hours": None}),
        ("grace 3 hours mon-fri 08:00-18:00", {"expiry_grace_days": 3, "work_hours": "mon-fri 08:00-18:00"}),
        ("hours mon-fri 08:00-18:00 grace 3", {"work_hours": "mon-fri 08:00-18:00", "expiry_grace_days": 3}),
        ("grace 3 worktype onsite 2", {"expiry_grace_days": 3, "work_type_rates": {"onsite": Decimal(2)}}),
        ("worktype onsite 2 grace 3", {"work_type_rates": {"onsite": Decimal(2)}, "expiry_grace_days": 3}),
        ("worktype onsite 2", {"work_type_rates": {"onsite": Decimal(2)}}),
        ("worktype OnSite none", {"work_type_rates": {"onsite": None}}),
        ("worktype onsite default", {"work_type_rates": {"onsite": None}}),
        (
            "worktype onsite 1.5 worktype remote 0.5 grace 3",
            {"work_type_rates": {"onsite": Decimal("1.5"), "remote": Decimal("0.5")}, "expiry_grace_days": 3},
        ),
        ("rounding 15m increment 15m", {"rounding_minutes": 15}),
    ],
)
def test_client_settings(words: str, changes: dict[str, object]) -> None:
    assert settings_of(words) == changes


def test_rounding_and_minimum_are_at_most_the_longest_entry() -> None:
    assert settings_of("minimum 2h", max_minutes=120) == {"minimum_minutes": 120}
    assert "longer than the longest entry" in refusal("client set acme minimum 2h", max_minutes=119).message
    assert "`rounding 2h` is longer" in refusal("client set acme rounding 2h", max_minutes=60).message


@pytest.mark.parametrize(
    ("words", "why"),
    [
        ("name", "`name` needs a value."),
        ("worktype onsite", "`worktype` needs a work type and its multiplier."),
        ("worktype", "`worktype` needs a work type and its multiplier."),
        ("worktype onsite 11", "at most 10"),
        ("hours mon-fri", "`hours` needs the days and the time range."),
        ("hours", "`hours` needs the days and the time range."),
        ("rounding", "`rounding` needs a value."),
        ("grace", "`grace` needs a value."),
        ("Colour red", "`Colour` is not a client setting."),
        ("rounding 15m increment 30m", "`increment` is given twice with different values"),
        ("manager U1AB am U2AB", "`am` is given twice with different values"),
        ("rounding 15", "has no unit"),
    ],
)
def test_client_setting_mistakes_are_explained(words: str, why: str) -> None:
    assert why in refusal(f"client set acme {words}").message


def test_client_setting_refusals_quote_a_client_set_example() -> None:
    example = "client set acme rounding 15m minimum 15m overdraft 2h"
    assert refusal("client set acme").example == example
    assert refusal("client set acme colour red").example == example
    assert refusal("client set acme grace").example == example
    assert refusal("client set acme rounding 15m rounding 30m").example == example
    assert refusal("client set acme worktype onsite").example == "client set acme worktype onsite 2"


# role, link, snooze, worktype, nudges, help


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("role <@U42|sam> Manager", c.SetRole("U42", Role.MANAGER)),
        ("role U42ABC admin", c.SetRole("U42ABC", Role.ADMIN)),
        ("link Acme", c.Link("acme")),
        ("link none", c.Link(None)),
        ("link OFF", c.Link(None)),
        ("link acme replies public", c.Link("acme", True)),
        ("link acme Replies Private", c.Link("acme", False)),
        ("snooze Acme", c.Snooze("acme", 7)),
        ("snooze acme 14", c.Snooze("acme", 14)),
        ("snooze acme 30D", c.Snooze("acme", 30)),
        ("snooze acme 1", c.Snooze("acme", 1)),
        ("snooze acme 90d", c.Snooze("acme", 90)),
        ("worktype", c.WorkTypeList(False)),
        ("worktypes list", c.WorkTypeList(False)),
        ("worktype list all", c.WorkTypeList(True)),
        ("worktype LIST --all", c.WorkTypeList(True)),
        ("worktype add OnSite x1.5", c.WorkTypeAdd("onsite", Decimal("1.5"))),
        ("worktype archive onsite", c.WorkTypeArchive("onsite")),
        ("nudges on", c.NudgesSet(True)),
        ("nudges OFF", c.NudgesSet(False)),
        ("help", c.Help("")),
        ("help TopUp", c.Help("topup")),
        ("insights", c.Insights()),
    ],
)
def test_other_commands(text: str, command: c.Command) -> None:
    assert parse(text) == command


@pytest.mark.parametrize(
    ("text", "why", "example"),
    [
        ("role U42ABC", "`role` takes a user and a role.", example_of("role")),
        ("role U42ABC admin now", "`role` takes a user and a role.", example_of("role")),
        ("link", "`link` takes one client", "link acme  or  link acme replies public"),
        ("link acme globex", "`link` takes one client", "link acme  or  link acme replies public"),
        ("link acme replies loud", "`link` takes one client", "link acme  or  link acme replies public"),
        ("link acme answers public", "`link` takes one client", "link acme  or  link acme replies public"),
        ("snooze", "`snooze` takes a client", "snooze acme 7"),
        ("snooze acme 7 days", "`snooze` takes a client", "snooze acme 7"),
        ("snooze acme 0", "`0` is not a number of days from 1 to 90.", "snooze acme 7"),
        ("snooze acme 91", "`91` is not a number of days from 1 to 90.", "snooze acme 7"),
        ("snooze acme week", "`week` is not a number of days", "snooze acme 7"),
        ("snooze acme ٣", "is not a number of days", "snooze acme 7"),
        ("worktype add onsite", "`worktype` takes add", "worktype add onsite 1.5"),
        ("worktype archive", "`worktype` takes add", "worktype add onsite 1.5"),
        ("worktype remove onsite", "`worktype` takes add", "worktype add onsite 1.5"),
        ("nudges", "`nudges` takes on or off.", "nudges off"),
        ("nudges on off", "`nudges` takes on or off.", "nudges off"),
    ],
)
def test_other_mistakes_are_explained(text: str, why: str, example: str) -> None:
    refused = refusal(text)
    assert why in refused.message and refused.example == example
