"""Fault drills, each returning its figures: kill -9 under load, PostgreSQL stopped under load, the
Slack Web API failing for a minute, a fuzz run, and forged/stale/oversized requests."""

from __future__ import annotations

import http.client
import itertools
import json
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode
from urllib.request import urlopen

from sqlalchemy import func, select

from bench.common import SCRIPT, SECRET, add_clients, base_env, cli, free_port, load, pg_schema, start, stop, wait_port
from bench.loadgen import signed_request
from storage.db import Database
from storage.models import Entry, OutboxMessage


def _post_raw(port: int, raw: bytes) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        connection.request("POST", "/slack/events", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def _entries_by_key(url: str) -> Counter[str]:
    db = Database(url)
    with db.unit_of_work(read_only=True) as uow:
        found = Counter(k for (k,) in uow.session.execute(select(Entry.idempotency_key)) if k)
    db.dispose()
    return found


def kill9(slack_api: str, logs: Path) -> dict:  # type: ignore[type-arg]
    """kill -9 the server mid-load, restart it; then resend every request that got no answer."""
    clients = "acme,globex"
    with pg_schema() as url:
        env = base_env(url, slack_api)
        add_clients(env, clients, "100000")
        port = free_port()
        server = start([SCRIPT, "serve", "--port", str(port)], env, logs / "kill9.log")
        try:
            wait_port(port)
            result: dict = {}  # type: ignore[type-arg]
            loader = threading.Thread(target=lambda: result.update(load(port, 8, 8, clients, "kill9", ids=True)))
            loader.start()
            time.sleep(3)
            server.send_signal(signal.SIGKILL)
            server.wait()
            time.sleep(1)
            server = start([SCRIPT, "serve", "--port", str(port)], env, logs / "kill9.log")
            loader.join()
            wait_port(port)
            keys = _entries_by_key(url)
            acked = [f"cmd:{t}" for t in result["acked_ids"]]
            missing = sum(1 for k in acked if keys.get(k, 0) != 1)
            # a client that never got its answer sends the same request again (same trigger_id)
            for trigger in result["unanswered_ids"]:
                client = clients.split(",")[0]
                _post_raw(port, signed_request(SECRET, port, f"{client} 15m bench work", "UBENCH1", trigger))
            after = _entries_by_key(url)
        finally:
            stop(server)
    return {
        "acked": len(acked),
        "unanswered": len(result["unanswered_ids"]),
        "acked_missing_or_doubled": missing,
        "entries_after_retry": sum(after.values()),
        "distinct_after_retry": len(after),
        "doubled_after_retry": sum(1 for n in after.values() if n > 1),
    }


def _pg_cluster(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    subprocess.run(
        [
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            version,
            "main",
            action,
            *(["-m", "fast"] if action == "stop" else []),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )


def postgres_outage(slack_api: str, logs: Path, seconds: float = 10) -> dict:  # type: ignore[type-arg]
    """PostgreSQL stopped for ``seconds`` under load, then started again; the bot must recover alone."""
    if not shutil.which("pg_ctlcluster") or not Path("/etc/postgresql").exists():
        return {"skipped": "pg_ctlcluster not available"}
    clients = "acme,globex"
    with pg_schema() as url:
        env = base_env(url, slack_api)
        add_clients(env, clients, "100000")
        port = free_port()
        server = start([SCRIPT, "serve", "--port", str(port)], env, logs / "pg-outage.log")
        wait_port(port)
        result = {}
        loader = threading.Thread(
            target=lambda: result.update(load(port, 8, seconds + 12, clients, "pgdown", ids=True, duration="5m"))
        )
        loader.start()
        time.sleep(4)
        try:
            _pg_cluster("stop")
            stopped_at = time.time()
            time.sleep(seconds)
        finally:
            _pg_cluster("start")
        restarted_at = time.time()
        loader.join()
        try:
            after = load(port, 4, 2, clients, "pgafter")
        finally:
            stop(server)
        keys = _entries_by_key(url)
    acked = [f"cmd:{t}" for t in result["acked_ids"]]
    return {
        "down_seconds": round(restarted_at - stopped_at, 1),
        "acked": len(acked),
        "answered_not_recorded": result["not_recorded"],
        "no_answer": len(result["unanswered_ids"]),
        "falsely_confirmed": sum(1 for k in acked if keys.get(k, 0) != 1),
        "after_restart_rps": after["rps"],
        "after_restart_errors": after["errors"],
    }


def slack_outage(slack_api: str, logs: Path, seconds: float = 60) -> dict:  # type: ignore[type-arg]
    """The Web API answers 500 and 429 for a minute while 10 clients cross a threshold: alerts are
    delayed, not lost, not repeated."""
    control = slack_api.replace("/api/", "/control/")
    urlopen(control + "reset", data=b"").read()  # noqa: S310 - loopback
    import tempfile

    clients = ",".join(f"low{n}" for n in range(10))
    with tempfile.TemporaryDirectory() as folder:  # SQLite: independent of the PostgreSQL drills beside it
        url = f"sqlite:///{folder}/outage.db"
        env = base_env(url, slack_api, BLOCKTIME_ALERT_CHANNEL="CALERTS", BLOCKTIME_DISPATCH_SECONDS="2")
        add_clients(env, clients, "1")
        port = free_port()
        server = start([SCRIPT, "serve", "--port", str(port)], env, logs / "slack-outage.log")
        try:
            return _outage_run(url, port, control, clients, seconds)
        finally:
            stop(server)


def _outage_run(url: str, port: int, control: str, clients: str, seconds: float) -> dict:  # type: ignore[type-arg]
    wait_port(port)
    urlopen(control + f"outage?seconds={seconds}", data=b"").read()  # noqa: S310
    started = time.time()
    for n, handle in enumerate(clients.split(",")):
        _post_raw(port, signed_request(SECRET, port, f"{handle} 45m work", "UBENCH1", f"outage-{n}"))
    deadline = started + seconds + 240
    delivered: list[dict] = []  # type: ignore[type-arg]
    while time.time() < deadline:
        calls = json.loads(urlopen(control + "calls?method=chat.postMessage").read())["calls"]  # noqa: S310
        delivered = [c for c in calls if c["params"].get("channel") == "CALERTS" and "_failed_with" not in c["params"]]
        if len(delivered) >= 10:
            break
        time.sleep(1)
    time.sleep(5)  # would a repeat follow?
    calls = json.loads(urlopen(control + "calls?method=chat.postMessage").read())["calls"]  # noqa: S310
    ok = [c for c in calls if c["params"].get("channel") == "CALERTS" and "_failed_with" not in c["params"]]
    failed = [c for c in calls if "_failed_with" in c["params"] and c["params"].get("channel") == "CALERTS"]
    db = Database(url)
    with db.unit_of_work(read_only=True) as uow:
        pending = uow.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
        )
    db.dispose()
    texts = Counter(c["params"].get("text") for c in ok)
    return {
        "outage_seconds": seconds,
        "alerts_expected": 10,
        "delivered": len(ok),
        "repeated": sum(n - 1 for n in texts.values()),
        "failed_attempts": len(failed),
        "still_pending": pending,
        "last_delivery_after_s": round(max(c["at"] for c in ok) - started, 1) if ok else None,
    }


def fuzz(slack_api: str, cases: int = 10_000) -> dict:  # type: ignore[type-arg]
    """Random slash-command text, thread messages and interaction payloads through the real app
    (signed, in process): no crash, no 500, no error in the work after the ack, and no entry from a
    refused command. It has a fake Web API of its own: the Slack outage drill runs beside it."""
    from tests.fakes.slack_api import FakeSlack

    own = FakeSlack().start()
    try:
        return _fuzz(own.api_url, cases)
    finally:
        own.stop()


def _fuzz(slack_api: str, cases: int) -> dict:  # type: ignore[type-arg]
    import tempfile

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from slack_bolt.request import BoltRequest

    from bench.common import SECRET as secret
    from bot.app import create_app, dispatch_safely, drain
    from bot.bootstrap import build_context
    from bot.config import Settings
    from bot.domain.commands import Link
    from bot.services import Actor
    from bot.services.channels import link_channel

    folder = tempfile.mkdtemp()
    ctx = build_context(
        Settings(
            database_url=f"sqlite:///{folder}/fuzz.db",
            slack_bot_token="xoxb-fuzz",
            slack_signing_secret=secret,
            slack_api_url=slack_api,
            admins=frozenset({"UADMIN"}),
        )
    )
    from bot.domain.grammar import parse_command
    from bot.services import run as run_command

    admin = Actor.local_admin()
    for line in ("client add acme Acme", "topup acme 5", "client set acme overdraft 1h"):
        run_command(ctx, admin, parse_command(line, ctx.today()))
    link_channel(ctx, admin, "CFUZZ", Link("acme"))
    app = create_app(ctx)
    figures = Counter()  # type: ignore[var-annotated]
    serial = itertools.count(1)  # unique trigger ids, timestamps and event ids
    tally_lock = threading.Lock()

    def tally(*keys: str) -> None:
        with tally_lock:
            figures.update(keys)

    def entries_with_key(key: str) -> int:
        with ctx.db.unit_of_work(read_only=True) as uow:
            return int(uow.session.scalar(select(func.count()).where(Entry.idempotency_key == key)) or 0)

    def entries_by(user: str) -> int:
        with ctx.db.unit_of_work(read_only=True) as uow:
            return int(uow.session.scalar(select(func.count()).where(Entry.user_id == user)) or 0)

    def send(body: bytes, content_type: str) -> tuple[int, str]:
        stamp = str(int(time.time()))
        import hashlib
        import hmac

        signature = "v0=" + hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
        response = dispatch_safely(
            app,
            BoltRequest(
                body=body.decode(),
                headers={
                    "content-type": content_type,
                    "x-slack-request-timestamp": stamp,
                    "x-slack-signature": signature,
                },
            ),
        )
        return response.status, response.body

    words = st.sampled_from(
        [
            "logtime",
            "acme",
            "acmee",
            "15m",
            "90",
            "1h30m",
            "-5m",
            "25h",
            "yesterday",
            "--nb",
            "topup",
            "void",
            "1",
            "client",
            "set",
            "overdraft",
            "#12",
            "balance",
            "report",
            "💥",
            "",
        ]
    )
    texts = st.one_of(st.text(max_size=60), st.lists(words, max_size=8).map(" ".join))

    @settings(
        max_examples=cases // 3,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(
        st.sampled_from(["/logtime", "/balance", "/topup", "/blocktime"]), texts, st.sampled_from(["UTECH", "UADMIN"])
    )
    def commands(command: str, text: str, user: str) -> None:
        trigger = f"t{next(serial)}"
        status, body = send(
            urlencode(
                {
                    "command": command,
                    "text": text,
                    "user_id": user,
                    "channel_id": "C1",
                    "trigger_id": trigger,
                    "team_id": "T0",
                    # the fake Web API takes response_url posts too (reports answer there after the ack)
                    "response_url": slack_api.replace("/api/", "/response/fuzz"),
                }
            ).encode(),
            "application/x-www-form-urlencoded",
        )
        tally("commands", f"status_{status}")
        assert status < 500, body
        if command == "/logtime":  # an entry under this request's key exactly when it said "Logged"
            assert entries_with_key(f"cmd:{trigger}") == (1 if "Logged" in body else 0), body

    @settings(max_examples=cases // 3, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(texts, st.booleans())
    def thread_messages(text: str, in_thread: bool) -> None:
        event = {"type": "message", "channel": "CFUZZ", "user": "UTECH", "text": text, "ts": f"{next(serial)}.000100"}
        if in_thread:
            event["thread_ts"] = "1.000001"
        status, body = send(
            json.dumps(
                {"type": "event_callback", "event_id": f"E{next(serial)}", "team_id": "T0", "event": event}
            ).encode(),
            "application/json",
        )
        tally("thread_messages")
        assert status < 500, body

    payload_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=10,
    )

    @settings(
        max_examples=cases - 2 * (cases // 3),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        st.sampled_from(["block_actions", "view_submission", "view_closed", "shortcut", "weird"]),
        st.sampled_from(["undo_entry", "alert_snooze", "alert_add_hours", "home_top_up", "x"]),
        payload_values,
        st.sampled_from(["topup_modal", "log_modal", "x"]),
    )
    def interactions(kind: str, action: str, junk: object, callback_id: str) -> None:
        before = entries_by("UJUNK")  # the three kinds run at once: each checks only its own user's rows
        payload = {
            "type": kind,
            "user": {"id": "UJUNK"},
            "team": {"id": "T0"},
            "trigger_id": "t",
            "actions": [{"action_id": action, "value": json.dumps(junk)[:30]}],
            "view": {
                "id": "V1",
                "callback_id": callback_id,
                "state": {"values": {"client": {"value": junk}}},
            },
            "junk": junk,
        }
        status, body = send(urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")
        tally("interactions", f"status_{status}")
        assert status < 500, body
        assert entries_by("UJUNK") == before

    # Reports and refreshes run after the ack: a failure there is logged, never a 5xx, so count them.
    failures = _ErrorCount()
    logging.getLogger("blocktime").addHandler(failures)
    started = time.time()
    try:
        # Each request waits ~10 ms on Bolt's ack poll, so the three kinds run at once (hypothesis runs
        # separate tests in separate threads); a failure in any thread fails the drill.
        with ThreadPoolExecutor(3) as kinds:
            for done in [kinds.submit(commands), kinds.submit(thread_messages), kinds.submit(interactions)]:
                done.result()
        drain(app)  # the listeners, then their work after the ack
    finally:
        logging.getLogger("blocktime").removeHandler(failures)
    ctx.db.dispose()
    assert failures.count == 0, failures.first
    return {
        "cases": sum(figures[k] for k in ("commands", "thread_messages", "interactions")),
        **dict(figures),
        "seconds": round(time.time() - started, 1),
        "server_errors": 0,
        "background_errors": failures.count,
    }


class _ErrorCount(logging.Handler):
    """Counts error records (after-the-ack work that failed), keeping the first for the message."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0
        self.first = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.first = self.first or self.format(record)


def security(slack_api: str, logs: Path) -> dict:  # type: ignore[type-arg]
    """Forged, unsigned, stale and oversized requests, and technicians on every path: all refused."""
    with pg_schema() as url:
        env = base_env(url, slack_api)
        add_clients(env, "acme", "100000")
        cli(env, "--as", "UTECH", "logtime", "acme", "15m", "someone else's entry")
        port = free_port()
        server = start([SCRIPT, "serve", "--port", str(port)], env, logs / "security.log")
        try:
            wait_port(port)
            statuses: Counter[str] = Counter()
            good = signed_request(SECRET, port, "acme 15m x", "UTECH", "sec-good")
            head, _, body = good.partition(b"\r\n\r\n")
            for n in range(100):
                forged = good.replace(b"X-Slack-Signature: v0=", b"X-Slack-Signature: v0=0")
                statuses[f"forged_{_post_raw(port, forged)[0]}"] += 1
                unsigned = (
                    b"\r\n".join(x for x in head.split(b"\r\n") if not x.startswith(b"X-Slack")) + b"\r\n\r\n" + body
                )
                statuses[f"unsigned_{_post_raw(port, unsigned)[0]}"] += 1
                stale = signed_request(SECRET, port, "acme 15m x", "UTECH", f"stale{n}").replace(
                    b"X-Slack-Request-Timestamp: ", b"X-Slack-Request-Timestamp: 1"
                )
                statuses[f"stale_{_post_raw(port, stale)[0]}"] += 1
            try:
                big = signed_request(SECRET, port, "acme 15m " + "x" * 700_000, "UTECH", "big")
                statuses[f"oversized_{_post_raw(port, big)[0]}"] += 1
            except OSError:
                statuses["oversized_closed"] += 1
            tech = {
                "topup": signed_request(SECRET, port, "acme 50", "UTECH2", "t1", command="/topup"),
                "policy": signed_request(
                    SECRET, port, "client set acme overdraft unlimited", "UTECH2", "t2", command="/blocktime"
                ),
                "void_other": signed_request(SECRET, port, "void 1", "UTECH2", "t3", command="/blocktime"),
            }
            answers = {name: _post_raw(port, raw)[1].decode() for name, raw in tech.items()}
        finally:
            stop(server)
        db = Database(url)
        with db.unit_of_work(read_only=True) as uow:
            entries = uow.session.scalar(select(func.count()).select_from(Entry)) or 0
            voided = uow.session.scalar(select(func.count()).select_from(Entry).where(Entry.voided_at.is_not(None)))
        db.dispose()
    refused = {name: ("Only" in text) for name, text in answers.items()}
    return {
        **dict(statuses),
        "entries_written_by_rejected": entries - 1,
        "entries_voided": voided,
        "technician_refused": refused,
    }
