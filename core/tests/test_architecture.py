"""The apps depend one way only: core <- blocks <- candidates <- evaluations <-
certification <- portal. Read from the source, so a new import that points
back up the flow, or a cycle between two modules, fails here."""

import ast
from collections import defaultdict
from pathlib import Path

from django.conf import settings

LAYERS = ["core", "blocks", "candidates", "evaluations", "certification", "portal"]
# The project package's wiring reads every app by nature.
WIRING = {"certification.urls", "certification.wsgi", "certification.asgi"}


def source_modules():
    """module name -> path, for the apps' code (tests and migrations aside)."""
    modules = {}
    for app in LAYERS:
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            parts = path.relative_to(settings.BASE_DIR).with_suffix("").parts
            if "tests" in parts or "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            if name.startswith("certification.settings") or name in WIRING:
                continue
            modules[name] = path
    return modules


def imports_of(name, path):
    """Every project module `name` imports, at the top or inside a function."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return {module for module in found if module.split(".")[0] in LAYERS}


def project_graph():
    modules = source_modules()
    graph = defaultdict(set)
    for name, path in modules.items():
        graph[name] = {target for target in imports_of(name, path) if target in modules} - {name}
    return graph


def test_no_app_imports_an_app_above_it():
    upward = sorted(
        f"{module} -> {target}"
        for module, targets in project_graph().items()
        for target in targets
        if LAYERS.index(target.split(".")[0]) > LAYERS.index(module.split(".")[0])
    )
    assert upward == []


def test_no_two_modules_import_each_other_even_indirectly():
    graph = project_graph()
    cycles, state = [], {}

    def visit(module, path):
        state[module] = "open"
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []
