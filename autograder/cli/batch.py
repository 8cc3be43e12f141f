"""The class commands, ``grade-batch`` and ``regrade``: progress, summary table, gradebook.

The engine is imported when a command runs, not when the command line is built.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from autograder.cli.common import backend_of, class_options, course_root, friendly, grader_options, quiet_option

if TYPE_CHECKING:
    from rich.console import Console

    from autograder.integrations.batch import BatchItem


@click.command("grade-batch")
@click.argument("assignment")
@class_options
@click.option("--no-gradebook", is_flag=True, help="Only grade; do not run nbgrader autograde afterwards.")
@grader_options
@quiet_option
@friendly
def grade_batch_cmd(assignment: str, jobs: int | None, use_dask: bool, scheduler: str | None,
                    no_gradebook: bool, course: str | None, device: str | None, isolation: str | None,
                    quiet: bool) -> None:
    """Grade every submission of an assignment in parallel, then record them with nbgrader.

    Reads submitted/<student>/<ASSIGNMENT>/, grades with --jobs processes (or Dask),
    stores the results, and runs `nbgrader autograde ASSIGNMENT`, which reuses them
    and writes the gradebook, autograded notebooks and feedback inputs as usual.

    Example: nngrade grade-batch a1_perceptron --jobs 2
    """
    root = course_root(course)
    ok = run_grade_batch(root, assignment, jobs=jobs, use_dask=use_dask, scheduler=scheduler,
                         gradebook=not no_gradebook, device=device, isolation=isolation, quiet=quiet)
    sys.exit(0 if ok else 1)


@click.command()
@click.argument("assignment")
@click.option("--apply", "apply_", is_flag=True,
              help="Write the new results and the gradebook (the old results are kept beside them).")
@class_options
@click.option("--no-gradebook", is_flag=True, help="With --apply: write the results only, not the gradebook.")
@grader_options
@quiet_option
@friendly
def regrade(assignment: str, apply_: bool, jobs: int | None, use_dask: bool, scheduler: str | None,
            no_gradebook: bool, course: str | None, device: str | None, isolation: str | None,
            quiet: bool) -> None:
    """Grade a class again after a suite or a setting changed; show every score that moves.

    Grades every submission of ASSIGNMENT afresh (no cached result is reused) and lists
    each student whose score changes, with the old and new points of every check that
    moved. Nothing is written unless --apply is given: then the old results (and the
    gradebook file) are kept in .nngrade/regrades/<ASSIGNMENT>/<time>/before/, the new
    results replace them, `nbgrader autograde --force` records the new scores in the
    gradebook, and changes.json there says who changed, how, and under which suite.

    Example: nngrade regrade a1_perceptron --jobs 2 (then again with --apply)
    """
    from autograder.authoring.regrade import apply_regrade, gradebook_mismatches, plan_regrade, print_plan
    from autograder.config import load_config
    from autograder.engine.cache import RESULTS_DIR

    root = course_root(course)
    config = load_config(root, jobs=jobs, device=device, isolation=isolation)

    def line(item: Any) -> None:
        if not quiet:
            res = item.graded.result
            click.echo(f"regraded {item.job.student}: {res.score:g}/{res.max_score:g}", err=True)

    plan = plan_regrade(root, assignment, config, workers=config.jobs, backend=backend_of(use_dask, scheduler),
                        scheduler=scheduler, on_done=line)
    print_plan(plan)
    if not apply_:
        click.echo("nothing was written; run again with --apply to record these results"
                   + ("" if no_gradebook else " and the gradebook"))
        return
    folder = apply_regrade(root, plan, config, gradebook=not no_gradebook)
    click.echo(f"applied: new results in {root / RESULTS_DIR / assignment}; "
               f"the old ones and changes.json in {folder}")
    if not no_gradebook:
        wrong = gradebook_mismatches(root, plan)
        if wrong:
            click.echo(f"error: the gradebook does not hold the regraded scores of {', '.join(wrong)}; "
                       f"see {folder / 'nbgrader_autograde.log'}", err=True)
            sys.exit(1)
        click.echo("gradebook: nbgrader autograde recorded the regraded scores")


def run_grade_batch(root: Path, assignment: str, *, jobs: int | None, use_dask: bool, scheduler: str | None,
                    gradebook: bool, device: str | None, isolation: str | None, quiet: bool) -> bool:
    """Grade, summarize and record a class.

    Returns:
        False when any submission could not be graded, or (with ``gradebook``) was not recorded
        by ``nbgrader autograde``; the last line printed says which.
    """
    from rich.console import Console
    from rich.table import Table

    from autograder.config import load_config
    from autograder.integrations.batch import find_submissions, grade_batch, workers_for
    from autograder.reports.progress import bar_wanted, progress_bar

    config = load_config(root, jobs=jobs, device=device, isolation=isolation)
    work = find_submissions(root, assignment)
    console = Console(stderr=False)
    started = time.perf_counter()
    backend = backend_of(use_dask, scheduler)
    fancy = bar_wanted(quiet)

    def line(item: BatchItem) -> None:
        res = item.graded.result
        print(f"graded {item.job.student}: {res.score:g}/{res.max_score:g} ({item.seconds:.2f} s)",
              file=sys.stderr, flush=True)

    with progress_bar(len(work), f"grading {assignment}") if fancy else nullcontext(None) as advance:
        items = grade_batch(root, config, work, workers=config.jobs, backend=backend, scheduler=scheduler,
                            on_done=(lambda item: advance()) if advance else line)
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
    from autograder.integrations.generate import nbgrader

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
