"""``nbgrader autograde`` grades the whole class in parallel by itself.

Two steps, both invisible to the TA:

1. **Early start** (:func:`start_early`, called by ``nbgrader_config.py``): when the command is
   ``nbgrader autograde``, a background thread loads the assignment, checks its suites, starts
   this process's zygote and the extra grading processes (``[tool.nngrade] jobs``, 0 = the
   machine's cores) while nbgrader itself is still starting (imports, database, first copies).
2. **Prefetch** (:func:`grade_for_nbgrader`, called by ``GradeInSandbox``): on the first notebook
   of the run, every submission nbgrader is about to autograde (its own list: ``--student``,
   ``--force``, excluded students and the ``submitted/`` layout respected) becomes a
   :class:`batch.LocalRun`. The extra processes grade just ahead of nbgrader, in its order; when
   nbgrader reaches a notebook, its result is taken if ready, or graded right here if nobody has
   started it; while one is in flight, this process grades the next one nobody has started. So
   nbgrader's own steps for each notebook (copies, gradebook) run while the class is graded,
   not all at the end. Either way it is graded by the same engine from the same
   cells, so scores and gradebook are those of one-at-a-time grading.

A result is reused only when the notebook nbgrader hands over (after its sanitize steps) has the
same cache key as the submitted file that was graded; otherwise it is graded again here. With
one job, or one notebook, nothing runs in the background but the zygote's start.
"""

from __future__ import annotations

import atexit
import dataclasses
import fnmatch
import logging
import os
import re
import sys
import threading
import time
from pathlib import Path
from typing import Any

from nbformat.notebooknode import NotebookNode

from autograder.config import GraderConfig, load_config
from autograder.engine.assignment import Assignment
from autograder.engine.cache import cache_key, grade_cached
from autograder.engine.grade import GRADER, Graded
from autograder.integrations.batch import LocalRun, cached_items, prepare_class, read_job, workers_for
from autograder.integrations.jobs import Job, job_key, warm
from autograder.integrations.nbgrader_run import converter_of

log = logging.getLogger("nngrade")
_LOCK = threading.Lock()


@dataclasses.dataclass
class Timings:
    """Fixed costs of one run, in seconds (for logs and benchmarks)."""

    zygote: float = 0.0  # this process's zygote, from the early start
    extra_ready: tuple[float, ...] = ()  # each extra process, from start until warm
    plan: float = 0.0  # reading the class and looking up the cache


@dataclasses.dataclass
class _Early:
    course_root: Path
    config: GraderConfig
    thread: threading.Thread
    run: LocalRun | None = None
    preload: tuple[str, ...] | None = None
    warmed: bool = False  # this process's zygote was started (not when every result was in the cache)
    keys: dict[tuple[str, str], tuple[str, str]] = dataclasses.field(default_factory=dict)  # (assignment,
    # student) -> (the submitted text, its cache key), as taken by the early start
    timings: Timings = dataclasses.field(default_factory=Timings)


@dataclasses.dataclass
class _Prefetch:
    converter: Any
    config: GraderConfig
    run: LocalRun | None
    index: dict[tuple[str, str], int]  # (assignment, student) -> job index
    keys: list[str]  # the cache key of each submitted file ("" when none could be taken)
    timings: Timings


_EARLY: _Early | None = None
_RUN: _Prefetch | None = None


def autograde_target(argv: list[str]) -> tuple[bool, str]:
    """Whether ``argv`` is an ``nbgrader autograde`` command line, and the assignment it names."""
    prog = Path(argv[0]).name if argv else ""
    if len(argv) < 2 or argv[1] != "autograde" or not (prog == "nbgrader" or "nbgrader" in argv[0]):
        return False, ""
    assignment = ""
    rest = argv[2:]
    for i, arg in enumerate(rest):
        if arg.startswith("--assignment="):
            assignment = arg.split("=", 1)[1]
        elif arg == "--assignment" and i + 1 < len(rest):
            assignment = rest[i + 1]
        elif not arg.startswith("-") and not assignment and (i == 0 or not rest[i - 1].startswith("--")
                                                              or "=" in rest[i - 1]):
            assignment = arg
    return True, assignment


