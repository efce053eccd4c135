"""The package's shape: stages import only downward, no circles, the sandbox stands alone.

Every ``import`` and ``from ... import`` of every module is read with :mod:`ast` (including
imports inside functions and ``if TYPE_CHECKING:`` blocks: a type-only arrow is still an
arrow), resolved to the module it names, and checked against ``docs/ARCHITECTURE.md``'s
order: reading <- analysis <- actions <- records <- notebook / reports / demo / cli.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "billing_nb"
# `__main__` is `python -m billing_nb`: two lines that call cli.main, a face like cli itself.
SHARED = {"__init__", "__main__", "cli", "config", "exceptions", "money"}
#: Each stage's rank; a module may import its own stage, a lower one, or a shared module.
RANK = {"reading": 1, "analysis": 2, "actions": 3, "records": 4, "notebook": 5, "reports": 5, "demo": 5}
#: Shared modules that every stage may import (cli and the package's face sit on top instead).
BOTTOM = {"config", "exceptions", "money"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(importer: str, is_package: bool, level: int, name: str | None) -> str:
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _target(name: str) -> str | None:
    """The billing_nb module a dotted name lands in (a module, or the module defining a name)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> set[str]:
    """Every billing_nb module that ``module`` imports, anywhere in its body."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str | None] = []
        if isinstance(node, ast.Import):
            targets = [_target(a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, path.name == "__init__.py", node.level, node.module) if node.level else (node.module or "")
            # "from pkg import mod" imports the submodule; "from mod import name" the module itself
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else _target(base) for a in node.names]
        found.update(t for t in targets if t and t != module and t.startswith("billing_nb"))
    return found


GRAPH = {m: imports_of(m) for m in MODULES}


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_no_import_circles() -> None:
    """Tarjan's strongly connected components over the import graph: none larger than one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                circles.append(sorted(comp))

    for m in GRAPH:
        if m not in index:
            visit(m)
    assert circles == []


def test_no_upward_imports() -> None:
    upward = []
    for module, targets in GRAPH.items():
        stage = _stage(module)
        if stage in ("__init__", "__main__", "cli") or module == "billing_nb":
            continue  # the package's face and the CLI sit on top of everything
        for target in targets:
            tstage = _stage(target)
            if target == "billing_nb" or tstage in ("__init__", "cli"):
                upward.append((module, target))
            elif stage in BOTTOM:
                if tstage not in BOTTOM:
                    upward.append((module, target))
            elif stage == "sandbox":
                continue  # checked on its own below
            elif tstage in BOTTOM or tstage == "sandbox" and stage in ("demo",):
                continue
            elif tstage == "sandbox" or RANK[tstage] > RANK[stage] or RANK[tstage] == RANK[stage] and tstage != stage:
                upward.append((module, target))
    assert upward == []


def test_sandbox_imports_nothing_else_from_billing_nb() -> None:
    outside = [(m, t) for m, ts in GRAPH.items() if _stage(m) == "sandbox" for t in ts if _stage(t) != "sandbox"]
    assert outside == []


def test_top_level_holds_only_the_shared_modules() -> None:
    top = {p.stem for p in PACKAGE.glob("*.py")}
    assert top == SHARED
    stages = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert stages == set(RANK) | {"actions", "sandbox"}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.count(".") >= 2))
def test_no_module_repeats_its_package_as_a_prefix(module: str) -> None:
    package, _, leaf = module.rpartition(".")
    assert not leaf.startswith(package.rpartition(".")[2] + "_"), module


def test_the_checker_sees_a_planted_circle_and_an_upward_import() -> None:
    """The checks above can fail: the same resolution flags an analysis -> records import."""
    assert _resolve("billing_nb.analysis.classify", False, 2, "records.case") == "billing_nb.records.case"
    assert _target("billing_nb.records.case.Case") == "billing_nb.records.case"
    rev: dict[str, set[str]] = defaultdict(set)
    for m, ts in GRAPH.items():
        for t in ts:
            rev[t].add(m)
    assert "billing_nb.reading.provider" in GRAPH["billing_nb.reading.waves"]  # arrows are really read
    assert rev["billing_nb.reading.snapshot"]  # something imports the snapshot
