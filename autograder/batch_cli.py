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

from autograder.batch import BatchItem, find_submissions, grade_batch, workers_for
from autograder.config import load_config
from autograder.generate import nbgrader


def run_grade_batch(root: Path, assignment: str, *, jobs: int | None, use_dask: bool, scheduler: str | None,
                    gradebook: bool, device: str | None, isolation: str | None, quiet: bool) -> bool:
    """Grade, summarize and record a class.

    Returns:
        False when any submission could not be graded, or (with ``gradebook``) was not recorded
        by ``nbgrader autograde``; the last line printed says which.
    """
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
    used = workers_for(config.jobs, len(items)) if backend == "local" else config.jobs
    table = Table(title=f"{assignment}: {len(items)} submissions, {elapsed:.1f} s "
                        f"({backend}, {used} grading process{'es' if used != 1 else ''})")
    for col in ("student", "score", "seconds", "status"):
        table.add_column(col)
    for item in items:
        res = item.graded.result
        table.add_row(item.job.student, f"{res.score:g} / {res.max_score:g}", f"{item.seconds:.2f}", res.status)
    console.print(table)
    secs = [it.seconds for it in items]
    console.print(f"median {statistics.median(secs):.2f} s per submission; isolation "
                  f"{items[0].graded.result.isolation}; device {items[0].graded.result.device}")
    ungraded = [it.job.student for it in items if it.graded.result.error]
    lost = [it.job.student for it in items if it.graded.cause == "grader"]
    if lost:
        console.print(f"{len(lost)} result(s) were caused by a grader or machine failure, not by the submission: "
                      "they were not stored, and the next run grades them again")
    unrecorded: list[str] = []
    if gradebook:
        unrecorded = record_in_gradebook(root, assignment, [it.job.student for it in items], console)
    return verdict(console, len(items), ungraded, unrecorded, gradebook)


def record_in_gradebook(root: Path, assignment: str, students: list[str], console: Console) -> list[str]:
    """Run ``nbgrader autograde`` (which reuses the stored results); the students it did not record."""
    proc = nbgrader(["autograde", assignment, "--force", "--create"], root, timeout=3600, check=False)
    log = proc.stdout + proc.stderr
    failed = set(re.findall(r"error processing assignment '[^']*' for student '([^']*)'", log))
    missing = [s for s in students
               if s in failed or not (root / "autograded" / s / assignment / f"{assignment}.ipynb").exists()]
    if proc.returncode != 0 and not failed:
        tail = [line for line in log.strip().splitlines() if "ERROR" in line or "Error" in line][-3:]
        for line in tail:
            console.print(f"  nbgrader: {line.strip()[:200]}", highlight=False, markup=False)
    recorded = len(students) - len(missing)
    console.print(f"gradebook: nbgrader autograde recorded {recorded} of {len(students)} submission(s)"
                  + (f"; not recorded: {', '.join(missing)}" if missing else ""), highlight=False)
    return missing


def verdict(console: Console, total: int, ungraded: list[str], unrecorded: list[str], gradebook: bool) -> bool:
    """The command's last line: True when every submission was graded (and recorded)."""
    if not ungraded and not unrecorded:
        console.print(f"all {total} submissions graded" + (" and recorded in the gradebook" if gradebook else ""))
        return True
    parts = []
    if ungraded:
        parts.append(f"{len(ungraded)} could not be graded ({', '.join(ungraded)}; see the status column)")
    extra = [s for s in unrecorded if s not in ungraded]
    if extra:
        parts.append(f"{len(extra)} graded but not recorded in the gradebook ({', '.join(extra)})")
    console.print(f"error: of {total} submissions, " + "; ".join(parts), highlight=False)
    return False
