"""Grade a whole class in parallel: local processes (``--jobs N``) or Dask distributed.

Each grading process keeps one warm zygote (libraries imported once) and forks
a fresh sandboxed student process per submission, so no state crosses between
students. Results are gathered by the caller, stored in the result cache, and
then written to the nbgrader gradebook by one ordinary ``nbgrader autograde``
run, which finds every submission already graded.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from autograder.assignment import (
    MAX_NOTEBOOK_BYTES,
    Assignment,
    SubmissionError,
    decode_notebook,
    parse_notebook,
)
from autograder.cache import cache_key, from_json, store, to_json
from autograder.config import GraderConfig
from autograder.engine import Graded, failed_result, grade_notebook, grader_failure_message
from autograder.errors import NNGradeError
from autograder.integrity import verify as verify_suites

WORKER_ATTEMPTS = 2  # a submission whose grading process died this many times gets a grader-failure result


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


def find_submissions(course_root: Path, assignment_id: str) -> list[Job]:
    """``submitted/<student>/<id>/<id>.ipynb`` for every student, sorted by student."""
    jobs = []
    for path in sorted((course_root / "submitted").glob(f"*/{assignment_id}/{assignment_id}.ipynb")):
        student = path.parent.parent.name
        try:
            with open(path, "rb") as f:
                raw = f.read(MAX_NOTEBOOK_BYTES + 1)  # never more than the limit in memory
            jobs.append(Job(student, assignment_id, decode_notebook(raw, path.name)))
        except SubmissionError as exc:
            jobs.append(Job(student, assignment_id, "", str(exc)))
        except OSError as exc:
            jobs.append(Job(student, assignment_id, "", f"cannot read {path.name}: {exc.strerror}"))
    if not jobs:
        raise NNGradeError(f"no submissions of {assignment_id} under {course_root / 'submitted'}")
    return jobs


_ASSIGNMENTS: dict[tuple[str, str], Assignment] = {}


def grade_job(course_root: str, config: GraderConfig, job: Job) -> dict[str, Any]:
    """Grade one job in this process (the unit of work for both backends); a JSON-able dict.

    Never raises for a submission: a malformed one is its ``malformed`` result, and any failure
    of the grader here is a ``grader_error`` result that is not stored (graded again next time).
    """
    started = time.perf_counter()
    key = (course_root, job.assignment)
    if key not in _ASSIGNMENTS:
        _ASSIGNMENTS[key] = Assignment.load(Path(course_root), job.assignment)
    asg = _ASSIGNMENTS[key]
    digest = ""
    try:
        if job.problem:
            raise SubmissionError(job.problem)
        nb = parse_notebook(job.text, f"{job.assignment}.ipynb")
    except SubmissionError as exc:
        graded = failed_result(asg, config, job.student, str(exc), "malformed")
    else:
        try:
            graded = grade_notebook(nb, asg, config, student_id=job.student)
            digest = cache_key(nb, asg, config) if graded.cacheable else ""
        except Exception as exc:  # one submission must never stop the batch
            graded = failed_result(asg, config, job.student, grader_failure_message(exc), "grader_error",
                                   seconds=time.perf_counter() - started)
            digest = ""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"graded": to_json(graded), "key": digest, "worker": f"{os.uname().nodename}:{os.getpid()}",
            "seconds": time.perf_counter() - started, "peak_rss_mb": rss}


def _lost(course_root: Path, config: GraderConfig, job: Job, exc: BaseException) -> dict[str, Any]:
    """The result of a job whose grading process failed (a grader failure: never stored)."""
    asg = _ASSIGNMENTS.get((str(course_root), job.assignment)) or Assignment.load(course_root, job.assignment)
    graded = failed_result(asg, config, job.student, grader_failure_message(exc), "grader_error")
    return {"graded": to_json(graded), "key": "", "worker": "lost", "seconds": 0.0, "peak_rss_mb": 0.0}


def _warm(config: GraderConfig, course_root: str, preload: tuple[str, ...] | None = None) -> None:
    """Start this worker's zygote (with what the class's notebooks import) before the first job arrives."""
    from autograder.sandbox import shared_zygote

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1 if config.jobs > 1 else sys.modules["torch"].get_num_threads())
    shared_zygote(config, hide=[Path(course_root)], preload=preload)


def _prepare(course_root: Path, jobs: list[Job]) -> tuple[str, ...]:
    """Check every assignment's suites before anyone is graded; what the zygotes should preload."""
    modules: set[str] = set()
    for aid in sorted({job.assignment for job in jobs}):
        asg = Assignment.load(course_root, aid)
        verify_suites(asg.suite)  # SuitesChanged: one line, nobody graded
        modules.update(asg.preload())
    return tuple(sorted(modules))


