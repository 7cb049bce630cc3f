"""``make bench``: every benchmark and drill, then ``bench/RESULTS.md``.

python -m bench                 # everything (about 5 minutes on 2 cores)
python -m bench throughput      # one part: throughput, ledger, scaleout, drills
python -m bench workers         # extra: both apps with 2 server processes on PostgreSQL
python -m bench writers         # extra: the one writer against the fast writer it replaced (bench/writers.json)
python -m bench psa             # extra: time into each PSA's fake: drain rate, requests, an outage
python -m bench page            # extra: the client's page's server time, 10,000 entries (bench/page.json)
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from bench import drills, ledger, scaleout, throughput
from bench.common import ROOT, fake_slack
from bench.report import write_results

PARTS = ("throughput", "ledger", "scaleout", "drills")


@contextmanager
def fast_writer_checkout() -> Iterator[tuple[str, Path]]:
    """A checkout of the last revision with the fast writer (``storage/quick.py``), for the A/B."""
    removed = subprocess.run(
        ["git", "log", "-1", "--format=%H", "--diff-filter=D", "--", "storage/quick.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    revision = f"{removed}^" if removed else "HEAD"
    with tempfile.TemporaryDirectory() as folder:
        where = Path(folder) / "fast"
        subprocess.run(["git", "worktree", "add", "--detach", str(where), revision], cwd=ROOT, check=True)
        try:
            commit = subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=where, capture_output=True, text=True, check=True
            ).stdout.strip()
            yield commit, where
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(where)], cwd=ROOT, check=False)


def main() -> None:
    wanted = sys.argv[1:] or list(PARTS)
    logs = ROOT / "bench" / "out"
    logs.mkdir(exist_ok=True)
    figures: dict = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),  # type: ignore[type-arg]
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}",
    }
    started = time.time()
    laps: dict[str, float] = {}
    figures["part_seconds"] = laps

    def lap(part: str) -> None:
        laps[part] = round(time.time() - started - sum(laps.values()), 1)
        print(f"{part} done in {laps[part]} s", flush=True)

    with fake_slack() as api:
        if "throughput" in wanted:
            figures["throughput"] = throughput.compare("sqlite", api, 3, logs) + throughput.compare(
                "postgres", api, 3, logs
            )
            lap("throughput")
        if "workers" in wanted:  # not in the full run (time): both apps with 2 processes on PostgreSQL
            figures["throughput_workers"] = throughput.compare("postgres", api, 3, logs, workers=2)
            lap("workers")
        if "writers" in wanted:  # not in the full run (time): its figures are kept in bench/writers.json
            with fast_writer_checkout() as (revision, against):
                ab = {
                    "measured": figures["started"],
                    "against": revision,
                    "rows": [throughput.writers(d, api, 3, logs, against) for d in ("sqlite", "postgres")],
                }
            (ROOT / "bench" / "writers.json").write_text(json.dumps(ab, indent=2))
            lap("writers")
        if "psa" in wanted:  # not in the full run: its figures are kept in bench/psa.json
            from bench import psa

            figures["psa"] = psa.run()
            psa.write(figures["psa"], ROOT)
            lap("psa")
        if "page" in wanted:  # not in the full run: its figures are kept in bench/page.json
            from bench import page

            figures["page"] = page.run()
            page.write(figures["page"], ROOT)
            lap("page")
        if "drills" in wanted:
            # the Slack outage drill mostly waits for a minute: it runs beside the fuzz and ledger parts
            outage: dict = {}  # type: ignore[type-arg]
            beside = threading.Thread(target=lambda: outage.update(drills.slack_outage(api, logs)))
            beside.start()
            figures["fuzz"] = drills.fuzz(api)
            lap("fuzz")
        if "ledger" in wanted:
            with tempfile.TemporaryDirectory() as folder:
                figures["ledger"] = ledger.run(Path(folder))
            figures["bench_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
            lap("ledger")
        if "drills" in wanted:
            figures["security"] = drills.security(api, logs)
            figures["kill9"] = drills.kill9(api, logs)
            figures["postgres_outage"] = drills.postgres_outage(api, logs)
            beside.join()  # the Slack outage's last retries land ~2 min after it began
            figures["slack_outage"] = outage
            lap("drills")
        if "scaleout" in wanted:
            figures["scaleout"] = scaleout.run(api, logs)
            lap("scaleout")
    figures["total_seconds"] = round(time.time() - started, 1)
    (logs / "figures.json").write_text(json.dumps(figures, indent=2))
    if set(wanted) == set(PARTS):
        write_results(figures, ROOT / "bench" / "RESULTS.md")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
