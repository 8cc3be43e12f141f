"""Grade a whole class in parallel: local processes (``--jobs N``) or Dask distributed.

Each grading process keeps one warm zygote (libraries imported once) and forks
a fresh sandboxed student process per submission, so no state crosses between
students. Locally, the calling process grades too (:class:`LocalRun`): it takes
submissions from the front of the class while ``jobs - 1`` extra processes, once
warm, take them from the back, so a small class never waits for a process to start
and a class of one costs what grading one notebook costs. ``nbgrader autograde``
uses the same run (``nbgrader_hook``), taking each notebook as nbgrader reaches it.
On Dask, the course goes to the workers by value (:mod:`autograder.integrations.shipping`).
Every result the student's work decided is stored in the result cache. This module decides who
grades what; what a grading process does with one job is :mod:`autograder.integrations.jobs`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from pathlib import Path

from autograder.config import GraderConfig
from autograder.engine.assignment import MAX_NOTEBOOK_BYTES, SubmissionError, decode_notebook
from autograder.engine.cache import load, store
from autograder.engine.integrity import verify as verify_suites
from autograder.errors import NNGradeError
from autograder.integrations.jobs import (
    BatchItem,
    Job,
    assignment_for,
    grade_job,
    grade_shipped,
    item_of,
    job_key,
    lost_reply,
    ready,
    warm,
    warm_shipped,
)
from autograder.integrations.pool import main_script_hidden, new_pool
from autograder.integrations.shipping import ShippedAssignment

# the jobs and their results are defined with the grading process's side; callers take them from here
__all__ = ["BatchItem", "Job", "LocalRun", "cached_items", "find_submissions", "grade_batch", "prepare_class",
           "read_job", "run_dask", "run_local", "workers_for"]

log = logging.getLogger("nngrade")

WORKER_ATTEMPTS = 2  # a submission whose grading process died this many times gets a grader-failure result


def read_job(student: str, assignment_id: str, path: Path) -> Job:
    """The job of one submitted file (with the reason it is not a notebook, if it is not)."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_NOTEBOOK_BYTES + 1)  # never more than the limit in memory
        return Job(student, assignment_id, decode_notebook(raw, path.name))
    except SubmissionError as exc:
        return Job(student, assignment_id, "", str(exc))
    except OSError as exc:
        return Job(student, assignment_id, "", f"cannot read {path.name}: {exc.strerror}")


def find_submissions(course_root: Path, assignment_id: str) -> list[Job]:
    """``submitted/<student>/<id>/<id>.ipynb`` for every student, sorted by student."""
    jobs = [read_job(path.parent.parent.name, assignment_id, path)
            for path in sorted((course_root / "submitted").glob(f"*/{assignment_id}/{assignment_id}.ipynb"))]
    if not jobs:
        raise NNGradeError(f"no submissions of {assignment_id} under {course_root / 'submitted'}")
    return jobs


# an extra grading process costs about what grading a few notebooks costs to start (a fork server,
# the engine's imports, its own zygote): it is started only for this many notebooks or more each
MIN_PER_PROCESS = 4


