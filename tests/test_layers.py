"""The package's import graph: no import cycles, and no import that runs up the layers.

Layers, from the floor up (a module may import its own layer and the ones below):

0. platform: the modules directly in trainer/ (config, db, access, forms, features, nav,
   anonymity, audit, mail, seal, csvfile, scheduler – the job registry and its lock – …)
1. org and auth: the people and the org tree every feature hangs on
2. features: every other package (learn, scenarios, pulse, outcomes, insights, fixes, privacy,
   core, …) and trainer/demo.py, which seeds them all
3. wiring: the app factory (trainer/__init__.py), the entry points that build the app
   (trainer/wsgi.py, trainer/insights_worker.py) and the migrations

Only imports that run when a module is imported count: an import inside a function runs later,
when everything is loaded.
"""

import ast
import re
from pathlib import Path

import trainer
from trainer.features import FEATURES

PACKAGE_DIR = Path(trainer.__file__).parent
ORG_LAYER = {"org", "auth"}
FEATURE_MODULES = {"demo"}
WIRING = {"wsgi", "insights_worker", "migrations"}
LAYER_NAMES = ("platform", "org/auth", "features", "wiring")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in WIRING:
        return 3
    if parts[1] in ORG_LAYER:
        return 1
    if parts[1] in FEATURE_MODULES or (PACKAGE_DIR / parts[1]).is_dir():
        return 2
    return 0


def all_imports(tree: ast.AST):
    """Yield every import statement, those inside functions too."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def module_level_imports(tree: ast.AST):
    """Yield the import statements that run on import (not those inside functions)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from module_level_imports(node)


def imported_modules(node: ast.Import | ast.ImportFrom, package: str, modules: set[str]):
    """Yield the trainer modules an import statement in `package` loads."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # a relative import: from the package, or one above it per extra dot
            parts = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join(parts + ([base] if base else []))
        # `from trainer.auth import views` loads a submodule; `import bp` only the package.
        names = [
            f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
            for alias in node.names
        ]
    for name in names:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        if name:
            yield name


def import_graph(statements=module_level_imports) -> dict[str, set[str]]:
    files = {module_name(path): path for path in PACKAGE_DIR.rglob("*.py")}
    modules = set(files)
    graph = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        graph[module] = {
            target
            for node in statements(tree)
            for target in imported_modules(node, package, modules)
            if target != module
        }
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return each strongly connected group of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    return [
        f"{source} ({LAYER_NAMES[layer(source)]}) imports {target} ({LAYER_NAMES[layer(target)]})"
        for source, targets in sorted(graph.items())
        for target in sorted(targets)
        if layer(target) > layer(source)
    ]


def test_the_graph_sees_imports():
    graph = import_graph()
    assert "trainer.config" in graph["trainer"]
    assert "trainer.auth.models" in graph["trainer.auth.services"]


def test_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, "Import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_no_import_runs_up_the_layers():
    upward = upward_imports(import_graph())
    assert not upward, "Imports that run up the layers:\n" + "\n".join(upward)


def test_imports_inside_functions_close_no_cycle_but_blueprint_registration():
    """A package's init_app imports its own views, which import the package's blueprint: the
    one loop allowed, inside a package. Anything else would be a cycle deferred, not gone."""
    cycles = [
        c
        for c in find_cycles(import_graph(all_imports))
        if not all(m == c[0] or m.startswith(c[0] + ".") for m in c)
    ]
    assert not cycles, "Cycles through imports in functions:\n" + "\n".join(map(str, cycles))
    assert not upward_imports(import_graph(all_imports))


def test_every_package_with_init_app_is_in_the_feature_list():
    packages = {
        path.parent.name
        for path in PACKAGE_DIR.glob("*/__init__.py")
        if "def init_app(" in path.read_text(encoding="utf-8")
    }
    assert packages == set(FEATURES)


def test_the_checks_catch_a_cycle_and_an_upward_import():
    graph = {"trainer.db": {"trainer.org.models"}, "trainer.org.models": {"trainer.db"}}
    assert find_cycles(graph) == [["trainer.db", "trainer.org.models"]]
    assert upward_imports(graph) == ["trainer.db (platform) imports trainer.org.models (org/auth)"]


def test_imports_resolve_to_the_modules_they_load():
    modules = {"trainer", "trainer.auth", "trainer.auth.views", "trainer.db"}

    def loaded(source, package):
        return sorted(imported_modules(ast.parse(source).body[0], package, modules))

    assert loaded("from trainer.auth import bp, views", "trainer") == [
        "trainer.auth",
        "trainer.auth.views",
    ]
    assert loaded("from . import views", "trainer.auth") == ["trainer.auth.views"]
    assert loaded("from ..db import get_engine", "trainer.auth") == ["trainer.db"]
    assert loaded("import trainer.db.missing", "trainer") == ["trainer.db"]


STATE_AS_STRING = re.compile(
    r"""\b(\w*status|\w*state|mode|recurrence)\s*(==|!=|in)\s*\(?\s*['"]""", re.IGNORECASE
)


def test_no_state_is_compared_as_a_bare_string():
    """States are StrEnums (stored as the same strings); code and templates compare with them."""
    bare = [
        f"{path.relative_to(PACKAGE_DIR)}:{number}: {line.strip()}"
        for path in [*PACKAGE_DIR.rglob("*.py"), *PACKAGE_DIR.rglob("*.html")]
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if STATE_AS_STRING.search(line) and not line.lstrip().startswith(("#", "``", '"""'))
    ]
    assert not bare, "States compared as bare strings:\n" + "\n".join(bare)
