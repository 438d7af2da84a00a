"""The package is laid out by layer, and the layers import one way with no cycle (issue #24).

`make lint` runs the same contract through import-linter (`lint-imports`, [tool.importlinter]
in pyproject.toml); here the graph is read with grimp, import-linter's own graph builder, so a
cycle inside one layer (which a layers contract does not see) fails too. Imports inside
functions count: a lazy import is still a dependency.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("model", "format", "core", "audit", "stores", "render", "jobs", "server", "cli")
# Modules that sit at the root on purpose: the public API, the program's entry points, the one
# exception table, and two helpers every layer uses.
ROOT_MODULES = {"shsync", "shsync.__main__", "shsync.entry", "shsync.errors", "shsync.gcpause"}


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def test_no_module_imports_itself_through_others():
    assert _cycles(grimp.build_graph("shsync", exclude_type_checking_imports=True)) == []


def test_every_module_lives_in_a_layer_or_is_one_of_the_few_root_modules():
    graph = grimp.build_graph("shsync", exclude_type_checking_imports=True)
    loose = {m for m in graph.modules
             if m.count(".") == 1 and m not in ROOT_MODULES and m.split(".")[1] not in LAYERS}
    assert loose == set()


def test_the_layers_contract_holds():
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 kept, 0 broken" in result.stdout


def test_stores_reach_the_domain_checks_only_through_core_admit():
    """The checked apply lives in one place: a store hands what its transaction read to
    `core.admit` and writes what it admits; no store calls the verify or the access delta
    itself, so a plan's way from the application object to the commit runs down the layers."""
    graph = grimp.build_graph("shsync", exclude_type_checking_imports=True)
    stores = {m for m in graph.modules if m.startswith("shsync.stores")}
    checks = {"shsync.core.verify", "shsync.core.access", "shsync.core.simulate"}
    direct = {(s, c) for s in stores for c in checks
              if c in graph.find_modules_directly_imported_by(s)}
    assert direct == set()
    assert "shsync.core.admit" in graph.find_modules_directly_imported_by("shsync.stores.base")


def test_no_test_only_fault_hook_in_the_write_path():
    """The crash tests' hooks are armed around a store when it is opened (stores/faults.py),
    never read by the code that writes an apply."""
    for module in ("sql", "sqlite", "postgres", "base"):
        text = (ROOT / "shsync" / "stores" / f"{module}.py").read_text()
        assert "SHSYNC_TEST" not in text and "os.kill" not in text, module
