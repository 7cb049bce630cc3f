"""``make mutation``: the figures of a mutmut run on ``bot/domain`` (configured in ``pyproject.toml``).

python -m bench.mutation        # after ``mutmut run``: killed / reached, and each module's mutants

mutmut's own ``results`` lists one mutant a line (``bot.domain.forms.x_field_error__mutmut_3: killed``);
this adds them up per module. A mutant is *reached* when some unit test runs its code; a timeout
counts as killed (the tests noticed: the mutant never finished). Exit status 1 when the share of
reached mutants killed is below ``--goal`` (a percentage, 85 unless given), or a module is unreached.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

KILLED = {"killed", "timeout", "caught by type check"}
UNREACHED = {"no tests"}
UNRUN = {"not checked", "skipped", "check was interrupted by user"}
_LINE = re.compile(r"^\s*(?P<name>\S+?)__mutmut_\d+: (?P<status>.+?)\s*$")
_MODULE = re.compile(r"^(?P<module>.+?)\.x[_ǁ]")


def statuses(lines: list[str]) -> dict[str, Counter[str]]:
    """Each module's count of mutants per status."""
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for line in lines:
        found = _LINE.match(line)
        if found is None:
            continue
        module = _MODULE.match(found["name"])
        by_module[module["module"] if module else found["name"]][found["status"]] += 1
    return by_module


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--goal", type=float, default=85.0, help="least share of reached mutants killed (%%)")
    parser.add_argument("--mutmut", default=str(Path(sys.executable).with_name("mutmut")))
    args = parser.parse_args()
    out = subprocess.run([args.mutmut, "results", "--all", "true"], capture_output=True, text=True, check=True)
    by_module = statuses(out.stdout.splitlines())
    if not by_module:
        print("no mutants: run `mutmut run` first", file=sys.stderr)
        return 2
    total: Counter[str] = Counter()
    print(f"{'module':<28}{'mutants':>8}{'killed':>8}{'survived':>9}{'no tests':>9}{'killed %':>9}")
    for module in sorted(by_module):
        counts = by_module[module]
        total.update(counts)
        print(_row(module.removeprefix("bot.domain."), counts))
    print(_row("all of bot/domain", total))
    killed, reached = _killed(total), _reached(total)
    share = 100 * killed / reached if reached else 0.0
    unrun = sum(total[s] for s in UNRUN)
    print(
        f"\nThe unit ring kills {killed} of the {reached} mutants it reaches: {share:.1f}% (goal {args.goal:g}%); "
        f"{sum(total[s] for s in UNREACHED)} in code no unit test runs" + (f"; {unrun} not run" if unrun else "") + "."
    )
    unreached = [m for m, counts in by_module.items() if not _reached(counts)]
    if unreached:
        print("Modules no unit test reaches: " + ", ".join(sorted(unreached)))
    return 0 if share >= args.goal and not unreached else 1


def _killed(counts: Counter[str]) -> int:
    return sum(counts[s] for s in KILLED)


def _reached(counts: Counter[str]) -> int:
    return sum(counts.values()) - sum(counts[s] for s in UNREACHED | UNRUN)


def _row(name: str, counts: Counter[str]) -> str:
    killed, reached = _killed(counts), _reached(counts)
    share = f"{100 * killed / reached:.1f}" if reached else "-"
    return (
        f"{name:<28}{sum(counts.values()):>8}{killed:>8}{counts['survived']:>9}"
        f"{sum(counts[s] for s in UNREACHED):>9}{share:>9}"
    )


if __name__ == "__main__":
    sys.exit(main())
