"""The layers of DESIGN.md: a module imports, at run time, only its own layer and those before it."""

from __future__ import annotations

import ast
from pathlib import Path

import pyqemu

LAYERS = ["util", "qom", "qapi", "memory", "chardev", "hw", "accel", "monitor", "system"]
PACKAGE = Path(pyqemu.__file__).parent


def _runtime_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """``pyqemu.X`` layers imported outside ``if TYPE_CHECKING:`` blocks."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            return
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("pyqemu."):
            found.append((node.lineno, node.module.split(".")[1]))
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names if alias.name.startswith("pyqemu.")]
            found.extend((node.lineno, name.split(".")[1]) for name in names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def test_no_module_imports_a_later_layer() -> None:
    rank = {name: index for index, name in enumerate(LAYERS)}
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        layer = path.relative_to(PACKAGE).parts[0]
        if layer not in rank:
            continue
        for line, other in _runtime_imports(ast.parse(path.read_text())):
            if other in rank and rank[other] > rank[layer]:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} imports pyqemu.{other}")
    assert wrong == []
