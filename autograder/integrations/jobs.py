"""One submission graded in a grading process: the work the batch hands out, and its reply.

:mod:`autograder.integrations.batch` decides who grades what (this process, extra local
processes, Dask workers); everything here runs in the process that grades: the jobs and their
results, the process's assignments and zygote, and grading one job into a JSON-able reply that
crosses back to the sender. Nothing here raises for what a submission holds.
"""

from __future__ import annotations

import contextlib
import os
import resource
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbformat.notebooknode import NotebookNode

from autograder.codes import Kind
from autograder.config import GraderConfig
from autograder.engine.assignment import Assignment, SubmissionError, parse_notebook
from autograder.engine.cache import cache_key, from_json, to_json
from autograder.engine.grade import Graded, failed_result, grade_notebook, grader_failure_message
from autograder.integrations.shipping import ShippedAssignment, shipped_root


@dataclass(frozen=True)
class Job:
    """One submission to grade."""

    student: str
    assignment: str
    text: str  # the notebook file's text (sent as is to remote workers)
    problem: str = ""  # why the file is not a notebook (too large, not UTF-8); then ``text`` is empty


@dataclass(frozen=True)
class BatchItem:
    """One graded submission, with where and how fast it was graded."""

    job: Job
    graded: Graded
    worker: str
    seconds: float
    peak_rss_mb: float
    key: str = ""  # the result-cache key ("" when the result is not to be stored)


_ASSIGNMENTS: dict[tuple[str, str], Assignment] = {}


def assignment_for(course_root: str, assignment_id: str) -> Assignment:
    """The assignment, loaded once per process (its suites as read then)."""
    key = (course_root, assignment_id)
    if key not in _ASSIGNMENTS:
        _ASSIGNMENTS[key] = Assignment.load(Path(course_root), assignment_id)
    return _ASSIGNMENTS[key]


def _key_of(nb: NotebookNode, asg: Assignment, config: GraderConfig) -> str:
    try:
        return cache_key(nb, asg, config)
    except Exception:  # a key that cannot be taken only means the result is not stored
        return ""


def job_key(course_root: Path, config: GraderConfig, job: Job) -> str:
    """The result-cache key of ``job``'s notebook ("" when none can be taken: it is not stored)."""
    if job.problem:
        return ""
    try:
        nb = parse_notebook(job.text, f"{job.assignment}.ipynb")
        asg = assignment_for(str(course_root), job.assignment)
    except Exception:  # not a notebook, no such assignment: graded (and reported) as it comes
        return ""
    return _key_of(nb, asg, config)


def _grade_text(asg: Assignment, config: GraderConfig, job: Job, started: float,
                proving: bool = False) -> tuple[Graded, NotebookNode | None]:
    """Grade one job's text with ``asg``: (result, the parsed notebook or None)."""
    try:
        if job.problem:
            raise SubmissionError(job.problem)
        nb = parse_notebook(job.text, f"{job.assignment}.ipynb")
    except SubmissionError as exc:
        return failed_result(asg, config, job.student, str(exc), Kind.MALFORMED), None
    try:
        return grade_notebook(nb, asg, config, student_id=job.student, proving=proving), nb
    except Exception as exc:  # one submission must never stop the batch
        return failed_result(asg, config, job.student, grader_failure_message(exc), Kind.GRADER_ERROR,
                             seconds=time.perf_counter() - started), None


def _reply(graded: Graded, key: str, started: float) -> dict[str, Any]:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"graded": to_json(graded), "key": key, "worker": f"{os.uname().nodename}:{os.getpid()}",
            "seconds": time.perf_counter() - started, "peak_rss_mb": rss}


def grade_job(course_root: str, config: GraderConfig, job: Job, key: str | None = None) -> dict[str, Any]:
    """Grade one job in this process, on the machine that holds the course; a JSON-able dict.

    Never raises for a submission: a malformed one is its ``malformed`` result, and any failure
    of the grader here is a ``grader_error`` result that is not stored (graded again next time).
    ``key`` is the job's cache key when the caller has already taken it (then it is not taken again).
    """
    started = time.perf_counter()
    asg = assignment_for(course_root, job.assignment)
    graded, nb = _grade_text(asg, config, job, started)
    if nb is None or not graded.cacheable:
        key = ""
    elif key is None:
        key = _key_of(nb, asg, config)
    return _reply(graded, key, started)


def grade_shipped(shipped: ShippedAssignment, config: GraderConfig, job: Job) -> dict[str, Any]:
    """Grade one job on a worker that received the assignment by value (no course folder needed).

    The suite's bytes are checked against the digest the sender verified (and the engine against
    the sender's) before any student code runs; a mismatch raises, and the sender records a
    grader failure for that job. The cache key is taken by the sender.
    """
    started = time.perf_counter()
    asg = shipped.materialize()  # raises on a damaged suite or another engine: nothing is graded
    # the digest was checked against the recorded one by the sender, and these bytes against it
    graded, _ = _grade_text(asg, config, job, started, proving=True)
    return _reply(graded, "", started)


def lost_reply(course_root: Path, config: GraderConfig, job: Job, exc: BaseException) -> dict[str, Any]:
    """The reply for a job whose grading process failed (a grader failure: never stored)."""
    asg = assignment_for(str(course_root), job.assignment)
    graded = failed_result(asg, config, job.student, grader_failure_message(exc), Kind.GRADER_ERROR)
    return {"graded": to_json(graded), "key": "", "worker": "lost", "seconds": 0.0, "peak_rss_mb": 0.0}


def item_of(job: Job, data: dict[str, Any]) -> BatchItem:
    """The :class:`BatchItem` of a reply."""
    return BatchItem(job, from_json(data["graded"]), data["worker"], data["seconds"], data["peak_rss_mb"],
                     str(data.get("key", "")))


def warm(config: GraderConfig, course_root: str, preload: tuple[str, ...] | None = None,
         workers: int = 1, assignments: tuple[str, ...] = ()) -> None:
    """Start this process's zygote (with what the class's notebooks import) before its first job.

    While the zygote starts (another process: this one only waits), the suites of ``assignments``
    are loaded here (:meth:`Assignment.load_suites`), so the first submission this process grades
    does not pay for the libraries they import. A suite that cannot load is left to grading, which
    reports it; a zygote that cannot start raises, as before.
    """
    from autograder.sandbox.zygote import shared_zygote

    failed: list[BaseException] = []

    def start() -> None:
        try:
            shared_zygote(config, hide=[Path(course_root)], preload=preload)
        except BaseException as exc:  # re-raised below, in the caller's thread
            failed.append(exc)

    thread = threading.Thread(target=start, name="nngrade-zygote", daemon=True)
    thread.start()
    try:
        for assignment_id in assignments:
            with contextlib.suppress(Exception):
                assignment_for(course_root, assignment_id).load_suites()
    finally:
        thread.join()
    if "torch" in sys.modules and workers > 1:
        sys.modules["torch"].set_num_threads(1)
    if failed:
        raise failed[0]


def warm_shipped(config: GraderConfig, preload: tuple[str, ...] | None) -> None:
    """:func:`warm` on a Dask worker (its shipped suites are hidden from students like a course)."""
    warm(config, str(shipped_root()), preload, 2)


def ready() -> int:
    """A no-op job: the process has started and run its initializer."""
    return os.getpid()

