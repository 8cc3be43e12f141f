"""The ``nngrade`` command line: a thin layer over the engine's functions."""

from __future__ import annotations

import functools
import json
import os
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


REEXEC_ENV = "NNGRADE_COURSE_PACKAGE"


def _use_course_package(root: Path) -> None:
    """Run this command with the course's own ``autograder`` package (engine and hidden suites).

    A course folder that holds the package (a clone of this repository) is graded with its
    own suites, not with those of whichever clone was installed into the virtual environment:
    the ``nngrade`` command starts again with the course first on ``sys.path``. Only the
    console command does this (never a caller that imported the CLI).
    """
    import autograder

    own = root / "autograder" / "__init__.py"
    here = Path(autograder.__file__).resolve()
    if not own.is_file() or own.resolve() == here or Path(sys.argv[0]).name != "nngrade":
        return
    if os.environ.get(REEXEC_ENV):
        raise NNGradeError(f"{root} holds its own autograder package, but {here.parent} was imported")
    env = dict(os.environ, **{REEXEC_ENV: "1"})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH", "")]))
    os.execve(sys.executable, [sys.executable, "-m", "autograder.cli", *sys.argv[1:]], env)


def _root(course: str | None, near: str | None = None) -> Path:
    """The course folder: ``--course``, else the nearest above the current folder, else the nearest
    above ``near`` (a notebook being graded), else the clone this package was installed from."""
    from autograder.assignment import find_course_root

    if course:
        root = find_course_root(Path(course))
    else:
        starts = [Path.cwd()] + ([Path(near).resolve().parent] if near else [])
        starts.append(Path(__file__).resolve().parent.parent)
        for start in starts:
            try:
                root = find_course_root(start)
                break
            except NNGradeError:
                continue
        else:
            root = find_course_root(None)  # the one-line error for the current folder
    _use_course_package(root)
    return root


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
    from autograder.engine import GRADER, grade_notebook
    from autograder.report import print_result

    root = _root(course, near=notebook)
    config = load_config(root, device=device, isolation=isolation)
    aid = assignment or Path(notebook).stem
    asg = Assignment.load(root, aid)
    graded = grade_notebook(Path(notebook), asg, config, student_id=Path(notebook).stem,
                            parts=list(parts) or None)
    print_result(graded.result)
    if json_path:
        Path(json_path).write_text(json.dumps(graded.result.to_gradescope(), indent=2))
        click.echo(f"wrote {json_path}")
    if graded.cause == GRADER:  # the grader or the machine failed: not a result for the student
        click.echo(f"error: {notebook} was not graded: {graded.result.error}", err=True)
        sys.exit(1)
    if graded.result.error:  # graded, with one reason for every check (e.g. not a notebook)
        click.echo(f"note: {notebook}: {graded.result.error}", err=True)


@main.command()
@click.argument("assignments", nargs=-1)
@course_option
@_friendly
def generate(assignments: tuple[str, ...], course: str | None) -> None:
    """Regenerate release/ (real nbgrader generate_assignment) and solutions/ from source/.

    First writes each task's points into its heading in the source notebook (from the grade
    cells' points), so the release shows what each task is worth.

    Example: nngrade generate a1_perceptron
    """
    from autograder.generate import assignment_ids, generate_into
    from autograder.points import label_file

    root = _root(course)
    for aid in assignments or assignment_ids(root):
        source = root / "source" / aid / f"{aid}.ipynb"
        if source.exists() and label_file(source):
            click.echo(f"{aid}: task headings in {source.relative_to(root)} now show their points")
        release, key = generate_into(root, aid, root)
        click.echo(f"{aid}: {release.relative_to(root)}, {key.relative_to(root)}")


@main.command()
@click.argument("assignments", nargs=-1)
@click.option("--mutation", is_flag=True,
              help="Instead: mutate each answer-key function and report how many mutants the suite catches.")
