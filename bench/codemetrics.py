"""``python -m bench codemetrics``: the code's shape, for the before/after of a restructuring.

Lines per package, the largest files, functions over 80 lines, and every place that assigns a
``*_minutes`` figure (an attribute or augmented assignment, or a ``*_minutes=`` keyword given to an SQL
``values()``/``update()``), outside the tests. Prints JSON; ``--markdown`` prints tables.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "storage", "tests", "bench")


def _files() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py") if "migrations" not in p.parts)


def _package(path: Path) -> str:
    parts = path.relative_to(ROOT).parts
    return "/".join(parts[:2]) if len(parts) > 2 else parts[0]


_SQL_SET = re.compile(r"\b(\w+_minutes)\s*=(?!=)")


def _models() -> set[str]:
    tree = ast.parse((ROOT / "storage" / "models.py").read_text())
    return {node.name for node in tree.body if isinstance(node, ast.ClassDef)}


MODELS = _models()


def _minutes_assignments(path: Path, tree: ast.AST) -> list[str]:
    """Attribute and augmented assignments, ``*_minutes=`` given to SQL ``values()``/``update()`` or to
    a storage model's constructor, and ``SET x_minutes =`` in SQL text."""
    found = []

    def named(target: ast.expr) -> str | None:
        if isinstance(target, ast.Attribute) and target.attr.endswith("_minutes"):
            return target.attr
        return None

    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if name := named(target):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("values", "update")
        ) or (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in MODELS):
            for keyword in node.keywords:
                if keyword.arg and keyword.arg.endswith("_minutes"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {keyword.arg}=")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "UPDATE" in node.value:
            for name in _SQL_SET.findall(node.value):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} SQL {name}")
    return found


def measure() -> dict:  # type: ignore[type-arg]
    lines: Counter[str] = Counter()
    sizes = []
    long_functions = []
    minutes = []
    for path in _files():
        text = path.read_text()
        count = len(text.splitlines())
        lines[_package(path)] += count
        sizes.append((count, str(path.relative_to(ROOT))))
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno:
                length = node.end_lineno - node.lineno + 1
                if length > 80:
                    long_functions.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length})")
        if path.relative_to(ROOT).parts[0] not in ("tests", "bench"):
            minutes += _minutes_assignments(path, tree)
    sizes.sort(reverse=True)
    return {
        "lines_per_package": dict(sorted(lines.items())),
        "largest_files": [f"{name} ({n})" for n, name in sizes[:15]],
        "functions_over_80_lines": long_functions,
        "minutes_assignments": minutes,
        "minutes_assignment_modules": sorted({m.split(":")[0] for m in minutes}),
    }


def main(argv: list[str]) -> None:
    figures = measure()
    if "--markdown" not in argv:
        print(json.dumps(figures, indent=2))
        return
    print("| package | lines |\n|---|---:|")
    for name, n in figures["lines_per_package"].items():
        print(f"| {name} | {n} |")
    print("\nLargest files: " + ", ".join(figures["largest_files"]))
    print(
        f"\nFunctions over 80 lines ({len(figures['functions_over_80_lines'])}): "
        + ", ".join(figures["functions_over_80_lines"])
    )
    print(
        f"\nPlaces assigning a *_minutes figure: {len(figures['minutes_assignments'])} in "
        f"{len(figures['minutes_assignment_modules'])} modules"
    )


if __name__ == "__main__":
    main(sys.argv[1:])
