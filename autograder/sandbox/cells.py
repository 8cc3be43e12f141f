"""Notebook cells as Python, for static checks in the grader (``Submission.source``, banned imports).

A cell is IPython, not Python: ``%%time`` on its first line, ``%timeit`` and ``!pip``
lines, ``obj?``. :func:`python_source` turns it into the Python that IPython itself
runs (IPython's ``TransformerManager``), then adds the code that magics which run
Python take as text (the body of ``%%time``, ``%%timeit`` and ``%%capture``; the
statement of ``%time`` and ``%timeit``), so a function defined in a ``%%time`` cell,
or an import hidden in ``%time import torch``, is seen by an ``ast`` walk.

This is the only place magics are turned into Python by the engine. The student process
never does it: its shell (``runtime/shell.py``) hands each cell to IPython as written, and
IPython's own transformers (the same ``TransformerManager``) turn it into what runs. The
purpose here is different: reading, never running, so the bodies of Python-running magics
are added beside the transformed cell for the ``ast`` walk to see.
"""

from __future__ import annotations

import ast
import re

# magics whose text argument is Python that runs in the notebook's own namespace
PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun"})
PYTHON_LINE_MAGICS = frozenset({"time", "timeit"})
# magics whose body is Python run by another interpreter (still the student's code)
SCRIPT_CELL_MAGICS = frozenset({"python", "python3"})
_TIMEIT_OPTION = re.compile(r"^\s*-(?:[nrp]\s*\d+|[tcqo])\s*")
_MAX_DEPTH = 4


def python_source(cell: str) -> str:
    """The Python that IPython runs for ``cell``, plus the Python inside its magics.

    The result parses with :func:`ast.parse` whenever the cell is valid IPython; a cell
    that IPython cannot transform is returned as it is (``ast.parse`` then fails on it).
    """
    return _python(cell, 0)


def _python(cell: str, depth: int) -> str:
    from IPython.core.inputtransformer2 import TransformerManager  # imported only when needed

    try:
        code = TransformerManager().transform_cell(cell)
    except Exception:  # IPython could not read it either
        return cell
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code
    if depth >= _MAX_DEPTH:
        return code
    parts = [code]
    for inner in _magic_python(tree):
        text = _python(inner, depth + 1)
        try:
            ast.parse(text)
        except SyntaxError:
            continue
        parts.append(text)
    return "\n".join(parts)


def _magic_python(tree: ast.AST) -> list[str]:
    """The Python text that ``get_ipython().run_cell_magic`` / ``run_line_magic`` calls in ``tree`` run."""
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in ("run_cell_magic", "run_line_magic"):
            continue
        args = [a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None
                for a in node.args]
        if not args or args[0] is None:
            continue
        name = args[0]
        if node.func.attr == "run_cell_magic" and len(args) >= 3 and args[2] is not None:
            if name in PYTHON_CELL_MAGICS or name in SCRIPT_CELL_MAGICS:
                found.append(args[2])
            if name == "timeit" and args[1]:
                found.append(_strip_timeit_options(args[1]))  # the setup statement
        elif (node.func.attr == "run_line_magic" and len(args) >= 2 and args[1] is not None
              and name in PYTHON_LINE_MAGICS):
            found.append(_strip_timeit_options(args[1]) if name == "timeit" else args[1])
    return found


def _strip_timeit_options(line: str) -> str:
    while True:
        match = _TIMEIT_OPTION.match(line)
        if not match:
            return line.strip()
        line = line[match.end():]


def defining_cells(sources: list[str], name: str) -> str:
    """The cells among ``sources`` that define ``name`` at top level, joined ('' when none does).

    A cell is read as IPython reads it (:func:`python_source`): a function defined under
    ``%%time`` counts; a cell that is not valid IPython defines nothing.
    """
    found = []
    for src in sources:
        try:
            tree = ast.parse(python_source(src))
        except SyntaxError:
            continue
        if any(name in _defined(node) for node in tree.body):
            found.append(src)
    return "\n\n".join(found)


def _defined(node: ast.stmt) -> set[str]:
    """The names a top-level statement binds (functions, classes, plain assignments)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {t.id for t in node.targets if isinstance(t, ast.Name)}
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
        return {node.target.id}
    return set()