@click.option("--max-mutants", type=int, default=None, help="With --mutation: mutants per function (default 12).")
@click.option("--function", "functions", multiple=True, help="With --mutation: only this function (repeatable).")
@click.option("--jobs", "-j", type=int, default=None, help="With --mutation: mutants graded at once.")
@course_option
@device_option
@isolation_option
@quiet_option
@_friendly
def validate(assignments: tuple[str, ...], mutation: bool, max_mutants: int | None, functions: tuple[str, ...],
             jobs: int | None, course: str | None, device: str | None, isolation: str | None, quiet: bool) -> None:
    """Prove the course: release/ and solutions/ are current, keys full, releases zero, mutants exact.

    With --mutation, each function of the answer key is mutated automatically (operators,
    comparisons, constants, removed statements; at most --max-mutants each), the mutants are
    graded in parallel, and the command prints per function how many the suite caught and
    lists the survivors (each is an equivalent mutant or a missing check).

    Example: nngrade validate a1_perceptron; nngrade validate --mutation a1_perceptron --jobs 2
    """
    root = _root(course)
    if mutation:
        from autograder.config import load_config
        from autograder.generate import assignment_ids
        from autograder.mutation import LIMIT, print_report, run_mutation

        config = load_config(root, jobs=jobs, device=device, isolation=isolation)
        for aid in assignments or assignment_ids(root):
            report = run_mutation(root, aid, config, limit=max_mutants or LIMIT, workers=config.jobs,
                                  only=set(functions) or None)
            print_report(report)
        return
    from autograder.validate import validate_course

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


@main.command()
@click.argument("assignment")
@click.option("--apply", "apply_", is_flag=True,
              help="Write the new results and the gradebook (the old results are kept beside them).")
@click.option("--jobs", "-j", type=int, default=None, help="Submissions graded at once (default: [tool.nngrade] jobs).")
@click.option("--dask", "use_dask", is_flag=True, help="Run on a local Dask cluster of --jobs worker processes.")
@click.option("--scheduler", default=None, help="Address of a running Dask scheduler (implies --dask).")
@click.option("--no-gradebook", is_flag=True, help="With --apply: write the results only, not the gradebook.")
@course_option
@device_option
@isolation_option
@quiet_option
@_friendly
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
    from autograder.config import load_config
    from autograder.regrade import apply_regrade, gradebook_mismatches, plan_regrade, print_plan

    root = _root(course)
    config = load_config(root, jobs=jobs, device=device, isolation=isolation)
    backend = "dask" if (use_dask or scheduler) else "local"

    def line(item: Any) -> None:
        if not quiet:
            res = item.graded.result
            click.echo(f"regraded {item.job.student}: {res.score:g}/{res.max_score:g}", err=True)

    plan = plan_regrade(root, assignment, config, workers=config.jobs, backend=backend, scheduler=scheduler,
                        on_done=line)
    print_plan(plan)
    if not apply_:
        click.echo("nothing was written; run again with --apply to record these results"
                   + ("" if no_gradebook else " and the gradebook"))
        return
    folder = apply_regrade(root, plan, config, gradebook=not no_gradebook)
    click.echo(f"applied: new results in {root / '.nngrade/results' / assignment}; "
               f"the old ones and changes.json in {folder}")
    if not no_gradebook:
        wrong = gradebook_mismatches(root, plan)
        if wrong:
            click.echo(f"error: the gradebook does not hold the regraded scores of {', '.join(wrong)}; "
                       f"see {folder / 'nbgrader_autograde.log'}", err=True)
            sys.exit(1)
        click.echo("gradebook: nbgrader autograde recorded the regraded scores")


# Commands that live in their own modules register themselves on `main`.
from autograder import cli_exports  # noqa: E402,F401


if __name__ == "__main__":  # pragma: no cover
    # `python -m autograder.cli` (how `nngrade` restarts itself in a course's own package): the
    # commands are registered on the imported module's group, not on this __main__ copy's
    from autograder.cli import main as _registered

    _registered(prog_name="nngrade")
