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

from autograder.codes import Kind, Note, NoteCode
from autograder.config import GraderConfig
from autograder.engine.assignment import Assignment, Prepared, SubmissionError, prepare, read_notebook
from autograder.engine.integrity import verify as verify_suites
from autograder.engine.plugin import explain, run_suites
from autograder.engine.results import CheckResult, PartResult, SubmissionResult
from autograder.errors import GraderFault, StudentCrashed, StudentTimeout
from autograder.sandbox.submission import CellRun, Submission
from autograder.sandbox.zygote import Zygote, shared_zygote

# What decided a result (``Graded.cause``):
STUDENT = "student"  # the student's work alone: the result may be cached and replayed
CHECK_ERROR = "check_error"  # a check hit an internal error: recorded, but graded again next time
GRADER = "grader"  # the grader or the machine failed (no process, zygote died, crash, full disk):
#                    the result is not the student's; never cached, and nbgrader does not record it


@dataclass
class Graded:
    """A result plus what the notebook's cells did (for writing outputs back into the notebook).

    Attributes:
        result: the grade.
        cell_runs: display outputs of the cells, by cell index.
        internal_errors: tracebacks of internal grader errors (for staff).
        cause: ``student``, ``check_error`` or ``grader`` (see the constants above); only a
            ``student`` result is stored in the result cache.
    """

    result: SubmissionResult
    cell_runs: dict[int, CellRun] = field(default_factory=dict)
    internal_errors: list[str] = field(default_factory=list)
    cause: str = STUDENT

    @property
    def cacheable(self) -> bool:
        """Whether this result was decided by the student's work alone."""
        return self.cause == STUDENT and not self.internal_errors


def _all_failed(assignment: Assignment, parts: list[str], message: str, kind: Kind) -> tuple[PartResult, ...]:
    """Every check of the chosen parts, failed with one reason (the suites are collected, not run)."""
    out = []
    for name in parts:
        part = assignment.part(name)
        checks = (CheckResult(check_id=f"{name}::*", case="", part=name, title="all checks of this part",
                              points=0.0, max_points=part.points, passed=False, message=message,
                              kind=kind),)
        out.append(PartResult(name, part.grade_id, part.points, checks))
    return tuple(out)


def failed_result(assignment: Assignment, config: GraderConfig, student_id: str, message: str, kind: Kind,
                  *, parts: list[str] | None = None, seconds: float = 0.0, level: str = "none") -> Graded:
    """A result where every check failed for one reason: ``malformed`` (the submission is not a
    notebook: the student's), or ``grader_error`` (the grader or the machine: cause ``grader``)."""
    names = parts or [p.name for p in assignment.parts]
    result = SubmissionResult(assignment.id, student_id, _all_failed(assignment, names, message, kind), level,
                              config.resolved_device(), round(seconds, 3), (), message, config.describe_limits())
    return Graded(result, cause=GRADER if kind == Kind.GRADER_ERROR else STUDENT)


def grader_failure_message(exc: BaseException) -> str:
    """One line for a submission the grader could not grade (not the student's doing)."""
    detail = str(exc).splitlines()[0][:200] if str(exc) else ""
    return (f"could not be graded because of a grader or machine failure ({type(exc).__name__}"
            f"{': ' + detail if detail else ''}); it will be graded again")


