"""CLI commands for exports and reports (:mod:`autograder.cli.main` adds them to the ``nngrade`` group)."""

from __future__ import annotations

from pathlib import Path

import click

from autograder.cli.common import course_option, course_root, friendly


@click.command()
@click.argument("assignment")
@click.option("--out", "-o", type=click.Path(dir_okay=False), default=None,
              help="Zip to write (default: gradescope_<ID>.zip in the current folder).")
@course_option
@friendly
def gradescope(assignment: str, out: str | None, course: str | None) -> None:
    """Build a Gradescope autograder zip that grades ASSIGNMENT with its hidden suite.

    The zip holds setup.sh (a venv with the CPU torch wheel and the course package),
    run_autograder (grades the submitted notebook and writes results/results.json, one
    test per check, visible to the student) and requirements.txt. Upload it as the
    assignment's autograder ("Zip file upload") and set its points to the autograded total.

    Example: nngrade gradescope a1_perceptron --out dist/a1_perceptron_gradescope.zip
    """
    from autograder.engine.assignment import Assignment
    from autograder.integrations.gradescope import build_zip, zip_members

    root = course_root(course)
    path = Path(out or f"gradescope_{assignment}.zip")
    build_zip(root, assignment, path)
    members = zip_members(root, assignment)
    total = sum(p.points for p in Assignment.load(root, assignment).parts)
    click.echo(f"wrote {path} ({len(members)} files, {path.stat().st_size // 1024} KiB); "
               f"autograded points: {total:g}")


@click.command("export")
@click.argument("assignments", nargs=-1, required=True)
@click.option("--lms", type=click.Choice(["canvas", "moodle"]), required=True,
              help="The LMS whose grade-import CSV to write.")
@click.option("--out", "-o", type=click.Path(dir_okay=False), default=None,
              help="CSV to write (default: <lms>_<ID>.csv in the current folder).")
@click.option("--gradebook", type=click.Path(dir_okay=False), default=None,
              help="nbgrader gradebook (default: gradebook.db in the course folder).")
@click.option("--rename", "renames", multiple=True, metavar="ID=HEADER",
              help="Column header for an assignment (repeatable). For Canvas, 'Title (1234)' "
                   "targets the existing assignment whose Canvas id is 1234.")
@click.option("--missing", type=click.Choice(["blank", "zero"]), default="blank",
              help="Score for a student with no submission (default: blank, which the LMS leaves ungraded).")
@click.option("--moodle-key", type=click.Choice(["email", "username"]), default="email",
              help="Moodle: the column that identifies students (default: email).")
@course_option
@friendly
def export(assignments: tuple[str, ...], lms: str, out: str | None, gradebook: str | None,
           renames: tuple[str, ...], missing: str, moodle_key: str, course: str | None) -> None:
    """Write the gradebook's scores in an LMS's CSV grade-import format (Canvas or Moodle).

    Scores are nbgrader's (autograded plus any manual grades, less late penalties), one
    column per assignment. Canvas: Grades > Import. Moodle: Grade administration > Import >
    CSV file, identify users by the key column, map the score column to a grade item.

    Example: nngrade export --lms canvas a1_perceptron --out canvas_a1.csv
    """
    from autograder.errors import NNGradeError
    from autograder.integrations.lms import export_csv

    headers: dict[str, str] = {}
    for item in renames:
        aid, sep, header = item.partition("=")
        if not sep or not aid or not header:
            raise NNGradeError(f"--rename takes ID=HEADER, not {item!r}")
        headers[aid] = header
    root = course_root(course)
    path = Path(out or f"{lms}_{'_'.join(assignments)}.csv")
    summary = export_csv(root, lms, list(assignments), path,
                         gradebook=Path(gradebook) if gradebook else None, headers=headers,
                         missing=missing, moodle_key=moodle_key)
    for warning in summary.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"wrote {path}: {summary.students} students, {summary.scored} scores "
               f"({', '.join(f'{a} out of {m:g}' for a, m in summary.max_scores.items())})")


@click.command()
@click.argument("assignment")
@click.option("--out", "-o", type=click.Path(file_okay=False), default=None,
              help="Folder for <ID>_report.html and <ID>_report.csv (default: the current folder).")
@course_option
@friendly
def report(assignment: str, out: str | None, course: str | None) -> None:
    """Write a class report of ASSIGNMENT: one self-contained HTML page and a CSV.

    Built from the gradebook and the per-check results nbgrader autograde saved: the
    score histogram, each hidden check's failure rate (most failed first), grading time
    per submission, the submissions that need a person (crashed, timed out,
    malformed, tampered cells, missing functions, internal grader errors) with reasons,
    and pairs of submissions whose solution code is suspiciously similar (side by side;
    <ID>_similarity.csv lists every pair).
    The CSV has one row per student: score, max, seconds, flags, failed check ids.

    Example: nngrade report a1_perceptron --out reports/
    """
    from autograder.reports.class_report import collect, write_report

    data = collect(course_root(course), assignment)
    html_path, csv_path = write_report(data, Path(out or "."))
    similar = len(data.similarity.flagged) if data.similarity is not None else 0
    click.echo(f"wrote {html_path} and {csv_path}: {len(data.submitted)} submissions, "
               f"{len(data.flagged)} need a person, {similar} pair(s) with similar solution code")
