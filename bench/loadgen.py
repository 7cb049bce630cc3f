"""A load generator in its own process: signed ``/logtime`` slash commands over keep-alive HTTP at a
fixed concurrency, for a fixed time. Prints one JSON line of figures (and the acknowledged trigger ids
when asked, so a drill can check every acknowledged entry exists exactly once).

    python -m bench.loadgen --port 3000 --concurrency 8 --seconds 5 --secret S --clients acme,globex
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import statistics
import time
import uuid
from urllib.parse import urlencode


def signed_request(
    secret: str, port: int, text: str, user: str, trigger_id: str, channel: str = "CBENCH", command: str = "/logtime"
) -> bytes:
    body = urlencode(
        {
            "token": "x",
            "team_id": "T0",
            "team_domain": "bench",
            "channel_id": channel,
            "channel_name": "bench",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0",
            "is_enterprise_install": "false",
            "response_url": f"http://127.0.0.1:9/response/{trigger_id}",
            "trigger_id": trigger_id,
        }
    ).encode()
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\nX-Slack-Request-Timestamp: {stamp}\r\nX-Slack-Signature: {signature}\r\n"
        "Connection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("closed")
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return status, body


async def worker(n: int, args: argparse.Namespace, deadline: float, results: dict) -> None:  # type: ignore[type-arg]
    clients = args.clients.split(",")
    ports = [int(p) for p in str(args.port).split(",")]
    port = ports[n % len(ports)]
    reader = writer = None
    i = 0
    while time.perf_counter() < deadline:
        if args.requests and results["sent"] >= args.requests:
            break
        results["sent"] += 1
        trigger = f"{args.tag}.{n}.{i}.{uuid.uuid4().hex[:6]}"
        text = f"{clients[(n + i) % len(clients)]} {args.duration} bench work"
        request = signed_request(args.secret, port, text, f"UBENCH{n % 50}", trigger)
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request)
            await writer.drain()
            status, body = await asyncio.wait_for(read_response(reader), timeout=args.timeout)  # type: ignore[arg-type]
        except (TimeoutError, OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
            results["errors"] += 1
            results["unanswered"].append(trigger)
            if writer is not None:
                writer.close()
            reader = writer = None
            await asyncio.sleep(0.05)
            i += 1
            continue
        elapsed = time.perf_counter() - started
        if status == 200:
            results["latencies"].append(elapsed)
            text_body = body.decode(errors="replace")
            if "Logged" in text_body or text_body == '{"text": "ok"}' or '"text":"ok"' in text_body.replace(" ", ""):
                results["acked"].append(trigger)
            elif "Not recorded" in text_body:
                results["not_recorded"] += 1
            else:
                results["refused"] += 1
        else:
            results["errors"] += 1
            results["status"][str(status)] = results["status"].get(str(status), 0) + 1
        i += 1
    if writer is not None:
        writer.close()


async def main_async(args: argparse.Namespace) -> dict:  # type: ignore[type-arg]
    results = {
        "latencies": [],
        "errors": 0,
        "acked": [],
        "unanswered": [],
        "refused": 0,
        "not_recorded": 0,
        "status": {},
        "sent": 0,
    }
    started = time.perf_counter()
    deadline = started + args.seconds
    await asyncio.gather(*(worker(n, args, deadline, results) for n in range(args.concurrency)))
    wall = time.perf_counter() - started
    latencies = sorted(results["latencies"])
    summary = {
        "concurrency": args.concurrency,
        "seconds": round(wall, 2),
        "requests": len(latencies),
        "rps": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, 1)
        if latencies
        else None,
        "errors": results["errors"],
        "refused": results["refused"],
        "not_recorded": results["not_recorded"],
        "status": results["status"],
    }
    if args.ids:
        summary["acked_ids"] = results["acked"]
        summary["unanswered_ids"] = results["unanswered"]
    return summary


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", required=True, help="a port, or several separated by commas (round robin)")
    parser.add_argument("--requests", type=int, default=0, help="stop after this many requests (0: time only)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--clients", default="acme")
    parser.add_argument("--duration", default="15m")
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--tag", default="bench")
    parser.add_argument("--ids", action="store_true")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args))))


if __name__ == "__main__":
    main()
