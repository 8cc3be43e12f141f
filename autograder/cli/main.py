"""The ``nngrade`` command line: a thin layer over the engine's functions.

This module holds the ``nngrade`` group and the commands about one notebook or the course
(``grade``, ``generate``, ``validate``, ``demo``); the class commands live in
:mod:`autograder.cli.batch` and the exports in :mod:`autograder.cli.exports`, and are added
to the group here. All of them share :mod:`autograder.cli.common`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from autograder.cli import batch, exports
from autograder.cli.common import (
    course_option,
    course_root,
    friendly,
    grader_options,
    isolation_option,
    jobs_option,
    quiet_option,
)


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
@grader_options
@friendly
def grade(notebook: str, assignment: str | None, json_path: str | None, parts: tuple[str, ...],
          course: str | None, device: str | None, isolation: str | None) -> None:
    """Grade one notebook with the hidden suites and print a per-check table.

    Example: nngrade grade solutions/a1_perceptron/a1_perceptron.ipynb --json results.json
    """
    from autograder.config import load_config
    from autograder.engine.assignment import Assignment
    from autograder.engine.grade import GRADER, grade_notebook
    from autograder.reports.text import print_result

    root = course_root(course, near=notebook)
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
@friendly
def generate(assignments: tuple[str, ...], course: str | None) -> None:
    """Regenerate release/ (real nbgrader generate_assignment) and solutions/ from source/.

    First writes each task's points into its heading in the source notebook (from the grade
    cells' points), so the release shows what each task is worth.

    Example: nngrade generate a1_perceptron
    """
    from autograder.engine.points import label_file
    from autograder.integrations.generate import assignment_ids, generate_into

    root = course_root(course)
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
@jobs_option("With --mutation: mutants graded at once.")
@grader_options
@quiet_option
@friendly
def validate(assignments: tuple[str, ...], mutation: bool, max_mutants: int | None, functions: tuple[str, ...],
             jobs: int | None, course: str | None, device: str | None, isolation: str | None, quiet: bool) -> None:
    """Prove the course: release/ and solutions/ are current, keys full, releases zero, mutants exact.

    With --mutation, each function of the answer key is mutated automatically (operators,
    comparisons, constants, removed statements; at most --max-mutants each), the mutants are
    graded in parallel, and the command prints per function how many the suite caught and
    lists the survivors (each is an equivalent mutant or a missing check).

    Example: nngrade validate a1_perceptron; nngrade validate --mutation a1_perceptron --jobs 2
    """
    root = course_root(course)
    if mutation:
        from autograder.authoring.mutation import LIMIT, print_report, run_mutation
        from autograder.config import load_config
        from autograder.integrations.generate import assignment_ids

        config = load_config(root, jobs=jobs, device=device, isolation=isolation)
        for aid in assignments or assignment_ids(root):
            report = run_mutation(root, aid, config, limit=max_mutants or LIMIT, workers=config.jobs,
                                  only=set(functions) or None)
            print_report(report)
        return
    from autograder.authoring.validate import validate_course

    ok = validate_course(root, list(assignments), device=device, isolation=isolation, quiet=quiet)
    sys.exit(0 if ok else 1)


@main.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False), default=None,
              help="Build the demo course here (default: a fresh temporary folder, kept).")
@click.option("--assignment", "-a", "assignments", multiple=True,
              help="Assignments to include (default: all).")
@isolation_option
@quiet_option
@friendly
def demo(directory: str | None, assignments: tuple[str, ...], isolation: str | None, quiet: bool) -> None:
    """Build a demo class and grade it end to end with real nbgrader.

    In a fresh course folder: generate the release, submit the answer key, the
    untouched release, every known-wrong submission and a malformed notebook,
    then run nbgrader autograde, generate_feedback and export, and print scores.

    Example: nngrade demo --dir /tmp/demo-course
    """
    from autograder.cli.demo import run_demo

    ok = run_demo(course_root(None), Path(directory) if directory else None, list(assignments),
                  isolation=isolation, quiet=quiet)
    sys.exit(0 if ok else 1)


for _command in (batch.grade_batch_cmd, batch.regrade, exports.gradescope, exports.export, exports.report):
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    # `python -m autograder.cli.main` (how `nngrade` restarts itself in a course's own package)
    main(prog_name="nngrade")