def start_early(c: Any = None, argv: list[str] | None = None) -> None:
    """From ``nbgrader_config.py``: for ``nbgrader autograde``, start the grading processes now.

    Returns at once; nothing happens for other commands, and any failure only means they start
    later, when the first notebook needs them.
    """
    global _EARLY
    is_autograde, assignment = autograde_target(list(sys.argv if argv is None else argv))
    if not is_autograde or _EARLY is not None or os.environ.get("NNGRADE_NO_PREFETCH"):
        return
    try:
        from autograder.engine.assignment import find_course_root

        course_root = find_course_root(Path.cwd())
        overrides = _overrides(c)
        config = load_config(course_root, **overrides)
    except Exception as exc:
        log.debug("nngrade: no early start (%s)", exc)
        return
    early = _Early(course_root, config, threading.Thread(target=lambda: None))
    early.thread = threading.Thread(target=_early_start, args=(early, assignment), name="nngrade-early",
                                    daemon=True)
    _EARLY = early
    early.thread.start()


def _overrides(c: Any) -> dict[str, Any]:
    section = getattr(c, "GradeInSandbox", None) if c is not None else None
    out = {}
    for name in ("isolation", "device"):
        value = section.get(name) if section is not None and hasattr(section, "get") else None
        if isinstance(value, str) and value:
            out[name] = value
    return out


def _early_start(early: _Early, assignment: str) -> None:
    try:  # the first notebook joins this thread before it grades anything
        if not assignment:
            return
        ids = sorted(p.name for p in (early.course_root / "source").iterdir()
                     if p.is_dir() and fnmatch.fnmatchcase(p.name, assignment))  # `nbgrader autograde "*"`
        early.preload = prepare_class(early.course_root, [Job("", aid, "") for aid in ids])
        paths = [path for aid in ids for path in sorted((early.course_root / "submitted").glob(f"*/{aid}/{aid}.ipynb"))]
        if _all_cached(early, paths):
            return  # a run again over graded work: no process to start (one starts if a notebook needs it)
        workers = workers_for(early.config.jobs, len(paths))
        if workers > 1:
            early.run = LocalRun(early.course_root, early.config, workers, early.preload, tuple(ids))
            early.run.start()
        started = time.perf_counter()
        early.warmed = True
        warm(early.config, str(early.course_root), early.preload, workers, tuple(ids))
        early.timings.zygote = time.perf_counter() - started
    except Exception as exc:
        log.debug("nngrade: early start failed (%s)", exc)


def _all_cached(early: _Early, paths: list[Path]) -> bool:
    """Whether every submitted file (a superset of what nbgrader will autograde) has a stored result.

    Stops at the first that has none, so a class to grade costs one key here; the keys taken are
    kept for the plan (by the submitted text, so a file changed since is keyed again).
    """
    for path in paths:
        job = read_job(path.parent.parent.name, path.parent.name, path)
        key = job_key(early.course_root, early.config, job)
        early.keys[(job.assignment, job.student)] = (job.text, key)
        if not key or not cached_items(early.course_root, [job], [key]):
            return False
    return bool(paths)


def _take_early(course_root: Path, config: GraderConfig) -> _Early | None:
    """The early start, once it has finished, if it was for this course and configuration."""
    global _EARLY
    early = _EARLY
    if early is None:
        return None
    early.thread.join()
    if early.course_root != course_root or early.config != config:
        if early.run is not None:
            early.run.close()
        _EARLY = None
        return None
    return early


def planned(converter: Any, current: tuple[str, str] = ("", "")) -> list[tuple[str, str, str]]:
    """(assignment, student, notebook path) for every notebook this nbgrader run will autograde.

    nbgrader's own list (``--student``, the ``submitted/`` layout, ``notebook_id``), less the
    submissions it will skip: excluded students, and those already autograded without ``--force``
    (but ``current``, the (assignment, student) nbgrader is at, whose folder it has just made).
    """
    coursedir = converter.coursedir
    # nbgrader's submitted/ layout (its converter reads from autograded/ while autograding)
    regexp = coursedir.format_path(coursedir.submitted_directory, "(?P<student_id>.*)", "(?P<assignment_id>.*)",
                                   escape=True)
    excluded = set(coursedir.student_id_exclude.split(",")) if coursedir.student_id_exclude else set()
    out = []
    for folder in sorted(converter.assignments):
        m = re.match(regexp, folder)
        if m is None:
            continue
        aid, student = m.group("assignment_id"), m.group("student_id")
        if student in excluded:
            continue
        dest = Path(coursedir.format_path(coursedir.autograded_directory, student, aid))
        for path in sorted(converter.assignments[folder]):
            if Path(path).name != f"{aid}.ipynb":
                continue
            done = dest.exists() if coursedir.notebook_id == "*" else (dest / Path(path).name).exists()
            if done and not converter.force and (aid, student) != current:
                continue
            out.append((aid, student, path))
    return out


