"""The package's layout is its architecture: these rules keep it so (docs/architecture.md explains them)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mailcatch"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, *, at_run_time: bool) -> set[str]:
    """Every module `module` imports; with `at_run_time`, not those imported only for type checking."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if at_run_time and isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert not node.level, f"{module}: mailcatch imports its own modules by absolute name"
            base = node.module or ""
            found.add(base)
            # `from mailcatch.storage import search` imports the module mailcatch.storage.search
            found.update(f"{base}.{alias.name}" for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


MODULES = {_module_name(path): ast.parse(path.read_text(), str(path)) for path in PACKAGE.rglob("*.py")}


def _own(names: set[str]) -> set[str]:
    """The mailcatch modules among `names` (names that are attributes, not modules, are dropped)."""
    return {name for name in names if name in MODULES}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_only_storage_speaks_sql(module: str) -> None:
    imported = _imports(MODULES[module], module, at_run_time=False)
    if not module.startswith("mailcatch.storage"):
        assert "sqlite3" not in imported, f"{module} imports sqlite3: only mailcatch.storage may"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(("mailcatch.mail", "mailcatch.client"))))
def test_mail_and_client_stand_alone(module: str) -> None:
    """mail/ (bytes -> parsed message) and client/ (stdlib-only HTTP client) need nothing else of mailcatch."""
    side = ".".join(module.split(".")[:2])
    others = {
        name
        for name in _own(_imports(MODULES[module], module, at_run_time=False))
        if not name.startswith(side) and name not in ("mailcatch", "mailcatch.errors")
    }
    assert not others, f"{module} imports {sorted(others)}"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith(("mailcatch.web", "mailcatch.smtp"))))
def test_web_and_smtp_reach_storage_through_its_interface(module: str) -> None:
    """The web and SMTP sides use the store's interface and the search package's names, never the SQLite store itself."""
    imported = _own(_imports(MODULES[module], module, at_run_time=False))
    allowed = {"mailcatch.storage", "mailcatch.storage.interface", "mailcatch.storage.search"}
    inside = {name for name in imported if name.startswith("mailcatch.storage.") and name not in allowed}
    assert not inside, f"{module} imports {sorted(inside)}: the SQLite store's own modules"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_names_from_other_modules(module: str) -> None:
    for node in ast.walk(MODULES[module]):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mailcatch"):
            private = [
                alias.name for alias in node.names if alias.name.startswith("_") and not alias.name.startswith("__")
            ]
            assert not private, f"{module} imports private names {private} from {node.module}"


def test_no_import_cycles() -> None:
    graph = {module: _own(_imports(tree, module, at_run_time=True)) - {module} for module, tree in MODULES.items()}
    # A package's __init__ runs before its modules: importing mailcatch.web.app means importing mailcatch.web.
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        path.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycle = [*path[path.index(target) :], target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
