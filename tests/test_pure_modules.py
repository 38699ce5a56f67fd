"""The platform's pure cores import neither Flask nor the database, directly or through the
trainer modules they use (DESIGN.md, "Pure cores")."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "trainer"
PURE = [
    "trainer.anonymity",
    "trainer.csvfile",
    "trainer.pulse.scores",
    "trainer.pulse.drivers",
    "trainer.pulse.themes",
    "trainer.multiple_testing",
    "trainer.outcomes.validation",
    "trainer.scenarios.engine",
]
FORBIDDEN = (
    "flask",
    "flask_login",
    "flask_wtf",
    "flask_babel",
    "werkzeug",
    "sqlmodel",
    "sqlalchemy",
)


def _imports(module: str) -> set[str]:
    """Return the modules that `module` imports when it is loaded (its top-level imports)."""
    path = PACKAGE.parent / (module.replace(".", "/") + ".py")
    found = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _reached(module: str) -> set[str]:
    """Return every module imported by `module`, following imports of trainer's own modules."""
    seen, todo = set(), [module]
    while todo:
        for name in _imports(todo.pop()) - seen:
            seen.add(name)
            if (PACKAGE.parent / (name.replace(".", "/") + ".py")).is_file():
                todo.append(name)
    return seen


@pytest.mark.parametrize("module", PURE)
def test_a_pure_core_imports_neither_flask_nor_the_database(module):
    reached = _reached(module)
    assert not {name for name in reached if name.split(".")[0] in FORBIDDEN}, reached