def _key(course_root: Path, config: GraderConfig, job: Job, taken: dict[tuple[str, str], tuple[str, str]]) -> str:
    """``job``'s cache key: the early start's when it keyed the same text, else taken now."""
    text, key = taken.get((job.assignment, job.student), (None, ""))
    return key if text == job.text and not job.problem else job_key(course_root, config, job)


def _plan(pre: Any, course_root: Path, config: GraderConfig, current: tuple[str, str]) -> _Prefetch | None:
    converter = converter_of(pre)
    if converter is None or os.environ.get("NNGRADE_NO_PREFETCH"):
        return None
    started = time.perf_counter()
    early = _take_early(course_root, config)
    try:
        plan = planned(converter, current)
    except Exception as exc:
        log.warning("nngrade: grading one notebook at a time (%s)", exc)
        plan = []
    jobs = [read_job(student, aid, Path(path)) for aid, student, path in plan]
    taken = early.keys if early is not None else {}
    keys = [_key(course_root, config, job, taken) for job in jobs]  # taken once: the grading reuses them
    known = cached_items(course_root, jobs, keys)
    todo = [i for i in range(len(jobs)) if i not in known]
    workers = workers_for(config.jobs, len(todo))
    timings = early.timings if early is not None else Timings()
    run = early.run if early is not None else None
    try:
        preload = prepare_class(course_root, [jobs[i] for i in todo]) if todo else ()
    except Exception as exc:
        log.warning("nngrade: %s", exc)
        todo, workers = [], 1
        preload = ()
    if run is not None and (workers < 2 or not set(preload) <= set(run.preload or ())):
        run.close()  # not needed, or started with too few libraries for this class
        run = None
    ids = tuple(sorted({jobs[i].assignment for i in todo}))
    if run is None and workers > 1:
        run = LocalRun(course_root, config, workers, preload, ids)
        run.start()
    if todo and (early is None or not early.warmed or early.preload is None
                 or not set(preload) <= set(early.preload)):
        warm(config, str(course_root), preload or None, workers, ids)
    if run is not None:
        run.submit(jobs, known=known, keys=keys, in_order=True)  # nbgrader takes them in this order
    timings.plan = time.perf_counter() - started
    index = {(job.assignment, job.student): i for i, job in enumerate(jobs)}
    getattr(pre, "log", log).info(
        "nngrade: %d notebook(s) to autograde, %d from the cache, %d grading process(es); zygote %.2f s "
        "(early), plan %.2f s", len(jobs), len(known), workers if run is not None else 1, timings.zygote,
        timings.plan)
    return _Prefetch(converter, config, run, index, keys, timings)


def grade_for_nbgrader(pre: Any, nb: NotebookNode, assignment: Assignment, config: GraderConfig,
                       student: str, notebook_id: str) -> Graded:
    """The result for one notebook nbgrader hands to ``GradeInSandbox`` (see the module docstring)."""
    global _RUN
    with _LOCK:
        converter = converter_of(pre)
        if _RUN is None or _RUN.converter is not converter or _RUN.config != config:
            if _RUN is not None and _RUN.run is not None:
                _RUN.run.close()
            _RUN = _plan(pre, assignment.course_root, config, (assignment.id, student))
        run = _RUN
    index = run.index.get((assignment.id, student)) if run is not None and notebook_id == assignment.id else None
    if run is None or index is None:
        return grade_cached(nb, assignment, config, student)
    item = run.run.claim(index) if run.run is not None else None
    if item is not None and item.graded.cause != GRADER and run.keys[index]:
        try:
            same = cache_key(nb, assignment, config) == run.keys[index]
        except Exception:
            same = False
        if same:
            result = dataclasses.replace(item.graded.result, student=student)
            return Graded(result, item.graded.cell_runs, item.graded.internal_errors, item.graded.cause)
    return grade_cached(nb, assignment, config, student)


def _shutdown() -> None:
    for holder in (_RUN, _EARLY):
        run = getattr(holder, "run", None)
        if run is not None:
            run.close()


atexit.register(_shutdown)
