"""The layout's rules, checked on the source: dependencies point one way (handlers -> bot -> storage),
the domain core imports neither Slack nor SQLAlchemy, SQL stays out of the Slack edge, and no two
modules import each other (directly or round a loop), at module level or inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("bot", "handlers", "storage")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """Every module named by an import in ``path`` (``from a.b import c`` names ``a.b.c`` when that is
    a module, else ``a.b``)."""
    named: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                named.add(full if full in MODULES else node.module)
        elif isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
    return named


GRAPH = {name: {m for m in _imports(path) if m in MODULES and m != name} for name, path in MODULES.items()}


COMPOSITION_ROOT = "bot.bootstrap"  # the one place that wires the Slack edge's listeners into the app


def test_dependencies_point_one_way() -> None:
    wrong = []
    for name, path in MODULES.items():
        for imported in _imports(path):
            top = imported.split(".")[0]
            if name.startswith("storage") and top in ("bot", "handlers"):
                wrong.append(f"{name} -> {imported}")
            if name.startswith("bot") and top == "handlers" and name != COMPOSITION_ROOT:
                wrong.append(f"{name} -> {imported}")
    assert wrong == []


def test_the_domain_core_is_pure() -> None:
    impure = [
        f"{name} -> {imported}"
        for name, path in MODULES.items()
        if name.startswith("bot.domain")
        for imported in _imports(path)
        if imported.split(".")[0] in ("slack_sdk", "slack_bolt", "sqlalchemy", "storage", "handlers")
        or imported.startswith("bot.services")
    ]
    assert impure == []


def test_the_slack_edge_has_no_sql() -> None:
    sql = [
        f"{name} -> {imported}"
        for name, path in MODULES.items()
        if name.startswith("handlers")
        for imported in _imports(path)
        if imported.split(".")[0] == "sqlalchemy" or imported.startswith("storage.models")
    ]
    assert sql == []


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components over the import graph: none larger than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(GRAPH[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    assert cycles == []


def test_the_checks_see_a_cycle_when_there_is_one() -> None:
    """The cycle check is not vacuous: the package ``bot.services`` imports its modules, and a module
    importing the package back would close a loop the graph shows."""
    assert "bot.services.hours" in GRAPH["bot.services"]
    assert any("bot.services.context" in GRAPH[m] for m in GRAPH if m.startswith("bot.services."))


def test_jobs_call_services_and_storage_without_sql_of_their_own() -> None:
    """The scheduled jobs and the dispatcher hold no queries: those are storage's (``storage.outbox``,
    ``storage.jobruns``, ``storage.repositories``); an exception type is all they take from SQLAlchemy."""
    sql = [
        f"{name} -> {imported}"
        for name, path in MODULES.items()
        if name.startswith("bot.jobs")
        for imported in _imports(path)
        if (imported.split(".")[0] == "sqlalchemy" and imported != "sqlalchemy.exc") or imported == "storage.models"
    ]
    assert sql == []


def test_block_kit_lives_with_the_slack_views() -> None:
    """Slack layouts (Block Kit models) are built in ``handlers.views`` only; ``bot`` says what happened
    in plain words (``bot.phrasebook.summary``) and is handed the Slack layout where it posts."""
    built = [
        f"{name} -> {imported}"
        for name, path in MODULES.items()
        if name.startswith(("bot", "storage"))
        for imported in _imports(path)
        if imported.startswith("slack_sdk.models")
    ]
    assert built == []


def test_sql_lives_in_storage_only() -> None:
    """The application holds no queries: they are storage's (``storage.repositories``,
    ``storage.ledger_queries``, ``storage.capture``, ``storage.outbox``, ``storage.jobruns``). A
    session's type and an exception type are all ``bot`` takes from SQLAlchemy."""
    sql = [
        f"{name} -> {imported}"
        for name, path in MODULES.items()
        if name.startswith("bot")
        for imported in _imports(path)
        if imported.split(".")[0] == "sqlalchemy" and imported not in ("sqlalchemy.orm", "sqlalchemy.exc")
    ]
    assert sql == []


def test_the_phrasebook_is_words_only() -> None:
    """``bot.phrasebook`` phrases for the console, Slack and e-mail alike: it lays nothing out (no rich,
    no Block Kit) and reads nothing (no SQLAlchemy, no storage)."""
    impure = [
        imported
        for imported in _imports(MODULES["bot.phrasebook"])
        if imported.split(".")[0] in ("rich", "slack_sdk", "slack_bolt", "sqlalchemy", "storage", "handlers")
    ]
    assert impure == []


# The ledger's figures of minutes: a client's running totals, a block's size and what is left of it,
# an entry's billable minutes and overage, a draw, a ledger line and its balance.
LEDGER_FIGURES = {
    "purchased_minutes",
    "used_minutes",
    "forfeited_minutes",
    "open_overage_minutes",
    "billed_overage_minutes",
    "remaining_minutes",
    "billable_minutes",
    "overage_minutes",
    "balance_after",
}
LEDGER_OWNERS = ("bot.domain.client_ledger", "storage.postings")  # the aggregate and the one writer
MODELS = {"Client", "Block", "Entry", "Draw", "LedgerLine"}


def _figures_assigned(path: Path) -> list[str]:
    """Where ``path`` assigns a ledger figure: an attribute (``block.remaining_minutes -= 5``), a
    keyword given to a storage model or to SQL ``values()``/``update()``, or ``SET x = `` in SQL text."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        found += [
            f"{path.name}:{node.lineno} {t.attr}"
            for t in targets
            if isinstance(t, ast.Attribute) and t.attr in LEDGER_FIGURES
        ]
        if isinstance(node, ast.Call):
            called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if called in MODELS or called in ("values", "update"):
                found += [f"{path.name}:{node.lineno} {k.arg}=" for k in node.keywords if k.arg in LEDGER_FIGURES]
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "UPDATE" in node.value.upper():
            found += [f"{path.name}:{node.lineno} SQL {f}" for f in LEDGER_FIGURES if f"{f} =" in node.value]
    return found


def test_only_the_ledger_aggregate_and_its_writer_change_a_figure_of_minutes() -> None:
    elsewhere = [hit for name, path in MODULES.items() if name not in LEDGER_OWNERS for hit in _figures_assigned(path)]
    assert elsewhere == []


def test_the_figures_check_sees_an_assignment() -> None:
    """The check above is not blind: the aggregate itself is full of them."""
    assert _figures_assigned(MODULES["bot.domain.client_ledger"])
