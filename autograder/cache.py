"""Results keyed by exactly what was graded, so nbgrader can reuse a parallel batch's work.

``nngrade grade-batch`` grades a class in parallel and stores each result here;
``nbgrader autograde`` then runs as usual, and its ``GradeInSandbox`` step finds
the stored result for the identical submission instead of grading it again. The
key covers the cells that run (locked cells as in the source), the grade cells
present, the hidden suite's files, the grader settings and the engine version,
so any change to any of them means a fresh grading.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from nbformat.notebooknode import NotebookNode

import autograder
from autograder.assignment import Assignment, prepare
from autograder.config import GraderConfig
from autograder.engine import Graded, grade_notebook
from autograder.remote import CellRun
from autograder.results import result_from_dict

CACHE_DIR = ".nngrade/cache"


def cache_key(nb: NotebookNode, assignment: Assignment, config: GraderConfig) -> str:
    """A digest of everything that decides the grade of ``nb``."""
    prepared = prepare(nb, assignment)
    h = hashlib.sha256()
    h.update(f"nngrade {autograder.__version__}\n{assignment.id}\n".encode())
    for path in sorted(assignment.suite_dir.rglob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    source = json.dumps([(p.name, p.grade_id, p.points) for p in assignment.parts]).encode()
    h.update(source)
    h.update(json.dumps(prepared.cells).encode())
    h.update(json.dumps(sorted(prepared.grade_ids)).encode())
    settings = {k: v for k, v in dataclasses.asdict(config).items() if k != "jobs"}
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return h.hexdigest()


def to_json(graded: Graded) -> dict[str, Any]:
    return {"result": graded.result.to_dict(), "internal_errors": graded.internal_errors,
            "cells": [dataclasses.asdict(run) for run in graded.cell_runs.values()]}


def from_json(data: dict[str, Any]) -> Graded:
    runs = {int(c["index"]): CellRun(int(c["index"]), c["outputs"], c["status"], float(c["seconds"]))
            for c in data["cells"]}
    return Graded(result_from_dict(data["result"]), runs, list(data.get("internal_errors", [])))


def store(course_root: Path, key: str, graded: Graded) -> Path:
    folder = course_root / CACHE_DIR / graded.result.assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{key}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(to_json(graded)))
    tmp.replace(path)
    return path


def load(course_root: Path, assignment_id: str, key: str) -> Graded | None:
    path = course_root / CACHE_DIR / assignment_id / f"{key}.json"
    if not path.exists():
        return None
    try:
        return from_json(json.loads(path.read_text()))
    except (ValueError, KeyError, TypeError):
        return None


def grade_cached(nb: NotebookNode, assignment: Assignment, config: GraderConfig, student_id: str) -> Graded:
    """A stored result for this exact submission, or a fresh grading (then stored)."""
    key = cache_key(nb, assignment, config)
    hit = load(assignment.course_root, assignment.id, key)
    if hit is not None:
        result = dataclasses.replace(hit.result, student=student_id)
        return Graded(result, hit.cell_runs, hit.internal_errors)
    graded = grade_notebook(nb, assignment, config, student_id=student_id)
    store(assignment.course_root, key, graded)
    return graded
