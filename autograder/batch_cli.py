"""The ``grade-batch`` command's body: progress, summary table, gradebook."""

from __future__ import annotations

import re
import statistics
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from autograder.batch import BatchItem, find_submissions, grade_batch
from autograder.config import load_config
from autograder.generate import nbgrader


def run_grade_batch(root: Path, assignment: str, *, jobs: int | None, use_dask: bool, scheduler: str | None,
                    gradebook: bool, device: str | None, isolation: str | None, quiet: bool) -> bool:
    """Grade, summarize and record a class; False when any submission could not be graded."""
    config = load_config(root, jobs=jobs, device=device, isolation=isolation)
    work = find_submissions(root, assignment)
    console = Console(stderr=False)
    started = time.perf_counter()
    backend = "dask" if (use_dask or scheduler) else "local"
    fancy = sys.stderr.isatty() and not quiet
    if fancy:
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, transient=True) as bar:
            task = bar.add_task(f"grading {assignment}", total=len(work))
            items = grade_batch(root, config, work, workers=config.jobs, backend=backend, scheduler=scheduler,
                                on_done=lambda item: bar.advance(task))
    else:
        def line(item: BatchItem) -> None:
            res = item.graded.result
            print(f"graded {item.job.student}: {res.score:g}/{res.max_score:g} ({item.seconds:.2f} s)",
                  file=sys.stderr, flush=True)

        items = grade_batch(root, config, work, workers=config.jobs, backend=backend, scheduler=scheduler,
                            on_done=line)
    elapsed = time.perf_counter() - started
    table = Table(title=f"{assignment}: {len(items)} submissions, {elapsed:.1f} s "
                        f"({backend}, {config.jobs} job{'s' if config.jobs != 1 else ''})")
    for col in ("student", "score", "seconds", "status"):
        table.add_column(col)
    problems = 0
    for item in items:
        res = item.graded.result
        status = res.error or ("; ".join(res.notes) if res.notes else "ok")
        problems += bool(res.error)
        table.add_row(item.job.student, f"{res.score:g} / {res.max_score:g}", f"{item.seconds:.2f}", status[:90])
    console.print(table)
    secs = [it.seconds for it in items]
    console.print(f"median {statistics.median(secs):.2f} s per submission; isolation "
                  f"{items[0].graded.result.isolation}; device {items[0].graded.result.device}")
    if gradebook:
        proc = nbgrader(["autograde", assignment, "--force", "--create"], root, timeout=3600, check=False)
        failed = len(set(re.findall(r"error processing assignment '[^']*' for student '([^']*)'",
                                    proc.stdout + proc.stderr)))
        console.print("gradebook: nbgrader autograde recorded the batch"
                      + (f" ({failed} notebook(s) nbgrader could not read)" if failed else ""))
    if problems:
        console.print(f"{problems} submission(s) could not be graded at all; see the status column")
    lost = sum(item.graded.cause == "grader" for item in items)
    if lost:
        console.print(f"{lost} result(s) were caused by a grader or machine failure, not by the submission: "
                      "they were not stored, and the next run grades them again")
    return True
