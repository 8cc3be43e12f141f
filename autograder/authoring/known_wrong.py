"""Known-wrong submissions: an answer key with one deliberate mistake.

Each assignment's table lives beside its hidden suite, in
``autograder/suites/<id>/known_wrong.py``, as ``MUTANTS``, a list of :class:`Mutant`. A mutant
names the checks it must fail, as ``"<part>::<test function>"``; the tests and ``nngrade validate``
assert that exactly that set fails. The table is read only here: pytest never collects it (it is
not a ``test_*`` module) and the grader never imports it while grading a student.
"""

from __future__ import annotations

import ast
import copy
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from nbformat.notebooknode import NotebookNode

from autograder.engine.assignment import nbgrader_meta
from autograder.engine.integrity import SUITES_DIR
from autograder.errors import NNGradeError

TABLE = "known_wrong.py"  # the table's file name in an assignment's suite folder


@dataclass(frozen=True)
class Mutant:
    """One known-wrong submission.

    Attributes:
        name: short identifier (used as the student id in demos).
        description: the mistake, in a sentence.
        fails: the checks that must fail, ``"<part>::<test function>"``.
        replace: top-level function or class name -> its new full source.
        patch: ``(old, new)`` substrings; each ``old`` occurs exactly once in the code cells.
    """

    name: str
    description: str
    fails: frozenset[str]
    replace: dict[str, str] = field(default_factory=dict)
    patch: tuple[tuple[str, str], ...] = ()

    def __init__(self, name: str, description: str, fails: set[str] | frozenset[str],
                 replace: dict[str, str] | None = None,
                 patch: list[tuple[str, str]] | tuple[tuple[str, str], ...] = ()) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "description", description)
        object.__setattr__(self, "fails", frozenset(fails))
        object.__setattr__(self, "replace", dict(replace or {}))
        object.__setattr__(self, "patch", tuple(patch))

    def apply(self, answer_key: NotebookNode) -> NotebookNode:
        """Return a copy of the answer key with this mutant's mistake in it."""
        nb = copy.deepcopy(answer_key)
        for name, new_source in self.replace.items():
            _replace_definition(nb, name, new_source)
        for old, new in self.patch:
            hits = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
            count = sum(c.source.count(old) for c in hits)
            if count != 1:
                raise NNGradeError(f"mutant {self.name}: {old!r} occurs {count} times, expected once")
            hits[0].source = hits[0].source.replace(old, new)
        return nb


def code_cell_trees(nb: NotebookNode, solutions_only: bool = False) -> Iterator[tuple[NotebookNode, ast.Module]]:
    """Each code cell of ``nb`` (only the nbgrader solution cells with ``solutions_only``) that parses as
    plain Python, with its syntax tree."""
    for cell in nb.cells:
        if cell.get("cell_type") != "code" or (solutions_only and not nbgrader_meta(cell).get("solution")):
            continue
        try:
            yield cell, ast.parse(cell.source)
        except SyntaxError:
            continue


def _replace_definition(nb: NotebookNode, name: str, new_source: str) -> None:
    for cell, tree in code_cell_trees(nb):
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and node.name == name:
                lines = cell.source.split("\n")
                start = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
                end = node.end_lineno or node.lineno
                replacement = new_source.strip("\n").split("\n")
                cell.source = "\n".join(lines[:start] + replacement + lines[end:])
                return
    raise NNGradeError(f"mutant: no top-level definition of `{name}` in the answer key")


def load_mutants(assignment_id: str, suites_dir: Path | None = None) -> list[Mutant]:
    """The ``MUTANTS`` table of one assignment (empty when it has none).

    Args:
        assignment_id: the assignment, e.g. ``"a1_perceptron"``.
        suites_dir: the folder of the suites (default: the package's ``autograder/suites``).

    Returns:
        The table's mutants, in its order.

    Raises:
        NNGradeError: the table cannot be loaded, or two mutants share a name.
    """
    path = (suites_dir or SUITES_DIR) / assignment_id / TABLE
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location(f"nngrade_known_wrong_{assignment_id}", path)
    if spec is None or spec.loader is None:
        raise NNGradeError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    mutants = list(getattr(module, "MUTANTS", []))
    names = [m.name for m in mutants]
    if len(set(names)) != len(names):
        raise NNGradeError(f"{path}: mutant names must be unique")
    return mutants
