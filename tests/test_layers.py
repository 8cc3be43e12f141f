"""The package's shape: layers that import only downwards, no import loops, small modules.

Read from the source with ``ast`` (imports inside functions count too), so a lazy import cannot
hide a loop or an upward dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "autograder"
MAX_LINES = 400

# bottom to top; a module may import modules of its own layer or lower ones
LAYERS = (
    ("base", ("autograder", "autograder.errors", "autograder.config", "autograder.codes")),
    ("runtime", ("autograder.sandbox.runtime",)),
    ("sandbox", ("autograder.sandbox",)),
    ("engine", ("autograder.engine", "autograder.testing", "autograder.suites")),
    ("integrations", ("autograder.integrations",)),
    ("reports", ("autograder.reports",)),
    ("authoring", ("autograder.authoring",)),
    ("cli", ("autograder.cli",)),
)

_LAYER_INDEX = {name: i for i, (name, _) in enumerate(LAYERS)}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}


def _rank(module: str) -> int:
    if module.startswith("autograder.suites.") and module.endswith(".known_wrong"):
        return _LAYER_INDEX["authoring"]  # an assignment's known-wrong table: authoring data beside its suite
    best, rank = -1, -1
    for i, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    assert rank >= 0, f"{module} is in no layer"
    return rank


def _imports(module: str, path: Path, known: set[str]) -> set[str]:
    """The package modules ``module`` imports, anywhere in its body."""
    out: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            names = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name and name != module:
                out.add(name)
    return out


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {m: _imports(m, p, known) for m, p in modules.items()}


def test_layers_import_only_downwards() -> None:
    upward = [f"{m} ({LAYERS[_rank(m)][0]}) imports {d} ({LAYERS[_rank(d)][0]})"
              for m, deps in _graph().items() for d in sorted(deps)
              if _rank(d) > _rank(m) and not (d == "autograder" and m.startswith("autograder"))]
    assert not upward, "\n".join(upward)


def test_the_student_side_imports_nothing_from_the_package() -> None:
    graph = _graph()
    runtime = [m for m in graph if m.startswith("autograder.sandbox.runtime")]
    assert runtime
    leaks = {m: sorted(d for d in graph[m] if not d.startswith("autograder.sandbox.runtime")) for m in runtime}
    assert not any(leaks.values()), leaks


def test_no_import_loops() -> None:
    graph = _graph()
    # Tarjan's strongly connected components; any component of two or more modules is a loop
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in graph:
                continue
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
                loops.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    # a package's __init__ importing its own modules is not a loop of logic; none of ours does
    assert not loops, loops


@pytest.mark.parametrize("module", sorted(_modules()))
def test_module_is_small(module: str) -> None:
    lines = len(_modules()[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines (at most {MAX_LINES})"


def test_every_layer_says_what_it_is() -> None:
    for init in PACKAGE.rglob("__init__.py"):
        if "suites" in init.parts:
            continue
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc.split()) > 20, f"{init} needs a docstring that says what the layer holds"
