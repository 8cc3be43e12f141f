"""The ``nngrade`` command line: a thin layer over the engine's functions."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path
from typing import Any, Callable

import click

from autograder.errors import NNGradeError


def _friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn user errors into one line and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except NNGradeError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper


def _root(course: str | None) -> Path:
    from autograder.assignment import find_course_root

    return find_course_root(Path(course) if course else None)


course_option = click.option("--course", type=click.Path(file_okay=False), default=None,
                             help="Course folder (default: the nearest one above the current folder).")
device_option = click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), default=None,
                             help="Device for the hidden suites (default: [tool.nngrade] device, or NNGRADE_DEVICE).")
isolation_option = click.option("--isolation", type=click.Choice(["auto", "bwrap", "namespaces", "process"]),
                                default=None, help="Sandbox level (default: auto, the strongest available).")
quiet_option = click.option("--quiet", "-q", is_flag=True, help="Plain line-per-item output, no progress bar.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="nngrade")
def main() -> None:
    """Grade the neural-network fundamentals course: hidden suites, sandboxed submissions.

    Example: nngrade demo
    """


@main.command()
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False))
@click.option("--assignment", "-a", default=None, help="Assignment id (default: the notebook's file name).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), default=None,
              help="Also write Gradescope's results.json schema here.")
@click.option("--part", "parts", multiple=True, help="Grade only this part (repeatable).")
@course_option
@device_option
@isolation_option
@_friendly
def grade(notebook: str, assignment: str | None, json_path: str | None, parts: tuple[str, ...],
          course: str | None, device: str | None, isolation: str | None) -> None:
    """Grade one notebook with the hidden suites and print a per-check table.

    Example: nngrade grade solutions/a1_perceptron/a1_perceptron.ipynb --json results.json
    """
    from autograder.assignment import Assignment
    from autograder.config import load_config
    from autograder.engine import grade_notebook
    from autograder.report import print_result

    root = _root(course)
    config = load_config(root, device=device, isolation=isolation)
    aid = assignment or Path(notebook).stem
    asg = Assignment.load(root, aid)
    graded = grade_notebook(Path(notebook), asg, config, student_id=Path(notebook).stem,
                            parts=list(parts) or None)
    print_result(graded.result)
    if json_path:
        Path(json_path).write_text(json.dumps(graded.result.to_gradescope(), indent=2))
        click.echo(f"wrote {json_path}")


@main.command()
@click.argument("assignments", nargs=-1)
@course_option
@_friendly
def generate(assignments: tuple[str, ...], course: str | None) -> None:
    """Regenerate release/ (real nbgrader generate_assignment) and solutions/ from source/.

    Example: nngrade generate a1_perceptron
    """
    from autograder.generate import assignment_ids, generate_into

    root = _root(course)
    for aid in assignments or assignment_ids(root):
        release, key = generate_into(root, aid, root)
        click.echo(f"{aid}: {release.relative_to(root)}, {key.relative_to(root)}")


@main.command()
@click.argument("assignments", nargs=-1)
@course_option
@device_option
@isolation_option
@quiet_option
@_friendly
def validate(assignments: tuple[str, ...], course: str | None, device: str | None,
             isolation: str | None, quiet: bool) -> None:
    """Prove the course: release/ and solutions/ are current, keys full, releases zero, mutants exact.

    Example: nngrade validate a1_perceptron
    """
    from autograder.validate import validate_course

    root = _root(course)
    ok = validate_course(root, list(assignments), device=device, isolation=isolation, quiet=quiet)
    sys.exit(0 if ok else 1)


@main.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
              help="Build the demo course here (default: a fresh temporary folder, kept).")
@click.option("--assignment", "-a", "assignments", multiple=True,
              help="Assignments to include (default: all).")
@isolation_option
@quiet_option
@_friendly
def demo(directory: str | None, assignments: tuple[str, ...], isolation: str | None, quiet: bool) -> None:
    """Build a demo class and grade it end to end with real nbgrader.

    In a fresh course folder: generate the release, submit the answer key, the
    untouched release, every known-wrong submission and a malformed notebook,
    then run nbgrader autograde, generate_feedback and export, and print scores.

    Example: nngrade demo --dir /tmp/demo-course
    """
    from autograder.demo import run_demo

    ok = run_demo(_root(None), Path(directory) if directory else None, list(assignments),
                  isolation=isolation, quiet=quiet)
    sys.exit(0 if ok else 1)




@main.command("grade-batch")
@click.argument("assignment")
@click.option("--jobs", "-j", type=int, default=None, help="Submissions graded at once (default: [tool.nngrade] jobs).")
@click.option("--dask", "use_dask", is_flag=True, help="Run on a local Dask cluster of --jobs worker processes.")
@click.option("--scheduler", default=None, help="Address of a running Dask scheduler (implies --dask).")
@click.option("--no-gradebook", is_flag=True, help="Only grade; do not run nbgrader autograde afterwards.")
@course_option
@device_option
@isolation_option
@quiet_option
@_friendly
def grade_batch_cmd(assignment: str, jobs: int | None, use_dask: bool, scheduler: str | None,
                    no_gradebook: bool, course: str | None, device: str | None, isolation: str | None,
                    quiet: bool) -> None:
    """Grade every submission of an assignment in parallel, then record them with nbgrader.

    Reads submitted/<student>/<ASSIGNMENT>/, grades with --jobs processes (or Dask),
    stores the results, and runs `nbgrader autograde ASSIGNMENT`, which reuses them
    and writes the gradebook, autograded notebooks and feedback inputs as usual.

    Example: nngrade grade-batch a1_perceptron --jobs 2
    """
    from autograder.batch_cli import run_grade_batch

    root = _root(course)
    ok = run_grade_batch(root, assignment, jobs=jobs, use_dask=use_dask, scheduler=scheduler,
                         gradebook=not no_gradebook, device=device, isolation=isolation, quiet=quiet)
    sys.exit(0 if ok else 1)


# Commands that live in their own modules register themselves on `main`.
from autograder import cli_exports  # noqa: E402,F401


if __name__ == "__main__":  # pragma: no cover
    main()
