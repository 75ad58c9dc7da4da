"""The package's modules import one another in one direction only."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import petitionscan

PACKAGE = Path(petitionscan.__file__).parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The project's modules that a module imports at its top level, type-checking imports included."""

    def resolve(name: str) -> str:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name

    found: set[str] = set()
    for stmt in ast.parse(path.read_text(encoding="utf-8")).body:
        for node in ast.walk(stmt) if isinstance(stmt, ast.If) else [stmt]:
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("petitionscan"):
                found |= {resolve(f"{node.module}.{alias.name}") for alias in node.names}
            elif isinstance(node, ast.Import):
                found |= {resolve(a.name) for a in node.names if a.name.startswith("petitionscan")}
    return found


def test_no_module_imports_one_that_imports_it_back() -> None:
    modules = _modules()
    graph = {name: _imports(path, modules) - {name} for name, path in modules.items()}
    assert "petitionscan.scan.results" in graph["petitionscan.scan.persist"]
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the circle
