"""The ``blocktime`` command: the same command words as Slack, plus ``migrate``, ``console`` and
``demo``. ``--json`` prints machine-readable output (errors as ``{"error": ...}`` with a non-zero exit)
and ``--as USER`` acts as a Slack user; both may stand before or after the command words."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TextIO

from rich.console import Console
from rich.text import Text

from bot import __version__
from bot.bootstrap import build_context
from bot.clock import Clock, SystemClock
from bot.config import ConfigError, Settings
from bot.console import render
from bot.domain.commands import Report
from bot.domain.errors import DomainError
from bot.domain.grammar import parse_command
from bot.domain.helptext import help_text
from bot.failures import Kind, failure_of
from bot.services import Actor, Context, run, writes
from bot.services.context import LOCAL_ADMIN
from bot.services.people import known_standing
from bot.services.results import Result
from storage.db import DatabaseUnavailable

log = logging.getLogger("blocktime.cli")

EXIT_OK, EXIT_REFUSED, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_PSA_REFUSED, EXIT_BUG = 0, 1, 2, 3, 4, 70

PSA_USAGE = (
    "blocktime psa check | link <client> [<company id> [<agreement id>]] | member <user> <member id|none> | "
    "worktype <name> <work type id|none> [role <id>] | reconcile <client> [period] | "
    "import-blocks <client> [confirm] | sync <client> [period] | retry [client]"
)


USAGE = f"""usage: blocktime [--json] [--as USER] <command words...>

{help_text()}

Also: blocktime migrate | console | run | serve [--port N] | socket | web [--port N] | demo | version
      blocktime jobs list | jobs run expiry|renewal|digest|statement|allotments|dispatch [--date YYYY-MM-DD]
      blocktime report <client>|--all [period] [--out FILE.csv] [--chart FILE.png]
      blocktime export [--out FILE.json] | import FILE.json
      {PSA_USAGE}
