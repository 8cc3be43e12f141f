"""nbgrader integration: a preprocessor that takes the place of ``Execute`` in autograde.

nbgrader's own ``Execute`` runs the student's notebook, hidden tests included,
in an ordinary kernel on the TA's machine; whatever that kernel prints decides
the score. ``GradeInSandbox`` instead runs the submission in the engine's
sandboxed process, runs each test cell's hidden-suite part in this (trusted)
process, and writes into the test cell a per-check report (stdout) and the
score as an ``execute_result``, which nbgrader's ``SaveAutoGrades`` records as
partial credit. The per-check results are also saved for ``nngrade report``.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode

from autograder.config import load_config
from autograder.engine.assignment import Assignment, find_course_root, is_test_cell, nbgrader_meta
from autograder.engine.cache import save_result
from autograder.engine.grade import GRADER, Graded
from autograder.engine.results import render_part, render_summary
from autograder.errors import NNGradeError
from autograder.integrations.nbgrader_run import per_run, run_assignment
from autograder.integrations.nbgrader_sanitize import take_notes
from autograder.integrations.prefetch import grade_for_nbgrader
from autograder.sandbox.cell_outputs import to_nbformat
from autograder.sandbox.submission import CellRun

__all__ = ["GradeInSandbox", "due_date", "outputs_of", "past_due", "write_back"]


def outputs_of(run: CellRun | None) -> list[NotebookNode]:
    """nbformat outputs from what a cell showed in the student process, as Jupyter saves them.

    Streams, execute_result and display_data MIME bundles (allowlisted types only) and
    errors with IPython's traceback; see :mod:`autograder.sandbox.cell_outputs`.
    """
    if run is None:
        return []
    return [from_dict(o) for o in to_nbformat(run.outputs)]


def write_back(nb: NotebookNode, graded: Graded, assignment: Assignment, after_due: bool = True) -> None:
    """Put display outputs into the code cells and scores plus reports into the test cells (a check's
    visibility and a hint that names the solution are honoured as of ``after_due``)."""
    parts = {p.grade_id: p for p in graded.result.parts}
    written: set[str] = set()
    summary_done = False
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        if is_test_cell(cell) and gid in parts and gid not in written:
            written.add(gid)
            part = parts[gid]
            cell.outputs = [
                from_dict({"output_type": "stream", "name": "stdout", "text": render_part(part, after_due)}),
                from_dict({"output_type": "execute_result", "execution_count": None, "metadata": {},
                           "data": {"text/plain": f"{part.score:g}"}}),
            ]
        elif is_test_cell(cell):
            # a test cell with no hidden part (or a duplicate): it earns nothing by itself
            cell.outputs = [from_dict({"output_type": "execute_result", "execution_count": None,
                                       "metadata": {}, "data": {"text/plain": "0"}})]
        else:
            cell.outputs = outputs_of(graded.cell_runs.get(index))
            if not summary_done:
                summary_done = True
                cell.outputs.insert(0, from_dict({"output_type": "stream", "name": "stdout",
                                                  "text": render_summary(graded.result) + "\n"}))
        cell.execution_count = None


def due_date(db_url: str, assignment_id: str) -> datetime | None:
    """The assignment's nbgrader due date (naive UTC), or None without one or without a gradebook."""
    from nbgrader.api import Gradebook

    try:
        with Gradebook(db_url) as gb:
            due: datetime | None = gb.find_assignment(assignment_id).duedate
    except Exception:  # no gradebook, no such assignment: nothing says the due date is behind us
        return None
    return due


def due_passed(due: datetime | None, now: datetime | None = None) -> bool:
    """Whether a due date (naive UTC, as nbgrader keeps it) has passed; False without one."""
    if due is None:
        return False
    return (now or datetime.now(timezone.utc).replace(tzinfo=None)) >= due


def past_due(db_url: str, assignment_id: str, now: datetime | None = None) -> bool:
    """Whether the assignment's nbgrader due date has passed (False without one, or without a gradebook)."""
    return due_passed(due_date(db_url, assignment_id), now)


class GradeInSandbox(NbGraderPreprocessor):
    """Run a submission in the sandbox and grade its test cells with the hidden suites."""

    isolation = Unicode("", help="Override [tool.nngrade] isolation (auto, bwrap, namespaces, process).").tag(
        config=True)
    device = Unicode("", help="Override [tool.nngrade] device (cpu, cuda, auto).").tag(config=True)

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        info = resources.get("nbgrader", {})
        # what is the same for every notebook of this nbgrader run is read once per run
        course_root = find_course_root(Path.cwd())
        config = per_run(self, ("config", str(course_root), self.isolation, self.device), lambda: load_config(
            course_root, isolation=self.isolation or None, device=self.device or None))
        assignment = run_assignment(self, str(info["assignment"]))
        db_url = str(info.get("db_url", ""))
        due = per_run(self, ("due", db_url, assignment.id), lambda: due_date(db_url, assignment.id))
        sanitized = take_notes(nb)  # what SanitizeSubmission removed from this submission, and why
        # the first notebook of a run grades the rest of the class in parallel (autograder.integrations.prefetch)
        graded = grade_for_nbgrader(self, nb, assignment, config, str(info.get("student", "")),
                                    str(info.get("notebook", "")))
        if graded.cause == GRADER:
            # not the student's result: nbgrader records nothing for this notebook, goes on with the
            # others, and the next run grades it again
            raise NNGradeError(f"nngrade: {graded.result.error or 'a grader or machine failure'}")
        if sanitized:
            graded = dataclasses.replace(graded, result=dataclasses.replace(
                graded.result, notes=sanitized + graded.result.notes))
        write_back(nb, graded, assignment, due_passed(due))
        save_result(course_root, graded)
        res = graded.result
        self.log.info("nngrade: %s %s scored %g/%g (%s, %.2f s)", res.student, res.assignment,
                      res.score, res.max_score, res.isolation, res.seconds)
        for line in graded.internal_errors:
            self.log.error("nngrade internal grader error: %s", line.splitlines()[0])
        return nb, resources