def grade_notebook(
    notebook: NotebookNode | Path,
    assignment: Assignment,
    config: GraderConfig,
    *,
    student_id: str = "",
    parts: list[str] | None = None,
    zygote: Zygote | None = None,
    proving: bool = False,
) -> Graded:
    """Grade a submission against the assignment's hidden suites.

    Never raises for anything a submission holds or does: a malformed notebook is a
    ``malformed`` result, and a failure of the grader or the machine is a result with
    ``cause == "grader"`` (never cached, graded again next time).

    Args:
        notebook: the submitted notebook, or its path.
        assignment: the assignment (source notebook and suites).
        config: grader settings.
        student_id: shown in results.
        parts: the parts to grade (default: all).
        zygote: where student processes come from (default: this process's shared one).
        proving: the suites are being proved by ``nngrade validate``, so they need no recorded
            digest yet (they are still read before any student code runs).

    Returns:
        The result, the cells' display outputs, and any internal grader errors (for staff).
    """
    started = time.perf_counter()
    names = parts or [p.name for p in assignment.parts]
    # the suites were read when the assignment was loaded: they must be the ones `nngrade validate`
    # proved (else this raises SuitesChanged: nobody is graded), and their helper modules are in
    # memory before any student code of this submission runs
    if not proving:
        verify_suites(assignment.suite)
    assignment.suite.import_helpers()
    try:
        if isinstance(notebook, Path):
            notebook = read_notebook(notebook)
        prepared = prepare(notebook, assignment)
    except SubmissionError as exc:
        return failed_result(assignment, config, student_id, str(exc), Kind.MALFORMED, parts=names,
                             seconds=time.perf_counter() - started)
    except (RecursionError, ValueError, TypeError, KeyError, AttributeError) as exc:
        message = f"the notebook could not be read ({type(exc).__name__})"
        return failed_result(assignment, config, student_id, message, Kind.MALFORMED, parts=names,
                             seconds=time.perf_counter() - started)
    try:
        return _grade_prepared(prepared, assignment, config, student_id, names, zygote, started)
    except Exception as exc:  # the grader or the machine, never the student: graded again next time
        return failed_result(assignment, config, student_id, grader_failure_message(exc), Kind.GRADER_ERROR,
                             parts=names, seconds=time.perf_counter() - started)


def _grade_prepared(prepared: Prepared, assignment: Assignment, config: GraderConfig, student_id: str,
                    names: list[str], zygote: Zygote | None, started: float) -> Graded:
    def source() -> Zygote:
        return zygote or shared_zygote(config, hide=[assignment.course_root], preload=assignment.preload())

    level = "none"
    sub = Submission(prepared.cells, source, config, assignment.helpers_source(), prepared.solution_sources)
    internal: list[str] = []
    error = ""
    cause = STUDENT
    try:
        level = source().level
        try:
            sub.boot()
        except GraderFault as exc:
            message, kind = explain(exc)
            error, cause = message, GRADER
            part_results = _all_failed(assignment, names, message, kind)
        except (StudentTimeout, StudentCrashed) as exc:
            message, kind = explain(exc)
            error = message
            part_results = _all_failed(assignment, names, message, kind)
        else:
            deleted = [n for n in names if assignment.part(n).grade_id not in prepared.grade_ids]
            names = [n for n in names if n not in deleted]
            files = {assignment.part(n).suite_file: n for n in names}
            by_part: dict[str, list[CheckResult]] = {n: [] for n in names}
            if files:
                assignment.suite.check_disk()
                plugin = run_suites(files, sub, config, assignment.suite)
                internal = plugin.internal_errors
                for check in plugin.results:
                    by_part.setdefault(check.part, []).append(check)
            part_results = tuple(
                PartResult(n, assignment.part(n).grade_id, assignment.part(n).points, tuple(by_part[n]))
                for n in names) if names else ()
            for n in deleted:
                message = (f"the graded cell {assignment.part(n).grade_id!r} is missing from your notebook "
                           "(deleted or its metadata changed); restore it from the release")
                part_results += _all_failed(assignment, [n], message, Kind.TAMPERED)
            order = [p.name for p in assignment.parts]
            part_results = tuple(sorted(part_results, key=lambda r: order.index(r.part)))
    finally:
        sub.close()
    if sub.faults:
        cause = GRADER
    elif internal:
        cause = CHECK_ERROR
    level += "" if sub.isolation_status in ("on", "off", "") else f" ({sub.isolation_status})"
    notes = tuple(prepared.notes) + tuple(sub.notes)
    if level == "process":
        notes += (Note(NoteCode.PROCESS_LEVEL,
                       "graded without a sandbox (isolation = process): for trusted notebooks only"),)
    if sub.restarts:
        times = "once" if sub.restarts == 1 else f"{sub.restarts} times"
        notes += (Note(NoteCode.RESTARTED, f"your notebook was started again {times} during grading, after code "
                       "that hung or crashed (see the failed checks)"),)
    if cause == GRADER:
        notes += (Note(NoteCode.GRADER_FAILURE, "the grader or the machine failed during this grading; this "
                       "result is not stored and the notebook will be graded again"),)
    result = SubmissionResult(assignment.id, student_id, part_results, level, config.resolved_device(),
                              round(time.perf_counter() - started, 3), notes, error, config.describe_limits())
    return Graded(result, sub.cell_runs, internal, cause)
