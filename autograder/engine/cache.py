"""Results keyed by exactly what was graded, so nbgrader can reuse a parallel batch's work.

``nngrade grade-batch`` grades a class in parallel and stores each result here;
``nbgrader autograde`` then runs as usual, and its ``GradeInSandbox`` step finds
the stored result for the identical submission instead of grading it again. The
key covers the cells that run (locked cells as in the source), the grade cells
present, the source notebook, every file of the assignment's suite folder (and the
suites' shared files), the grader settings that affect grading, and the engine
(its version and the digest of its own source), so any change to any of them
means a fresh grading.

Only results decided by the student's work are stored (``Graded.cacheable``): a result
caused by the grader or the machine (an internal error, a zygote that died, no process
could be started, a crashed worker, a full disk) is never stored, so it is graded again.

This module is also where results are kept for the reports: :func:`save_result` writes a
student's per-check result to ``.nngrade/results/<id>/<student>.json`` (the result's
``to_dict`` plus ``internal_errors`` and ``cause``). Both stores write through :func:`_write`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import logging
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode

import autograder
from autograder.config import GraderConfig
from autograder.engine.assignment import SUITES_DIR, Assignment, prepare
from autograder.engine.grade import GRADER, STUDENT, Graded, grade_notebook
from autograder.engine.results import result_from_dict
from autograder.sandbox.submission import CellRun

log = logging.getLogger("nngrade")
PACKAGE_DIR = Path(autograder.__file__).parent
# settings that do not change a grade (how many submissions run at once)
_NOT_GRADING = {"jobs"}

CACHE_DIR = ".nngrade/cache"
RESULTS_DIR = ".nngrade/results"  # per-student results for the reports (``nngrade report``, ``regrade``)


@functools.lru_cache(maxsize=1)
def engine_digest() -> str:
    """The engine's version and a digest of its own source (the package without the suites)."""
    h = hashlib.sha256(f"nngrade {autograder.__version__}\n".encode())
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if not path.is_relative_to(SUITES_DIR) and "__pycache__" not in path.parts:
            h.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def cache_key(nb: NotebookNode, assignment: Assignment, config: GraderConfig) -> str:
    """A digest of everything that decides the grade of ``nb``."""
    prepared = prepare(nb, assignment)
    h = hashlib.sha256()
    h.update(f"{engine_digest()}\n{assignment.id}\n".encode())
    # every file of the suite folder and the shared suite files, as read before grading (the same
    # bytes the checks run from, on this machine or a Dask worker): no second read of the disk
    h.update(assignment.suite.digest.encode())
    h.update(nbformat.writes(assignment.source_nb).encode())
    source = json.dumps([(p.name, p.grade_id, p.points) for p in assignment.parts]).encode()
    h.update(source)
    h.update(json.dumps(prepared.cells).encode())
    h.update(json.dumps(sorted(prepared.grade_ids)).encode())
    h.update(json.dumps([n.to_dict() for n in prepared.notes]).encode())
    settings = {k: v for k, v in dataclasses.asdict(config).items() if k not in _NOT_GRADING}
    settings["resolved_device"] = config.resolved_device()
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return h.hexdigest()


def to_json(graded: Graded) -> dict[str, Any]:
    return {"result": graded.result.to_dict(), "internal_errors": graded.internal_errors,
            "cells": [dataclasses.asdict(run) for run in graded.cell_runs.values()], "cause": graded.cause}


def from_json(data: dict[str, Any]) -> Graded:
    runs = {int(c["index"]): CellRun(int(c["index"]), c["outputs"], c["status"], float(c["seconds"]))
            for c in data["cells"]}
    return Graded(result_from_dict(data["result"]), runs, list(data.get("internal_errors", [])),
                  str(data.get("cause", STUDENT)))


def _write(path: Path, data: dict[str, Any], indent: int | None = None) -> Path:
    """Write ``data`` as JSON to ``path`` whole or not at all (a reader never sees half a file).

    Raises:
        OSError: the folder or the file could not be written (nothing is left behind).
    """
    tmp = path.with_suffix(f".{id(data)}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, indent=indent))
        tmp.replace(path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise
    return path


def store(course_root: Path, key: str, graded: Graded) -> Path | None:
    """Keep ``graded`` under ``key`` when the student's work decided it; None when it is not stored
    (not the student's result, or the disk refused: a cache that cannot be written is only slower)."""
    if not graded.cacheable:
        return None
    try:
        return _write(course_root / CACHE_DIR / graded.result.assignment / f"{key}.json", to_json(graded))
    except OSError as exc:
        log.warning("nngrade: the result cache could not be written (%s)", exc)
        return None


def result_record(graded: Graded) -> dict[str, Any]:
    """What the reports read of one result: its ``to_dict`` plus ``internal_errors`` and ``cause``."""
    data = graded.result.to_dict()
    data["internal_errors"] = graded.internal_errors
    data["cause"] = graded.cause
    return data


def save_result(course_root: Path, graded: Graded) -> Path | None:
    """Keep the per-check results beside the gradebook (for reports); a result the grader or the
    machine caused is not kept (nbgrader does not record it either).

    Raises:
        OSError: the results folder could not be written.
    """
    if graded.cause == GRADER:
        return None
    res = graded.result
    return _write(course_root / RESULTS_DIR / res.assignment / f"{res.student or 'anonymous'}.json",
                  result_record(graded), indent=2)


def load(course_root: Path, assignment_id: str, key: str) -> Graded | None:
    path = course_root / CACHE_DIR / assignment_id / f"{key}.json"
    try:
        if not path.exists():
            return None
        hit = from_json(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return hit if hit.cacheable else None  # a stored result that is not the student's is never replayed


def grade_cached(nb: NotebookNode, assignment: Assignment, config: GraderConfig, student_id: str) -> Graded:
    """A stored result for this exact submission, or a fresh grading (stored when it is the student's)."""
    try:
        key = cache_key(nb, assignment, config)
    except Exception:  # a submission the key cannot be taken of is graded (and reported) afresh
        return grade_notebook(nb, assignment, config, student_id=student_id)
    hit = load(assignment.course_root, assignment.id, key)
    if hit is not None:
        result = dataclasses.replace(hit.result, student=student_id)
        return Graded(result, hit.cell_runs, hit.internal_errors, hit.cause)
    graded = grade_notebook(nb, assignment, config, student_id=student_id)
    store(assignment.course_root, key, graded)
    return graded
