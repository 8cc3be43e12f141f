"""Shared fixtures: the course, a grader configuration, and a grading helper."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Callable

import nbformat
import pytest
from nbformat.notebooknode import NotebookNode

from autograder.assignment import Assignment
from autograder.config import GraderConfig, load_config
from autograder.engine import grade_notebook
from autograder.results import SubmissionResult

ROOT = Path(__file__).resolve().parents[1]


def sandbox_level() -> str:
    """The isolation level the `grader_config` fixture will run (``process`` when there is no sandbox)."""
    from autograder.sandbox import detect_level

    try:
        return detect_level(load_config(ROOT).isolation)
    except Exception:  # no sandbox here: auto refuses, and the tests say so by skipping
        return "process"


@pytest.fixture(scope="session")
def course_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def grader_config() -> GraderConfig:
    # short limits keep hostile cases fast; the default limits are exercised by the demo
    return load_config(ROOT, cell_timeout=10, call_timeout=10, notebook_timeout=60)


def answer_key(aid: str) -> NotebookNode:
    return nbformat.read(str(ROOT / "solutions" / aid / f"{aid}.ipynb"), as_version=4)


def release(aid: str) -> NotebookNode:
    return nbformat.read(str(ROOT / "release" / aid / f"{aid}.ipynb"), as_version=4)


def with_cell_source(nb: NotebookNode, grade_id: str, source: str) -> NotebookNode:
    """A copy of ``nb`` whose cell ``grade_id`` has ``source``."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id:
            cell.source = source
            return nb
    raise KeyError(grade_id)


def with_extra_cell(nb: NotebookNode, source: str, after: str | None = None) -> NotebookNode:
    """A copy of ``nb`` with a plain code cell added after cell ``after`` (default: at the end)."""
    nb = copy.deepcopy(nb)
    cell = nbformat.v4.new_code_cell(source)
    index = len(nb.cells)
    if after is not None:
        index = next(i for i, c in enumerate(nb.cells)
                     if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == after) + 1
    nb.cells.insert(index, cell)
    return nb


@pytest.fixture(scope="session")
def grade(grader_config: GraderConfig) -> Callable[..., SubmissionResult]:
    """Grade a notebook (or path) against an assignment with the test configuration."""
    cache: dict[str, Assignment] = {}

    def run(aid: str, nb: NotebookNode | Path, config: GraderConfig | None = None) -> SubmissionResult:
        if aid not in cache:
            cache[aid] = Assignment.load(ROOT, aid)
        return grade_notebook(nb, cache[aid], config or grader_config).result

    return run
