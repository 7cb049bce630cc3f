"""The tests' fake Slack Web API as a process of its own, for benchmarks and drills. Controls over
HTTP: ``/control/outage?seconds=60`` (chat.postMessage answers 500 and 429 alternately),
``/control/calls?method=...``, ``/control/reset``."""

from __future__ import annotations

import argparse
import time

from tests.fakes.slack_api import FakeSlack


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    FakeSlack(parser.parse_args().port).start()
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