"""


@dataclass
class Invocation:
    words: list[str]
    json: bool = False
    actor: Actor | None = None
    out: str | None = None  # report, export: the file to write
    chart: str | None = None  # report: the chart's file


FILE_FLAGS = {"out": ("report", "export"), "chart": ("report",)}


def _flags() -> argparse.ArgumentParser:
    """The CLI's own flags, taken from anywhere among the words; the rest are the command's words (the
    grammar shared with Slack), kept in order, their own flags (``--nb``, ``--all``) included."""
    parser = argparse.ArgumentParser(prog="blocktime", add_help=False, allow_abbrev=False, exit_on_error=False)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--as", dest="user")
    for name in FILE_FLAGS:
        parser.add_argument(f"--{name}")
    return parser


def split_flags(argv: Sequence[str]) -> Invocation:
    """Take ``--json``, ``--as USER``, ``--out FILE`` and ``--chart FILE`` from anywhere in the
    arguments; the rest are command words."""
    try:
        options, words = _flags().parse_known_args(list(argv))
    except argparse.ArgumentError as error:
        flag = error.argument_name or "that flag"
        example = "blocktime --as U012ABC balance" if flag == "--as" else "blocktime report acme --out acme.csv"
        raise DomainError(f"`{flag}` needs a value.", example) from None
    if options.user is not None and not options.user:
        raise DomainError("`--as` needs a user.", "blocktime --as U012ABC balance")
    verb = words[0] if words else ""
    for name, verbs in FILE_FLAGS.items():
        if getattr(options, name) is not None and verb not in verbs:
            raise DomainError(f"`--{name}` goes with {' or '.join(verbs)}.", f"blocktime {verbs[0]} acme --{name} file")
    user = options.user
    actor = None if user is None else (Actor.local_admin() if user == LOCAL_ADMIN else Actor(user, user))
    return Invocation(words, options.json, actor, options.out, options.chart)


def main(argv: Sequence[str] | None = None, clock: Clock | None = None) -> int:
    """The ``blocktime`` command. ``clock`` is the time it acts at (the system's by default), injected
    the way ``create_app`` and ``build_context`` take it, so a test's data and its CLI agree on today."""
    try:
        return _main(argv, clock)
    except BrokenPipeError:  # `blocktime entries acme | head`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
        return EXIT_OK


def _main(argv: Sequence[str] | None, clock: Clock | None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    out = Console(soft_wrap=True)
    try:
        invocation = split_flags(argv)
    except DomainError as error:
        return _fail(out, False, str(error), EXIT_USAGE)
    words = invocation.words
    if not words or words[0] in ("-h", "--help"):
        print(USAGE)
        return EXIT_OK
    if words[0] in ("version", "--version"):
        print(f"blocktime {__version__}")
        return EXIT_OK
    try:
        settings = Settings.from_env()
        ctx = build_context(settings, clock)
    except ConfigError as error:
        return _fail(out, invocation.json, str(error), EXIT_USAGE)
    except DatabaseUnavailable as error:
        error.writing = _writes(words, (clock or SystemClock()).now().date())
        return _failed(out, invocation.json, error, "opening the database")
    try:
        given = invocation.actor
        if given is not None and not given.local:  # --as: the user acts as what Slack last said they are
            standing = known_standing(ctx, given.user_id)
            if standing is not None:
                invocation.actor = replace(given, standing=standing)
        return dispatch(ctx, invocation, out, sys.stdin)
    except DatabaseUnavailable as error:
        return _failed(out, invocation.json, error, " ".join(words[:1]))
    finally:
        ctx.db.dispose()


def dispatch(ctx: Context, invocation: Invocation, out: Console, stdin: TextIO) -> int:
    verb = invocation.words[0]
    actor = invocation.actor or Actor.local_admin()
    if verb == "migrate":
        print("Database is up to date.")  # build_context has applied every migration
        return EXIT_OK
    if verb == "console":
        return console(ctx, actor, out, stdin)
    if verb == "run":
        return _run(ctx, actor, out, stdin)
    if verb == "serve":
        return _serve(ctx, invocation.words[1:], out)
    if verb == "socket":
        return _socket(ctx, out)
    if verb == "web":
        return _web(ctx, invocation.words[1:], out)
    if verb == "demo":
        return _demo(ctx, invocation, out)
    if verb == "jobs":
        return _jobs(ctx, invocation, out)
    if verb == "report":
        return _report(ctx, actor, invocation, out)
    if verb in ("export", "import"):
        return _backup(ctx, invocation, out)
    if verb == "psa":
        return _psa(ctx, actor, invocation, out)
    written: list[bool] = []
    ctx.db.outbox_subscribers.append(lambda: written.append(True))
    code = execute(ctx, actor, " ".join(invocation.words), out, invocation.json)
    if written:
        _deliver_now(ctx)
    return code


def _report(ctx: Context, actor: Actor, invocation: Invocation, out: Console) -> int:
    """``blocktime report <client>|--all [period] [--out FILE.csv] [--chart FILE.png]``."""
    from pathlib import Path

    from bot.reports.chart import report_chart
    from bot.reports.csvfile import entries_csv
    from bot.services.reports import AllEntriesResult, ReportResult

    words, csv_path, chart_path = invocation.words, invocation.out, invocation.chart
    try:
        command = parse_command(" ".join(words), ctx.today(), ctx.settings.max_entry_minutes)
        result = run(ctx, actor, command, source="cli")
    except Exception as error:
        return _failed(out, invocation.json, error, "report")
    assert isinstance(command, Report) and isinstance(result, ReportResult | AllEntriesResult)
    stem = "blocktime-" + (result.client if isinstance(result, ReportResult) else "all")
    last_month = command.period.end - timedelta(days=1)
    months = command.period.start.strftime("%Y-%m")
    if (last_month.year, last_month.month) != (command.period.start.year, command.period.start.month):
        months += f"..{last_month:%Y-%m}"  # a range's file never overwrites its first month's
    files = {"csv": Path(csv_path or f"{stem}-{months}.csv")}
    if isinstance(result, ReportResult):
        files["chart"] = Path(chart_path or f"{stem}-{months}.png")
    for kind, path in files.items():  # checked before anything is written
        if not path.parent.is_dir():
            flag = "--out" if kind == "csv" else "--chart"
            return _fail(
                out,
                invocation.json,
                f"{flag} {path}: the folder {path.parent} does not exist; nothing was written.",
                EXIT_USAGE,
            )
    written: dict[str, str] = {}
    try:
        files["csv"].write_bytes(entries_csv(result.entries))
        written["csv"] = str(files["csv"])
        if isinstance(result, ReportResult):
            files["chart"].write_bytes(report_chart(result, ctx.now()))
            written["chart"] = str(files["chart"])
    except OSError as error:
        done = f" ({', '.join(written.values())} was written)" if written else ""
        return _fail(out, invocation.json, f"Could not write {error.filename}: {error.strerror}{done}.", EXIT_USAGE)
    if invocation.json:
        print(json.dumps({**result.as_dict(), "files": written}, indent=2, sort_keys=True, default=str))
    else:
        render(out, result)
        for kind, name in written.items():
            out.print(f"Wrote {kind}: {name}", highlight=False)
    return EXIT_OK


def _backup(ctx: Context, invocation: Invocation, out: Console) -> int:
    """``blocktime export [--out FILE]`` (stdout without --out) and ``blocktime import FILE``."""
    from pathlib import Path

    from storage.backup import BackupError, export_data, import_data

    verb = invocation.words[0]
    words, path = invocation.words[1:], invocation.out
    if verb == "export":
        data = json.dumps(export_data(ctx.db), indent=1, sort_keys=True)
        if path:
            Path(path).write_text(data, encoding="utf-8")
            out.print(f"Exported to {path}", highlight=False)
        else:
            print(data)
        return EXIT_OK
    source = words[0] if words else path
    if not source:
        return _fail(out, invocation.json, "Say which file to import: blocktime import backup.json", EXIT_USAGE)
    try:
        counts = import_data(ctx.db, json.loads(Path(source).read_text(encoding="utf-8")))
    except (BackupError, OSError, ValueError) as error:
        return _fail(out, invocation.json, f"Not imported: {error}", EXIT_REFUSED)
    if invocation.json:
        print(json.dumps({"imported": counts}))
    else:
        out.print("Imported " + ", ".join(f"{n} {table}" for table, n in counts.items() if n), highlight=False)
    return EXIT_OK


def _psa(ctx: Context, actor: Actor, invocation: Invocation, out: Console) -> int:
    """``blocktime psa ...``: connect the PSA, map clients, technicians and work types, compare, import."""
    from bot.bootstrap import connect
    from bot.domain.dates import parse_period
    from bot.services import psa_admin

    words, as_json = invocation.words[1:], invocation.json
    sub, args = (words[0].lower(), words[1:]) if words else ("", [])
    psa = connect(ctx.settings, interactive=True)
    needs_psa = sub in ("check", "link", "reconcile", "import-blocks")
    if needs_psa and psa is None:
        return _fail(
            out,
            as_json,
            "No PSA is connected: set PSA=connectwise, halopsa or autotask and its settings in .env "
            "(README: Connect your PSA).",
            EXIT_USAGE,
        )
    code = EXIT_OK
    try:
        if sub == "check":
            assert psa is not None
            checked = psa_admin.check(ctx, actor, psa)
            result: Result = checked.message
            code = EXIT_OK if checked.complete else EXIT_REFUSED
        elif sub == "link" and 1 <= len(args) <= 3:
            assert psa is not None
            company, agreement = (args[1:] + [None, None])[:2]
            result = psa_admin.link(ctx, actor, psa, args[0], company, agreement)
        elif sub == "member" and len(args) == 2:
            member_id = None if args[1].lower() in ("none", "off") else args[1]
            result = psa_admin.member(ctx, actor, psa, args[0], member_id)
        elif sub == "worktype" and len(args) in (2, 4) and (len(args) == 2 or args[2].lower() == "role"):
            type_id = None if args[1].lower() in ("none", "off") else args[1]
            result = psa_admin.work_type(ctx, actor, args[0].lower(), type_id, args[3] if len(args) == 4 else None)
        elif sub == "reconcile" and args:
            assert psa is not None
            period = parse_period(" ".join(args[1:]), ctx.today())
            result = psa_admin.reconcile(ctx, actor, psa, args[0], period)
        elif sub == "import-blocks" and 1 <= len(args) <= 2 and args[1:] in ([], ["confirm"]):
            assert psa is not None
            result = psa_admin.import_blocks(ctx, actor, psa, args[0], confirmed=bool(args[1:]))
        elif sub == "sync" and args:
            period = parse_period(" ".join(args[1:]), ctx.today())
            result = psa_admin.backfill(ctx, actor, args[0], period)
        elif sub == "retry" and len(args) <= 1:
            result = psa_admin.retry(ctx, actor, args[0] if args else None)
        else:
            return _fail(out, as_json, f"Usage: {PSA_USAGE}", EXIT_USAGE)
    except Exception as error:
        return _failed(out, as_json, error, f"psa {sub}")
    if as_json:
        print(json.dumps(result.as_dict(), indent=2, sort_keys=True, default=str))
    else:
        render(out, result)
    if sub in ("link", "sync", "retry"):
        _deliver_now(ctx)  # what was queued again goes now, where this process reaches the PSA
    return code


def _deliver_now(ctx: Context) -> None:
    """Alerts caused by this command go out now where this process can reach the destination; the rest
    stay in the outbox for the bot's dispatcher."""
    from bot.bootstrap import transports_for
    from bot.jobs.dispatcher import Dispatcher

    try:
        Dispatcher(ctx, transports_for(ctx)).run_once()
    except Exception:
        log.warning("alert delivery deferred to the bot's dispatcher", exc_info=True)


def _jobs(ctx: Context, invocation: Invocation, out: Console) -> int:
    """``blocktime jobs run <name> [--date YYYY-MM-DD]`` and ``blocktime jobs list``."""
    from datetime import datetime

    from bot.bootstrap import transports_for
    from bot.jobs.dispatcher import Dispatcher
    from bot.jobs.scheduler import TIMER_CHECK_MINUTES, run_job, triggers
    from bot.jobs.tasks import JOBS
    from bot.services.timers import ask_about_long_timers

    names = [*JOBS, "dispatch", "timers"]
    parser = argparse.ArgumentParser(prog="blocktime jobs")
    parser.add_argument("action", choices=["run", "list"])
    parser.add_argument("name", nargs="?", choices=names)
    parser.add_argument("--date", help="the day to run the job for (YYYY-MM-DD); default today")
    try:
        options = parser.parse_args(invocation.words[1:])
    except SystemExit:
        return EXIT_USAGE
    if options.action == "list":
        for name, trigger in triggers(ctx).items():
            out.print(f"{name}: {trigger}", highlight=False)
        out.print(f"dispatch: every {ctx.settings.dispatch_seconds} s")
        out.print(f"timers: every {TIMER_CHECK_MINUTES} min (timers past {ctx.settings.timer_confirm_hours} h)")
        return EXIT_OK
    if options.name is None:
        return _fail(out, invocation.json, f"Say which job: {', '.join(names)}.", EXIT_USAGE)
    if options.name == "timers":  # ask about timers left running (each owner once)
        asked = ask_about_long_timers(ctx)
        sent = Dispatcher(ctx, transports_for(ctx)).run_once(limit=500)
        print(json.dumps({"job": "timers", "asked": asked}) if invocation.json else f"Asked {asked}, delivered {sent}.")
        return EXIT_OK
    if options.name == "dispatch":
        sent = Dispatcher(ctx, transports_for(ctx)).run_once(limit=500)
        print(json.dumps({"job": "dispatch", "delivered": sent}) if invocation.json else f"Delivered {sent}.")
        return EXIT_OK
    day = ctx.today()
    if options.date:
        try:
            day = datetime.strptime(options.date, "%Y-%m-%d").date()
        except ValueError:
            return _fail(out, invocation.json, f"--date {options.date} is not a date (YYYY-MM-DD).", EXIT_USAGE)
        if day > ctx.today():
            return _fail(
                out,
                invocation.json,
                f"--date {options.date} is after today ({ctx.today()}): a job run by hand never acts on a day "
                "that has not come yet. Leave --date out to run it for today.",
                EXIT_USAGE,
            )
    # The clock stays the real one: a job run for a past day (one the scheduler missed) records its
    # ledger lines when they are really written, so statements already sent never change.
    outcome = run_job(ctx, options.name, day, repeat=True)
    Dispatcher(ctx, transports_for(ctx)).run_once(limit=500)
    if invocation.json:
        print(json.dumps({"job": outcome.job, "date": outcome.due_key, "ran": outcome.ran, "summary": outcome.summary}))
    else:
        verb = "Ran" if outcome.ran else "Skipped"
        out.print(f"{verb} {outcome.job} for {outcome.due_key}: {outcome.summary}", highlight=False)
    return EXIT_OK


def execute(ctx: Context, actor: Actor, line: str, out: Console, as_json: bool) -> int:
    """Parse and run one command line, print the result, and return the exit code."""
    try:
        command = parse_command(line, ctx.today(), ctx.settings.max_entry_minutes)
        result = run(ctx, actor, command, source="cli")
    except Exception as error:
        return _failed(out, as_json, error, line.split(" ")[0])
    if as_json:
        print(json.dumps(_json_shape(command, result), indent=2, sort_keys=True))
    else:
        render(out, result)
    return EXIT_OK


def _json_shape(command: object, result: Result) -> dict[str, object]:
    """``balance <client> --json`` is that client's balance object itself (``client``,
    ``remaining_minutes``...); every other result is its own dict."""
    from bot.domain.commands import Balance
    from bot.services.results import BalancesResult

    if isinstance(command, Balance) and command.client and isinstance(result, BalancesResult):
        return result.balances[0].as_dict()
    return result.as_dict()


def _writes(words: list[str], today: date) -> bool:
    """Whether the command line means to change something (said when the database is out of reach)."""
    try:
        return writes(parse_command(" ".join(words), today))
    except DomainError:
        return True  # not a ledger command (jobs, export...): say nothing was recorded


EXIT_CODES = {
    Kind.REFUSED: EXIT_REFUSED,
    Kind.UNAVAILABLE: EXIT_UNAVAILABLE,
    Kind.PSA_REFUSED: EXIT_PSA_REFUSED,
    Kind.BUG: EXIT_BUG,
}


def _failed(out: Console, as_json: bool, error: BaseException, what: str) -> int:
    """Say what went wrong (``bot.failures``, the words Slack uses too) and return its exit code."""
    failure = failure_of(error, what)
    return _fail(out, as_json, failure.message, EXIT_CODES[failure.kind])


def _fail(out: Console, as_json: bool, message: str, code: int) -> int:
    if as_json:
        print(json.dumps({"error": message}))
    else:
        Console(stderr=True, soft_wrap=True).print(Text("Error: ", style="red") + Text(message), highlight=False)
    return code


def console(ctx: Context, actor: Actor, out: Console, stdin: TextIO) -> int:
    """An interactive prompt, or a reader of piped lines. Returns non-zero if any line failed."""
    interactive = stdin.isatty()
    if interactive:
        out.print("blocktime console — type help, or quit. A leading / is fine: /logtime acme 15m advice")
    worst = EXIT_OK
    for raw in _lines(stdin, interactive):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.lower() in ("quit", "exit", "/quit", "/exit"):
            break
        try:
            invocation = split_flags(_console_words(line))
        except DomainError as error:
            worst = max(worst, _fail(out, False, str(error), EXIT_REFUSED))
            continue
        if not invocation.words:
            continue
        if invocation.words == ["demo"]:
            code = _demo(ctx, invocation, out)
        else:
            code = execute(ctx, invocation.actor or actor, " ".join(invocation.words), out, invocation.json)
        worst = max(worst, code)
    return worst


def _console_words(line: str) -> list[str]:
    words = line.split()
    head = words[0].lower()
    if head in ("/blocktime", "blocktime"):
        return words[1:]
    if head.startswith("/"):
        return [head[1:], *words[1:]]
    return words


def _lines(stdin: TextIO, interactive: bool) -> Iterable[str]:
    if not interactive:
        yield from stdin
        return
    while True:
        try:
            yield input("blocktime> ")
        except EOFError:
            print()
            return
        except KeyboardInterrupt:
            print()
            return


def _run(ctx: Context, actor: Actor, out: Console, stdin: TextIO) -> int:
    """``make run``: Socket Mode with ``SLACK_APP_TOKEN``, HTTP mode with a bot token and signing
    secret, otherwise the offline console on the configured database."""
    settings = ctx.settings
    if settings.slack_bot_token and settings.slack_app_token:
        return _socket(ctx, out)
    if settings.slack_bot_token and settings.slack_signing_secret:
        return _serve(ctx, [], out)
    out.print(
        f"Offline console on {ctx.db.safe_url()} (no Slack tokens set). Type help, demo for sample data, quit to leave."
    )
    console(ctx, actor, out, stdin)
    return EXIT_OK  # for people; `blocktime console` keeps the failing-line exit code for scripts


def _socket(ctx: Context, out: Console) -> int:
    """``blocktime socket``: Socket Mode (the Procfile's worker); no public URL needed."""
    if not (ctx.settings.slack_bot_token and ctx.settings.slack_app_token):
        return _fail(
            out, False, "Socket Mode needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN (see .env.example).", EXIT_USAGE
        )
    from bot.app import start_socket_mode

    logging.getLogger().setLevel(logging.INFO)
    out.print("Starting blocktime in Socket Mode…")
    start_socket_mode(ctx)
    return EXIT_OK


def _serve(ctx: Context, args: list[str], out: Console) -> int:
    """``blocktime serve [--port N] [--threads N] [--workers N]``: HTTP mode on waitress."""

    from bot.app import serve

    parser = argparse.ArgumentParser(prog="blocktime serve")
    parser.add_argument("--port", type=int, default=ctx.settings.port)
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--workers", type=int, default=ctx.settings.workers, help="processes (PostgreSQL only)")
    options = parser.parse_args(args)
    if options.workers < 1 or options.threads < 1:
        return _fail(out, False, "--workers and --threads take a number of 1 or more, e.g. --workers 2.", EXIT_USAGE)
    if options.workers > 1 and ctx.db.is_sqlite:
        return _fail(
            out,
            False,
            "--workers above 1 needs PostgreSQL: SQLite takes one writing process. "
            "Set DATABASE_URL=postgresql+psycopg://user@host/db, or run one worker: blocktime serve",
            EXIT_USAGE,
        )
    if not (ctx.settings.slack_bot_token and ctx.settings.slack_signing_secret):
        return _fail(
            out, False, "HTTP mode needs SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (see .env.example).", EXIT_USAGE
        )
    logging.getLogger().setLevel(logging.INFO)
    return serve(ctx, options.port, options.threads, options.host, options.workers)


def _web(ctx: Context, args: list[str], out: Console) -> int:
    """``blocktime web [--port N] [--host H]``: the client's page alone on waitress (beside Socket Mode,
    which serves no HTTP); no Slack tokens needed."""
    from bot.app import serve_web

    parser = argparse.ArgumentParser(prog="blocktime web")
    parser.add_argument("--port", type=int, default=ctx.settings.port)
    parser.add_argument("--host", default="0.0.0.0")  # noqa: S104 - a server
    parser.add_argument("--threads", type=int, default=8)
    options = parser.parse_args(args)
    if options.threads < 1 or not 0 < options.port < 65536:
        return _fail(out, False, "--port takes a port (1-65535) and --threads 1 or more, e.g. --port 8080.", EXIT_USAGE)
    logging.getLogger().setLevel(logging.INFO)
    return serve_web(ctx, options.port, options.host, options.threads)


def _demo(ctx: Context, invocation: Invocation, out: Console) -> int:
    from bot.demo import seed_demo

    try:
        done = seed_demo(ctx)
    except DomainError as error:
        return _fail(out, invocation.json, str(error), EXIT_REFUSED)
    if invocation.json:
        print(json.dumps({"seeded": done}))
    else:
        out.print(f"Seeded {len(done)} demo commands. Try: balance, balance acme, entries acme")
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