def workers_for(jobs: int, class_size: int) -> int:
    """Grading processes for a class: ``jobs`` (0: this machine's cores), but never more than one per
    ``MIN_PER_PROCESS`` submissions (so a class of up to 4 is graded by the calling process alone)."""
    wanted = jobs if jobs > 0 else len(os.sched_getaffinity(0))
    return max(1, min(wanted, 1 + (class_size - 1) // MIN_PER_PROCESS))


def prepare_class(course_root: Path, jobs: list[Job]) -> tuple[str, ...]:
    """Check every assignment's suites before anyone is graded; what the zygotes should preload."""
    modules: set[str] = set()
    for aid in sorted({job.assignment for job in jobs}):
        asg = assignment_for(str(course_root), aid)
        verify_suites(asg.suite)  # SuitesChanged: one line, nobody graded
        modules.update(asg.preload())
    return tuple(sorted(modules))


def one_thread_each() -> None:
    """With several grading processes on the machine, each uses one BLAS/OpenMP thread.

    Set before the fork server or Dask workers start, so they inherit it (the caller's own
    threads are left as they are unless it has not imported numpy yet).
    """
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")


class LocalRun:
    """A class graded by this process and ``workers - 1`` extra local processes.

    The caller grades submissions itself from the front of the class while each extra process
    takes them from the back (:meth:`run`), or it asks for them one by one in the class's order
    (:meth:`submit` with ``in_order``, then :meth:`claim`: ``nbgrader autograde``, which handles
    each notebook after the one before). Then the extra processes also take them from the front,
    just ahead of the caller, and a caller that would wait for one in flight grades the next
    nobody has started instead: results come about in order, and no core waits while work is
    left. An extra process takes work once it is warm (started, engine imported, zygote up), so
    starting it never delays a submission. Extra processes come from a multiprocessing fork server that
    has imported the engine (and torch when the class needs it) but run nothing: forking the
    caller is unsafe once it has run torch, and spawning re-imports everything per process. A
    process that dies takes the pool down: its submission goes back to the queue on a fresh
    pool, and one in flight when a pool died ``WORKER_ATTEMPTS`` times gets a grader-failure
    result (not stored). Results the student's work decided are stored in the cache as they come.
    """

    def __init__(self, course_root: Path, config: GraderConfig, workers: int,
                 preload: tuple[str, ...] | None = None, assignments: tuple[str, ...] = ()) -> None:
        self.course_root = course_root
        self.config = config
        self.preload = preload
        self.assignments = assignments  # whose suites each extra process loads while its zygote starts
        self.extra = max(0, workers - 1)
        self.workers = self.extra + 1
        self.ready_at: list[float] = []  # seconds from start() until each extra process was warm
        self._cond = threading.Condition()
        self._jobs: list[Job] | None = None
        self._keys: list[str | None] = []  # each job's cache key when the caller took it already
        self._pending: deque[int] = deque()
        self._in_order = False  # extra processes take from the front, and claim() never idles
        self._done: dict[int, BatchItem] = {}
        self._attempts: dict[int, int] = {}
        self._on_done: Callable[[BatchItem], None] = lambda item: None
        self._closed = False
        self._pool: ProcessPoolExecutor | None = None
        self._threads: list[threading.Thread] = []
        self._started = 0.0

    # -- the extra processes --------------------------------------------------------------
    def start(self) -> None:
        """Start the extra processes in the background (returns at once)."""
        if not self.extra or self._threads:
            return
        one_thread_each()
        self._started = time.perf_counter()
        self._pool = self._new_pool()
        for _ in range(self.extra):
            thread = threading.Thread(target=self._slot, name="nngrade-slot", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _new_pool(self) -> ProcessPoolExecutor:
        return new_pool(self.config, str(self.course_root), self.preload, self.workers, self.extra,
                        self.assignments)

    def _fresh_pool(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        with self._cond:
            if self._pool is broken and not self._closed:
                broken.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()
            assert self._pool is not None
            return self._pool

    def _slot(self) -> None:
        pool = self._pool
        assert pool is not None
        try:
            with main_script_hidden():
                started = pool.submit(ready)
            started.result()  # warm before it takes any work
        except Exception as exc:  # no extra process: the caller grades everything
            log.warning("nngrade: an extra grading process could not start (%s)", exc)
            return
        self.ready_at.append(time.perf_counter() - self._started)
        while True:
            with self._cond:
                while self._jobs is None and not self._closed:
                    self._cond.wait()
                if self._closed or not self._pending:
                    return
                index = self._pending.popleft() if self._in_order else self._pending.pop()
                assert self._jobs is not None  # pending jobs come with submit()
                job, key = self._jobs[index], self._keys[index]
            try:
                with main_script_hidden():
                    future = pool.submit(grade_job, str(self.course_root), self.config, job, key)
                data = future.result()
            except BrokenProcessPool:
                with self._cond:
                    self._attempts[index] = self._attempts.get(index, 0) + 1
                    retry = self._attempts[index] < WORKER_ATTEMPTS
                    if retry and self._in_order:  # next in line again: the caller may be waiting for it
                        self._pending.appendleft(index)
                        self._cond.notify_all()
                    elif retry:
                        self._pending.append(index)
                if not retry:
                    self._finish(index, item_of(job, lost_reply(self.course_root, self.config, job, RuntimeError(
                        "the grading process died while grading it"))))
                pool = self._fresh_pool(pool)
                continue
            except Exception as exc:  # the job's own failure (e.g. its result could not be sent back)
                data = lost_reply(self.course_root, self.config, job, exc)
            self._finish(index, item_of(job, data))

    # -- the caller ------------------------------------------------------------------------
    def submit(self, jobs: list[Job], on_done: Callable[[BatchItem], None] | None = None,
               known: dict[int, BatchItem] | None = None, keys: list[str] | None = None,
               in_order: bool = False) -> None:
        """The class to grade (once); ``known`` holds results already at hand (e.g. from the cache),
        ``keys`` each job's cache key if the caller has taken them (then they are not taken again),
        ``in_order``: the caller will :meth:`claim` the jobs in this order."""
        with self._cond:
            if self._jobs is not None:
                raise RuntimeError("a LocalRun grades one class")
            self._in_order = in_order
            self._on_done = on_done or (lambda item: None)
            self._done.update(known or {})
            self._pending = deque(i for i in range(len(jobs)) if i not in self._done)
            self._keys = list(keys) if keys is not None else [None] * len(jobs)
            self._jobs = list(jobs)
            self._cond.notify_all()

    def claim(self, index: int) -> BatchItem | None:
        """Job ``index``'s result, or None: the caller has taken it and grades it itself.

        While another process grades it, the caller waits; in order (:meth:`submit`), it grades
        the next job nobody has started meanwhile, here, and looks again.
        """
        while True:
            with self._cond:
                while True:
                    if index in self._done:
                        return self._done[index]
                    if index in self._pending:
                        self._pending.remove(index)
                        return None
                    if self._closed:
                        return None
                    if self._in_order and self._pending:
                        other = self._pending.popleft()
                        break
                    self._cond.wait()
            self._grade_here(other)

    def _grade_here(self, index: int) -> None:
        assert self._jobs is not None
        job = self._jobs[index]
        try:
            data = grade_job(str(self.course_root), self.config, job, self._keys[index])
        except Exception as exc:  # a grader failure here: that job's result says so (never stored)
            data = lost_reply(self.course_root, self.config, job, exc)
        self._finish(index, item_of(job, data))

    def _finish(self, index: int, item: BatchItem) -> None:
        if item.key and item.graded.cacheable:  # only results the student's work decided
            store(self.course_root, item.key, item.graded)
        with self._cond:
            self._done[index] = item
            self._cond.notify_all()
        self._on_done(item)

    def run(self, jobs: list[Job], on_done: Callable[[BatchItem], None] | None = None) -> list[BatchItem]:
        """Grade ``jobs``: this process from the front, the extra ones from the back; items in job order."""
        self.submit(jobs, on_done)
        while True:
            with self._cond:
                if not self._pending:
                    break
                index = self._pending.popleft()
            self._grade_here(index)
        with self._cond:
            while len(self._done) < len(jobs):
                self._cond.wait()
            return [self._done[i] for i in range(len(jobs))]

    def close(self) -> None:
        """Stop the extra processes (idle or still warming: nothing is lost)."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            pool, self._pool = self._pool, None
        if pool is not None:
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
            pool.shutdown(wait=False, cancel_futures=True)


def run_local(course_root: Path, config: GraderConfig, jobs: list[Job], workers: int,
              on_done: Callable[[BatchItem], None], preload: tuple[str, ...] | None = None) -> list[BatchItem]:
    """Grade ``jobs`` here and in ``workers - 1`` extra local processes (see :class:`LocalRun`)."""
    assignments = tuple(sorted({job.assignment for job in jobs}))
    run = LocalRun(course_root, config, workers, preload, assignments)
    run.start()
    try:
        warm(config, str(course_root), preload, workers, assignments)
        return run.run(jobs, on_done)
    finally:
        run.close()


def run_dask(course_root: Path, config: GraderConfig, jobs: list[Job], workers: int,
             scheduler: str | None, on_done: Callable[[BatchItem], None],
             preload: tuple[str, ...] | None = None,
             resources: dict[str, float] | None = None) -> list[BatchItem]:
    """Grade ``jobs`` on Dask: a local cluster of ``workers`` processes, or the scheduler at ``scheduler``.

    The workers need this package (the same version) installed, nothing else: each task carries
    its assignment by value (:class:`ShippedAssignment`: the source notebook and the suite's bytes
    with their digest) and the submission's text. A worker lost mid-batch is Dask's to handle: its
    tasks run again on another worker, and each job is reported once. ``resources`` (e.g.
    ``{"GPU": 1}``) sends every task only to workers started with those resources.
    """
    from dask.distributed import Client, LocalCluster
    from dask.distributed import as_completed as dask_completed

    cluster = None
    one_thread_each()
    shipped = {aid: ShippedAssignment.of(assignment_for(str(course_root), aid)) for aid in {j.assignment for j in jobs}}
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, host="127.0.0.1", silence_logs=40)
        client = Client(cluster)
    try:
        if not resources:
            client.run(warm_shipped, config, preload)
        tag = os.urandom(4).hex()
        futures = [client.submit(grade_shipped, shipped[job.assignment], config, job, pure=False,
                                 key=f"nngrade-{tag}-{i}", resources=resources or None)
                   for i, job in enumerate(jobs)]
        index = {f.key: i for i, f in enumerate(futures)}
        done: dict[int, BatchItem] = {}
        for fut in dask_completed(futures):
            i = index[fut.key]
            if i in done:
                continue
            job = jobs[i]
            try:
                data = fut.result()
            except Exception as exc:  # a task failed, or its workers kept dying: that job only
                data = lost_reply(course_root, config, job, exc)
            item = item_of(job, data)
            if item.graded.cacheable:  # the key is the sender's: its suites, its engine, its settings
                item = replace(item, key=job_key(course_root, config, job))
            if item.key:
                store(course_root, item.key, item.graded)
            done[i] = item
            on_done(item)
        return [done[i] for i in range(len(jobs))]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def grade_batch(course_root: Path, config: GraderConfig, jobs: list[Job], *, workers: int = 1,
                backend: str = "local", scheduler: str | None = None,
                on_done: Callable[[BatchItem], None] | None = None,
                resources: dict[str, float] | None = None) -> list[BatchItem]:
    """Grade a class and store every result the student's work decided; items come back in job order.

    ``workers`` 0 means this machine's cores; locally never more processes than submissions. On a
    Dask scheduler, ``resources`` restricts the jobs to workers that have them; with ``device =
    "cuda"`` it defaults to ``{"GPU": 1}``.
    """
    callback = on_done or (lambda item: None)
    preload = prepare_class(course_root, jobs)
    if resources is None and scheduler and config.device == "cuda":
        resources = {"GPU": 1}  # on a cluster, CUDA grading goes only to workers started with GPU resources
    if backend == "dask" or scheduler:
        return run_dask(course_root, config, jobs, workers if workers > 0 else workers_for(0, len(jobs)),
                        scheduler, callback, preload, resources)
    return run_local(course_root, config, jobs, workers_for(workers, len(jobs)), callback, preload)


def cached_items(course_root: Path, jobs: list[Job], keys: list[str]) -> dict[int, BatchItem]:
    """The jobs whose result is already in the cache under their key (index -> item; "" is no key)."""
    out = {}
    for i, (job, key) in enumerate(zip(jobs, keys)):
        hit = load(course_root, job.assignment, key) if key else None
        if hit is not None:
            out[i] = BatchItem(job, hit, "cache", 0.0, 0.0, key)
    return out
