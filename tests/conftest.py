"""Shared fixtures: the course, a grader configuration, and a grading helper."""

from __future__ import annotations

import copy
import shutil
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbformat.notebooknode import NotebookNode

from autograder.config import GraderConfig, load_config
from autograder.engine.assignment import Assignment
from autograder.engine.grade import grade_notebook
from autograder.engine.results import SubmissionResult

ROOT = Path(__file__).resolve().parents[1]


def sandbox_level() -> str:
    """The isolation level the `grader_config` fixture will run (``process`` when there is no sandbox)."""
    from autograder.sandbox.zygote import detect_level

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


# Student code that finds the engine's worker from inside a cell (for attacks on it): the frame
# whose ``self`` is the worker's Student object, and that frame's module globals.
FIND_WORKER = '''
import sys as _sys
def _worker():
    f = _sys._getframe()
    while f is not None:
        s = f.f_locals.get("self")
        if s is not None and hasattr(s, "sock") and hasattr(s, "handles"):
            return f.f_globals, s
        f = f.f_back
    raise RuntimeError("worker not found")
'''


def copy_suites(tmp: Path, aid: str) -> Path:
    """A copy of the package's suites folder holding ``aid``'s suite, to edit in a test."""
    from autograder.engine.integrity import SUITES_DIR

    suites = tmp / "suites"
    suites.mkdir()
    for name in ("__init__.py", "pytest.ini"):
        shutil.copy(SUITES_DIR / name, suites / name)
    shutil.copytree(SUITES_DIR / aid, suites / aid, ignore=shutil.ignore_patterns("__pycache__"))
    return suites


def replace_once(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace ``old`` in the file at ``path``, which must hold it exactly ``count`` times."""
    text = path.read_text()
    assert text.count(old) == count, f"{path.name}: {old!r} occurs {text.count(old)} times"
    path.write_text(text.replace(old, new))


@pytest.fixture(scope="session")
def grade(grader_config: GraderConfig) -> Callable[..., SubmissionResult]:
    """Grade a notebook (or path) against an assignment with the test configuration."""
    cache: dict[str, Assignment] = {}

    def run(aid: str, nb: NotebookNode | Path, config: GraderConfig | None = None) -> SubmissionResult:
        if aid not in cache:
            cache[aid] = Assignment.load(ROOT, aid)
        return grade_notebook(nb, cache[aid], config or grader_config).result

    return run
