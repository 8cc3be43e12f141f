"""Grade one submission: run it in a sandboxed process, run the hidden suites here.

This is the single path every front end takes (the nbgrader preprocessor, the
CLI, batch grading, the Gradescope runner), so a notebook gets the same score
whichever way it is graded.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from nbformat.notebooknode import NotebookNode

from autograder.assignment import Assignment, SubmissionError, prepare, read_notebook
from autograder.config import GraderConfig
from autograder.errors import StudentCrashed
from autograder.plugin import explain, run_suites
from autograder.remote import CellRun, Submission
from autograder.results import CheckResult, PartResult, SubmissionResult
from autograder.sandbox import Zygote, shared_zygote


@dataclass
class Graded:
    """A result plus what the notebook's cells did (for writing outputs back into the notebook)."""

    result: SubmissionResult
    cell_runs: dict[int, CellRun] = field(default_factory=dict)
    internal_errors: list[str] = field(default_factory=list)


def _all_failed(assignment: Assignment, parts: list[str], message: str, kind: str) -> tuple[PartResult, ...]:
    """Every check of the chosen parts, failed with one reason (the suites are collected, not run)."""
    out = []
    for name in parts:
        part = assignment.part(name)
        checks = (CheckResult(check_id=f"{name}::*", case="", part=name, title="all checks of this part",
                              points=0.0, max_points=part.points, passed=False, message=message,
                              kind=kind),)
        out.append(PartResult(name, part.grade_id, part.points, checks))
    return tuple(out)


def grade_notebook(
    notebook: NotebookNode | Path,
    assignment: Assignment,
    config: GraderConfig,
    *,
    student_id: str = "",
    parts: list[str] | None = None,
    zygote: Zygote | None = None,
) -> Graded:
    """Grade a submission against the assignment's hidden suites.

    Args:
        notebook: the submitted notebook, or its path.
        assignment: the assignment (source notebook and suites).
        config: grader settings.
        student_id: shown in results.
        parts: the parts to grade (default: all).
        zygote: where student processes come from (default: this process's shared one).

    Returns:
        The result, the cells' display outputs, and any internal grader errors (for staff).
    """
    started = time.perf_counter()
    names = parts or [p.name for p in assignment.parts]
    device = config.resolved_device()
    if isinstance(notebook, Path):
        try:
            notebook = read_notebook(notebook)
        except SubmissionError as exc:
            return Graded(SubmissionResult(assignment.id, student_id, _all_failed(
                assignment, names, str(exc), "malformed"), "none", device,
                time.perf_counter() - started, (), str(exc), config.describe_limits()))
    prepared = prepare(notebook, assignment)
    def source() -> Zygote:
        return zygote or shared_zygote(config, hide=[assignment.course_root])

    zyg = source()
    sub = Submission(prepared.cells, source, config, assignment.helpers_source(), prepared.solution_sources)
    internal: list[str] = []
    error = ""
    try:
        try:
            sub.boot()
        except StudentCrashed as exc:
            message, kind = explain(exc)
            error = message
            part_results = _all_failed(assignment, names, message, kind)
        else:
            deleted = [n for n in names if assignment.part(n).grade_id not in prepared.grade_ids]
            names = [n for n in names if n not in deleted]
            files = {assignment.part(n).suite_file: n for n in names}
            by_part: dict[str, list[CheckResult]] = {n: [] for n in names}
            if files:
                plugin = run_suites(files, sub, config)
                internal = plugin.internal_errors
                for check in plugin.results:
                    by_part.setdefault(check.part, []).append(check)
            part_results = tuple(
                PartResult(n, assignment.part(n).grade_id, assignment.part(n).points, tuple(by_part[n]))
                for n in names) if names else ()
            for n in deleted:
                message = (f"the graded cell {assignment.part(n).grade_id!r} is missing from your notebook "
                           "(deleted or its metadata changed); restore it from the release")
                part_results += _all_failed(assignment, [n], message, "tampered")
            order = [p.name for p in assignment.parts]
            part_results = tuple(sorted(part_results, key=lambda r: order.index(r.part)))
    finally:
        sub.close()
    level = zyg.level + ("" if sub.isolation_status in ("on", "off", "") else f" ({sub.isolation_status})")
    notes = tuple(prepared.notes) + tuple(sub.notes)
    if sub.restarts:
        notes += (f"your notebook needed {sub.restarts} fresh process(es) during grading",)
    result = SubmissionResult(assignment.id, student_id, part_results, level, device,
                              round(time.perf_counter() - started, 3), notes, error, config.describe_limits())
    return Graded(result, sub.cell_runs, internal)
