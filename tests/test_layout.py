"""The layout rules of README "How it works": stages as packages, small modules, no import cycles.

Imports are read from the source (AST), including imports inside functions; imports under
``if TYPE_CHECKING:`` are left out since they never run.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rag", "ui", "eval")
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    found = {}
    for top in PACKAGES:
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module, imported names, line) of every import that runs."""
    out = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for orelse in child.orelse:
                    visit(orelse)
                continue
            if isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                out.append((child.module, [a.name for a in child.names], child.lineno))
            elif isinstance(child, ast.Import):
                out.extend((a.name, [], child.lineno) for a in child.names)
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return out


def _edges(name: str) -> set[str]:
    """Project modules that ``name`` imports: the named module, or the submodule a name is."""
    targets = set()
    for module, names, _ in _imports(MODULES[name]):
        if module not in MODULES:
            continue
        subs = [f"{module}.{n}" for n in names if f"{module}.{n}" in MODULES]
        targets.update(subs or [module])
        if subs and len(subs) < len(names):
            targets.add(module)
    targets.discard(name)
    return targets


def test_no_module_over_500_lines():
    long = {n: len(p.read_text(encoding="utf-8").splitlines()) for n, p in MODULES.items()}
    assert {n: c for n, c in long.items() if c > MAX_LINES} == {}


def test_rag_top_level_is_small_and_has_stage_packages():
    top_files = sorted(p.name for p in (ROOT / "rag").glob("*.py"))
    packages = sorted(p.parent.name for p in (ROOT / "rag").glob("*/__init__.py"))
    assert len(top_files) <= 16, top_files
    assert len(packages) >= 4, packages
    assert {"documents", "index", "llm", "grounding", "brief", "bench", "cli"} <= set(packages)


def test_no_import_cycles():
    graph = {name: _edges(name) for name in MODULES}
    # Tarjan's strongly connected components: any component of 2+ modules is a cycle.
    index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], [0]

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
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
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            strong(v)
    assert cycles == []


def test_the_cycle_finder_sees_a_cycle(tmp_path, monkeypatch):
    """The check above can fail: two modules importing each other (one inside a function) are found."""
    (tmp_path / "a.py").write_text("from rag.fake_b import x\n")
    (tmp_path / "b.py").write_text("def f():\n    from rag.fake_a import y\n")
    monkeypatch.setitem(MODULES, "rag.fake_a", tmp_path / "a.py")
    monkeypatch.setitem(MODULES, "rag.fake_b", tmp_path / "b.py")
    assert _edges("rag.fake_a") == {"rag.fake_b"} and _edges("rag.fake_b") == {"rag.fake_a"}
    with pytest.raises(AssertionError):
        test_no_import_cycles()


def test_siblings_are_imported_by_module_path_not_through_a_package_init():
    packages = {n for n, p in MODULES.items() if p.name == "__init__.py" and n != "rag"}
    offenders = []
    for path in MODULES.values():
        for module, names, line in _imports(path):
            if module in packages and any(f"{module}.{n}" not in MODULES for n in names):
                offenders.append(f"{path.relative_to(ROOT)}:{line} from {module} import {', '.join(names)}")
    assert offenders == []


def test_bench_is_imported_only_by_itself_and_the_cli():
    users = {
        name
        for name in MODULES
        if not name.startswith(("rag.bench", "rag.cli"))
        and any(t.startswith("rag.bench") for t in _edges(name))
    }
    assert users == set()


@pytest.mark.parametrize(
    "package", sorted(n for n, p in MODULES.items() if p.name == "__init__.py" and "." in n)
)
def test_every_public_name_of_a_package_resolves(package):
    module = importlib.import_module(package)
    for name in getattr(module, "__all__", []):
        assert getattr(module, name) is not None, f"{package}.{name}"
