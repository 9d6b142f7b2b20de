"""The package's layers: every module imports only from its own package or from a layer below it (lazy
imports inside functions and ``TYPE_CHECKING`` imports included), and no modules import each other in a
circle. The README's layout section lists the same order.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LAYERS = [
    {"errors"},               # the exception tree and exit codes
    {"function_names", "hf", "wheels", "rundir", "progress", "core"},  # ground floor: shared nouns, paths, helpers
    {"spec"},                 # the recipe language
    {"mcp"},                  # the MCP protocol: origins, client, live sessions
    {"catalog"},              # tools from every spec format (live MCP servers through mcp/)
    {"envs"},                 # stateful tool environments: BFCL's API simulators, any Python class
    {"compile"},              # recipe + catalogs -> plan
    {"store"},                # the DuckDB store: the only SQL
    {"synth", "evaluate"},    # the synthesis stage | the checker and the evaluation stage (neither imports the other)
    {"reward"},               # the gated reward (uses the checker)
    {"train"},                # the training stage
    {"report", "export"},     # what a run writes at its end
    {"loop"},                 # the closed loop: the stages in the plan's order
    {"serve_mcp", "render", "shipped", "testing"},  # apps and helpers of the command line
    {"cli", "__init__"},      # the command line, and the package's lazy public API
    {"__main__"},             # python -m inftool
]
"""Lowest first. A package may import from its own package and from any lower layer, never from a higher
layer or from another package of its own layer."""

PACKAGE = Path(__file__).resolve().parents[1] / "inftool"
LAYER_OF = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ("inftool", *path.relative_to(PACKAGE).with_suffix("").parts)
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = modules()


def imports(module: str, path: Path) -> set[str]:
    """Every inftool module ``module`` imports, anywhere in its body."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: imports(module, path) for module, path in MODULES.items()}


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_module_has_a_layer():
    assert {unit(m) for m in MODULES} <= set(LAYER_OF), {unit(m) for m in MODULES} - set(LAYER_OF)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers(module):
    mine = unit(module)
    wrong = sorted(f"{target} ({unit(target)}, layer {LAYER_OF[unit(target)]})" for target in GRAPH[module]
                   if unit(target) != mine and LAYER_OF[unit(target)] >= LAYER_OF[mine])
    assert not wrong, f"{module} ({mine}, layer {LAYER_OF[mine]}) imports from its own layer or above: {wrong}"


def test_no_import_circles():
    circles, index, low, stack, on_stack = [], {}, {}, [], set()

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(GRAPH[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
                on_stack.discard(component[-1])
            if len(component) > 1:
                circles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert not circles, f"modules importing each other in a circle: {circles}"


def test_the_readme_lists_the_layers_in_this_order():
    readme = (PACKAGE.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout", 1)[1]
    order = " < ".join(" | ".join(sorted(layer)) for layer in LAYERS)
    assert order in " ".join(section.split()), f"the README's layout section should say: {order}"
