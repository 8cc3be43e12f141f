"""``nngrade report``: a class-level view of one assignment, for instructors and TAs.

Reads two things the grading left behind in the course folder:

- nbgrader's gradebook (``gradebook.db``): each student's score, manual grades
  and late penalty included, and whether a person still has to grade a cell;
- the engine's per-check results (``.nngrade/results/<id>/<student>.json``,
  written by :func:`autograder.engine.cache.save_result`): which checks failed and why, how
  long grading took, and internal grader errors.

It also compares the submitted notebooks' solution code pair by pair
(:mod:`autograder.reports.similarity`, the release's starter code excluded).

From them it builds a :class:`~autograder.reports.class_model.ClassReport` (data), then writes
CSVs (:mod:`autograder.reports.class_csv`) and a self-contained HTML page
(:mod:`autograder.reports.class_report_html`). The flags and per-check causes are decided in
:mod:`autograder.reports.class_flags` and :mod:`autograder.reports.class_checks`.
"""

from __future__ import annotations

from pathlib import Path

from autograder.engine.cache import RESULTS_DIR
from autograder.errors import NNGradeError
from autograder.reports.class_checks import check_stats, slowest_check
from autograder.reports.class_csv import write_csv, write_similarity_csv
from autograder.reports.class_flags import flags_of, unreadable_flag
from autograder.reports.class_inputs import assignment_gradebook, load_results
from autograder.reports.class_model import ClassReport, StudentRow
from autograder.reports.class_report_html import render_html
from autograder.reports.similarity import class_similarity


def collect(course_root: Path, assignment_id: str, gradebook: Path | None = None) -> ClassReport:
    """Read the gradebook and the saved results of one assignment into a :class:`ClassReport`.

    Args:
        course_root: the course folder.
        assignment_id: the assignment.
        gradebook: the gradebook file (default: ``gradebook.db`` in the course folder); a
            missing gradebook leaves the report with autograded points only.

    Raises:
        NNGradeError: neither the gradebook nor the results know the assignment.
    """
    book = assignment_gradebook(gradebook or course_root / "gradebook.db", assignment_id)
    enrolled = book.students if book is not None else {}
    results = load_results(course_root, assignment_id)
    submitted = {p.parent.name for p in (course_root / "submitted").glob(f"*/{assignment_id}")}
    if not results and not any(sub is not None for sub in enrolled.values()):
        raise NNGradeError(f"nothing to report for {assignment_id}: no gradebook entries and no results in "
                           f"{course_root / RESULTS_DIR / assignment_id} "
                           f"(run `nbgrader autograde {assignment_id}`)")
    auto_max = max((r.max_score for r, _ in results.values()), default=0.0)
    rows = []
    for student in sorted(set(enrolled) | set(results) | submitted):
        sub = enrolled.get(student)
        pair = results.get(student)
        if pair is not None:
            result, internal = pair
            status, flags = "graded", flags_of(result, internal)
            autograded, seconds = result.score, result.seconds
            failed_ids = tuple(sorted(result.failed_checks()))
        elif student in submitted or sub is not None:
            status, flags = "not graded", (unreadable_flag(course_root, assignment_id, student),)
            autograded, seconds, failed_ids = None, None, ()
        else:
            status, flags, autograded, seconds, failed_ids = "no submission", (), None, None, ()
        if sub is not None:
            max_score = sub.max_score
        else:
            max_score = book.max_score if book is not None and student in enrolled else auto_max
        rows.append(StudentRow(
            student=student, status=status, score=sub.score if sub is not None else None,
            max_score=max_score, autograded=autograded, autograded_max=auto_max,
            late_penalty=sub.late_penalty if sub is not None else 0.0,
            needs_manual_grade=sub.needs_manual_grade if sub is not None else False,
            seconds=seconds, flags=flags, failed_checks=failed_ids))
    slowest = {s: slow for s, (r, _) in results.items() if (slow := slowest_check(r)) is not None}
    similarity = class_similarity(course_root, assignment_id) if submitted else None
    return ClassReport(assignment_id, course_root, tuple(rows),
                       check_stats([r for r, _ in results.values()]), slowest, bool(enrolled), similarity)


def write_report(report: ClassReport, out_dir: Path) -> tuple[Path, Path]:
    """Write ``<id>_report.html`` and ``<id>_report.csv`` of a collected report into ``out_dir``
    (and ``<id>_similarity.csv`` when submissions were compared)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path = out_dir / f"{report.assignment}_report.html"
    csv_path = out_dir / f"{report.assignment}_report.csv"
    write_csv(report, csv_path)
    if report.similarity is not None:
        write_similarity_csv(report.similarity, out_dir / f"{report.assignment}_similarity.csv")
    html_path.write_text(render_html(report, csv_name=csv_path.name), encoding="utf-8")
    return html_path, csv_path


def build_report(course_root: Path, assignment_id: str, out_dir: Path) -> tuple[Path, Path]:
    """Write the class report of one assignment: a self-contained HTML page and a CSV.

    Args:
        course_root: the course folder (``gradebook.db`` and ``.nngrade/results/`` are read).
        assignment_id: the assignment to report on.
        out_dir: where ``<id>_report.html`` and ``<id>_report.csv`` go (created when missing).

    Returns:
        The paths of the HTML page and the CSV.

    Raises:
        NNGradeError: nothing has been graded for the assignment.
    """
    return write_report(collect(course_root, assignment_id), out_dir)
