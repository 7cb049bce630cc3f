"""The baseline: a bare Bolt app whose ``/logtime`` only acks, on the same server (waitress) with the
same settings as ``blocktime serve``. ``--mode fast`` (the baseline) answers from the request's own
thread (``process_before_response=True``); ``--mode default`` is Bolt's default HTTP setting, where the
listener runs in Bolt's pool and the request's thread polls for the ack every 10 ms."""

from __future__ import annotations

import argparse
import logging
import os

from slack_bolt import Ack, App
from slack_sdk import WebClient
from waitress import serve

from bot.app import MAX_BODY_BYTES
from bot.workers import listen, supervise


def create_bare_app(fast: bool = True) -> App:
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"], process_before_response=fast)

    @app.command("/logtime")
    def logtime(ack: Ack) -> None:
        ack(text="ok")

    return app


def main() -> None:
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--mode", choices=("fast", "default"), default="fast")
    args = parser.parse_args()
    fast = args.mode == "fast"
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # as ``blocktime serve`` does
    options = {"threads": args.threads, "max_request_body_size": MAX_BODY_BYTES, "ident": "bare-bolt"}
    if args.workers == 1:
        serve(SlackRequestHandler(create_bare_app(fast)), host="127.0.0.1", port=args.port, **options)
        return
    # the same pre-fork supervisor as ``blocktime serve --workers N``
    listener = listen("127.0.0.1", args.port)
    supervise(
        args.workers,
        lambda: serve(SlackRequestHandler(create_bare_app(fast)), sockets=[listener], **options),
        after_fork=lambda: None,
    )


if __name__ == "__main__":
    main()
