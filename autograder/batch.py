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
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any, Callable, Iterable

from autograder.assignment import Assignment, SubmissionError, parse_notebook
from autograder.cache import cache_key, from_json, store, to_json
from autograder.config import GraderConfig
from autograder.engine import Graded, _all_failed, grade_notebook
from autograder.results import SubmissionResult
from autograder.errors import NNGradeError


@dataclass(frozen=True)
class Job:
    """One submission to grade."""

    student: str
    assignment: str
    text: str  # the notebook file's text (sent as is to remote workers)


@dataclass(frozen=True)
class BatchItem:
    """One graded submission, with where and how fast it was graded."""

    job: Job
    graded: Graded
    worker: str
    seconds: float
    peak_rss_mb: float


def find_submissions(course_root: Path, assignment_id: str) -> list[Job]:
    """``submitted/<student>/<id>/<id>.ipynb`` for every student, sorted by student."""
    jobs = []
    for path in sorted((course_root / "submitted").glob(f"*/{assignment_id}/{assignment_id}.ipynb")):
        jobs.append(Job(path.parent.parent.name, assignment_id, path.read_text(errors="replace")))
    if not jobs:
        raise NNGradeError(f"no submissions of {assignment_id} under {course_root / 'submitted'}")
    return jobs


_ASSIGNMENTS: dict[tuple[str, str], Assignment] = {}


def grade_job(course_root: str, config: GraderConfig, job: Job) -> dict[str, Any]:
    """Grade one job in this process (the unit of work for both backends); a JSON-able dict."""
    started = time.perf_counter()
    key = (course_root, job.assignment)
    if key not in _ASSIGNMENTS:
        _ASSIGNMENTS[key] = Assignment.load(Path(course_root), job.assignment)
    asg = _ASSIGNMENTS[key]
    try:
        nb = parse_notebook(job.text, f"{job.student}/{job.assignment}.ipynb")
    except SubmissionError:
        nb = None
    try:
        if nb is None:
            graded = grade_notebook(_write_tmp(job), asg, config, student_id=job.student)
            digest = ""
        else:
            graded = grade_notebook(nb, asg, config, student_id=job.student)
            digest = cache_key(nb, asg, config)
    except Exception as exc:  # one submission must never stop the batch
        message = f"could not be graded: {type(exc).__name__}: {str(exc)[:200]}"
        graded = Graded(SubmissionResult(asg.id, job.student, _all_failed(asg, [p.name for p in asg.parts],
                                                                         message, "grader_error"),
                                         "none", config.resolved_device(), time.perf_counter() - started,
                                         (), message, config.describe_limits()))
        digest = ""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"graded": to_json(graded), "key": digest, "worker": f"{os.uname().nodename}:{os.getpid()}",
            "seconds": time.perf_counter() - started, "peak_rss_mb": rss}


def _write_tmp(job: Job) -> Path:
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="nngrade-bad-"))
    path = folder / f"{job.assignment}.ipynb"
    path.write_text(job.text)
    return path


def _warm(config: GraderConfig, course_root: str) -> None:
    """Start this worker's zygote before the first job arrives."""
    from autograder.sandbox import shared_zygote

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1 if config.jobs > 1 else sys.modules["torch"].get_num_threads())
    shared_zygote(config, hide=[Path(course_root)])


def _one_thread_each() -> None:
    """With several grading processes on the machine, each uses one BLAS/OpenMP thread.

    Set before the fork server or Dask workers start, so they inherit it (the caller's own
    threads are left as they are unless it has not imported numpy yet).
    """
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


def _item(job: Job, data: dict[str, Any]) -> BatchItem:
    return BatchItem(job, from_json(data["graded"]), data["worker"], data["seconds"], data["peak_rss_mb"])


def run_local(course_root: Path, config: GraderConfig, jobs: list[Job], workers: int,
              on_done: Callable[[BatchItem], None]) -> list[BatchItem]:
    """Grade ``jobs`` with ``workers`` local processes, each with its own zygote.

    Workers come from a fork server that has imported the engine and torch but run nothing:
    forking the caller itself is unsafe once it has run torch (its OpenMP threads do not
    survive a fork), and spawning re-imports everything per worker.
    """
    items: list[BatchItem] = []
    _one_thread_each()
    ctx = get_context("forkserver")
    ctx.set_forkserver_preload(["autograder.batch", "numpy", "torch"])
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_warm,
                             initargs=(config, str(course_root))) as pool:
        futures = {pool.submit(grade_job, str(course_root), config, job): job for job in jobs}
        for fut in as_completed(futures):
            item = _item(futures[fut], fut.result())
            items.append(item)
            on_done(item)
    return items


def run_dask(course_root: Path, config: GraderConfig, jobs: list[Job], workers: int,
             scheduler: str | None, on_done: Callable[[BatchItem], None]) -> list[BatchItem]:
    """Grade ``jobs`` on Dask: a local cluster of ``workers`` processes, or the scheduler at ``scheduler``.

    Remote workers need this package installed and the course at the same path.
    """
    from dask.distributed import Client, LocalCluster, as_completed as dask_completed

    cluster = None
    _one_thread_each()
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, host="127.0.0.1", silence_logs=40)
        client = Client(cluster)
    try:
        client.run(_warm, config, str(course_root))
        tag = os.urandom(4).hex()
        futures = [client.submit(grade_job, str(course_root), config, job, pure=False, key=f"nngrade-{tag}-{i}")
                   for i, job in enumerate(jobs)]
        by_key = {f.key: job for f, job in zip(futures, jobs)}
        items = []
        for fut in dask_completed(futures):
            item = _item(by_key[fut.key], fut.result())
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
    if backend == "dask" or scheduler:
        items = run_dask(course_root, config, jobs, workers, scheduler, callback)
    elif workers <= 1:
        items = []
        _warm(config, str(course_root))
        for job in jobs:
            item = _item(job, grade_job(str(course_root), config, job))
            items.append(item)
            callback(item)
    else:
        items = run_local(course_root, config, jobs, workers, callback)
    for item in items:
        try:
            nb = parse_notebook(item.job.text)
        except SubmissionError:
            continue
        asg = _ASSIGNMENTS.get((str(course_root), item.job.assignment)) or Assignment.load(
            course_root, item.job.assignment)
        store(course_root, cache_key(nb, asg, config), item.graded)
    return sorted(items, key=lambda it: jobs.index(it.job))


def summarize(items: Iterable[BatchItem]) -> list[tuple[str, float, float, str]]:
    """(student, score, max, status) rows."""
    rows = []
    for it in items:
        res = it.graded.result
        status = res.error or ("; ".join(res.notes[:1]) if res.notes else "ok")
        rows.append((it.job.student, res.score, res.max_score, status))
    return rows