def _one_thread_each() -> None:
    """With several grading processes on the machine, each uses one BLAS/OpenMP thread.

    Set before the fork server or Dask workers start, so they inherit it (the caller's own
    threads are left as they are unless it has not imported numpy yet).
    """
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def _item(job: Job, data: dict[str, Any]) -> BatchItem:
    return BatchItem(job, from_json(data["graded"]), data["worker"], data["seconds"], data["peak_rss_mb"],
                     str(data.get("key", "")))


def run_local(course_root: Path, config: GraderConfig, jobs: list[Job], workers: int,
              on_done: Callable[[BatchItem], None], preload: tuple[str, ...] | None = None) -> list[BatchItem]:
    """Grade ``jobs`` with ``workers`` local processes, each with its own zygote.

    Workers come from a fork server that has imported the engine and torch but run nothing:
    forking the caller itself is unsafe once it has run torch (its OpenMP threads do not
    survive a fork), and spawning re-imports everything per worker. A grading process that
    dies takes the pool down: the unfinished jobs go to a fresh pool, and a job in flight
    when a pool died ``WORKER_ATTEMPTS`` times gets a grader-failure result (not stored).
    """
    items: list[BatchItem] = []
    _one_thread_each()
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(["autograder.batch", "numpy", "torch"])
    attempts = {id(job): 0 for job in jobs}
    todo = list(jobs)
    while todo:
        broken: list[Job] = []
        with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_warm,
                                 initargs=(config, str(course_root), preload)) as pool:
            futures = {pool.submit(grade_job, str(course_root), config, job): job for job in todo}
            for fut in as_completed(futures):
                job = futures[fut]
                try:
                    data = fut.result()
                except BrokenProcessPool:
                    broken.append(job)
                    continue
                except Exception as exc:  # the job's own failure (e.g. its result could not be sent back)
                    data = _lost(course_root, config, job, exc)
                item = _item(job, data)
                items.append(item)
                on_done(item)
        todo = []
        for job in broken:
            attempts[id(job)] += 1
            if attempts[id(job)] >= WORKER_ATTEMPTS:
                item = _item(job, _lost(course_root, config, job,
                                        RuntimeError("the grading process died while grading it")))
                items.append(item)
                on_done(item)
            else:
                todo.append(job)
    return items


def run_dask(course_root: Path, config: GraderConfig, jobs: list[Job], workers: int,
             scheduler: str | None, on_done: Callable[[BatchItem], None],
             preload: tuple[str, ...] | None = None) -> list[BatchItem]:
    """Grade ``jobs`` on Dask: a local cluster of ``workers`` processes, or the scheduler at ``scheduler``.

    Remote workers need this package installed and the course at the same path.
    """
    from dask.distributed import Client, LocalCluster
    from dask.distributed import as_completed as dask_completed

    cluster = None
    _one_thread_each()
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, host="127.0.0.1", silence_logs=40)
        client = Client(cluster)
    try:
        client.run(_warm, config, str(course_root), preload)
        tag = os.urandom(4).hex()
        futures = [client.submit(grade_job, str(course_root), config, job, pure=False, key=f"nngrade-{tag}-{i}")
                   for i, job in enumerate(jobs)]
        by_key = {f.key: job for f, job in zip(futures, jobs)}
        items = []
        for fut in dask_completed(futures):
            job = by_key[fut.key]
            try:
                data = fut.result()
            except Exception as exc:  # a worker lost or a task failed: that job only
                data = _lost(course_root, config, job, exc)
            item = _item(job, data)
            items.append(item)
            on_done(item)
        return items
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def grade_batch(course_root: Path, config: GraderConfig, jobs: list[Job], *, workers: int = 1,
                backend: str = "local", scheduler: str | None = None,
                on_done: Callable[[BatchItem], None] | None = None) -> list[BatchItem]:
    """Grade a class and store every result in the cache; items come back in job order."""
    callback = on_done or (lambda item: None)
    preload = _prepare(course_root, jobs)
    if backend == "dask" or scheduler:
        items = run_dask(course_root, config, jobs, workers, scheduler, callback, preload)
    elif workers <= 1:
        items = []
        _warm(config, str(course_root), preload)
        for job in jobs:
            item = _item(job, grade_job(str(course_root), config, job))
            items.append(item)
            callback(item)
    else:
        items = run_local(course_root, config, jobs, workers, callback, preload)
    for item in items:
        if item.key and item.graded.cacheable:  # only results the student's work decided
            store(course_root, item.key, item.graded)
    return sorted(items, key=lambda it: jobs.index(it.job))


def summarize(items: Iterable[BatchItem]) -> list[tuple[str, float, float, str]]:
    """(student, score, max, status) rows."""
    rows = []
    for it in items:
        res = it.graded.result
        status = res.error or ("; ".join(res.notes[:1]) if res.notes else "ok")
        rows.append((it.job.student, res.score, res.max_score, status))
    return rows
