"""Draft a new nbgrader source notebook from Python (a first draft only).

``source/<id>/<id>.ipynb`` is the one source of truth of an assignment's notebook, edited in
Jupyter like any nbgrader source. These helpers can write its first draft, once:
:func:`write_notebook` refuses to overwrite an existing notebook, so nothing generated from
Python can silently revert an edit made in Jupyter. Each function returns an ``nbformat``
cell with the nbgrader metadata of its role.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode


def _meta(grade_id: str, *, grade: bool, solution: bool, locked: bool,
          points: float | None = None, task: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "grade": grade, "grade_id": grade_id, "locked": locked,
        "schema_version": 3, "solution": solution, "task": task,
    }
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _clean(source: str) -> str:
    return textwrap.dedent(source).strip("\n")


def markdown(source: str) -> NotebookNode:
    """A plain narrative cell."""
    return nbformat.v4.new_markdown_cell(_clean(source))


def code(source: str) -> NotebookNode:
    """A plain code cell the student may edit (plots, experiments)."""
    return nbformat.v4.new_code_cell(_clean(source))


def locked(grade_id: str, source: str) -> NotebookNode:
    """A read-only instructor code cell (data loading, experiment drivers)."""
    return nbformat.v4.new_code_cell(
        _clean(source), metadata=_meta(grade_id, grade=False, solution=False, locked=True))


def solution(grade_id: str, source: str) -> NotebookNode:
    """An autograded answer cell: its ``### BEGIN SOLUTION`` region becomes a stub on release."""
    return nbformat.v4.new_code_cell(
        _clean(source), metadata=_meta(grade_id, grade=False, solution=True, locked=False))


def tests(grade_id: str, points: float, visible: str, part: str) -> NotebookNode:
    """An autograded test cell: visible sanity checks plus the hidden-suite directive."""
    body = _clean(visible)
    source = f"{body}\n\n### BEGIN HIDDEN TESTS\n# nngrade: part {part}\n### END HIDDEN TESTS"
    return nbformat.v4.new_code_cell(
        source, metadata=_meta(grade_id, grade=True, solution=False, locked=True, points=points))


def free_response(grade_id: str, points: float, model_answer: str) -> NotebookNode:
    """A manually graded markdown answer; the model answer is removed on release."""
    source = f"### BEGIN SOLUTION\n{_clean(model_answer)}\n### END SOLUTION"
    return nbformat.v4.new_markdown_cell(
        source, metadata=_meta(grade_id, grade=True, solution=True, locked=False, points=points))


def write_notebook(path: str | Path, cells: list[NotebookNode]) -> None:
    """Write a new Python 3 notebook with these cells (never over an existing file).

    Raises:
        FileExistsError: ``path`` exists (edit that notebook in Jupyter instead).
    """
    if Path(path).exists():
        raise FileExistsError(f"{path} exists: edit it in Jupyter (it is the source of truth), "
                              "or move it away to draft it again")
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    for index, cell in enumerate(nb.cells):  # stable ids, so regenerating gives the same file
        gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        cell["id"] = f"{gid}" if gid else f"cell-{index:02d}"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
