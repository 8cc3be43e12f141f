"""``nngrade report``: a class-level view of one assignment, for instructors and TAs.

Reads two things the grading left behind in the course folder:

- nbgrader's gradebook (``gradebook.db``): each student's score, manual grades
  and late penalty included, and whether a person still has to grade a cell;
- the engine's per-check results (``.nngrade/results/<id>/<student>.json``,
  written by :mod:`autograder.nbgrader_hook`): which checks failed and why, how
  long grading took, and internal grader errors.

It also compares the submitted notebooks' solution code pair by pair
(:mod:`autograder.similarity`, the release's starter code excluded).

From them it builds a :class:`ClassReport` (data), then writes a CSV (one row per
student) and a self-contained HTML page (:mod:`autograder.class_report_html`).
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from autograder.assignment import SubmissionError, read_notebook
from autograder.errors import NNGradeError
from autograder.nbgrader_hook import RESULTS_DIR
from autograder.results import CheckResult, SubmissionResult, result_from_dict
from autograder.similarity import SimilarityReport, class_similarity

# check kinds that mean a person should look at the submission, and how the report names them
FLAG_KINDS = {
    "timeout": "timed out",
    "crashed": "crashed",
    "missing": "missing function",
    "tampered": "tampered",
    "malformed": "malformed",
    "grader_error": "grader error",
}
# the cause of a failed check, as the failure-rate chart groups them (most telling first)
CAUSES = {
    "failed": "wrong result",
    "student_error": "raised an error",
    "missing": "missing function",
    "timeout": "timed out or crashed",
    "crashed": "timed out or crashed",
    "grader_error": "grader error",
}
CAUSE_ORDER = ("wrong result", "raised an error", "not attempted", "missing function", "timed out or crashed",
               "grader error")
# notes the engine leaves on a submission that a person should see
NOTE_FLAGS = (
    (re.compile(r"^locked cell .* (was edited|is missing from the submission)"), "tampered"),
    (re.compile(r"^cell \d+ repeats the id "), "tampered"),
    (re.compile(r"^cell \d+ ran past "), "timed out"),
    (re.compile(r"^cell \d+ ended the process"), "crashed"),
)
MAX_REASON = 300


@dataclass(frozen=True)
class Flag:
    """Why a submission needs a person: a category (``timed out``, ``tampered``, ...) and a reason."""

    category: str
    reason: str


@dataclass(frozen=True)
class StudentRow:
    """One student of the class report.

    Attributes:
        student: the nbgrader student id.
        status: ``graded``, ``not graded`` (submitted, but the grader recorded no result)
            or ``no submission``.
        score: the gradebook's score (autograded plus manual grades, less the late
            penalty, floored at 0); None without a gradebook entry.
        max_score: the gradebook's maximum (manually graded cells included).
        autograded: the autograded points the engine gave; None without a result.
        autograded_max: the autograded maximum.
        late_penalty: points nbgrader took off for lateness.
        needs_manual_grade: a cell still waits for a person in formgrader.
        seconds: the engine's grading time for this submission.
        flags: why a person should look at it (empty when nothing is odd).
        failed_checks: check ids with a failing case (``part::*`` when a whole part failed).
    """

    student: str
    status: str
    score: float | None
    max_score: float
    autograded: float | None
    autograded_max: float
    late_penalty: float
    needs_manual_grade: bool
    seconds: float | None
    flags: tuple[Flag, ...]
    failed_checks: tuple[str, ...]

    @property
    def total(self) -> float | None:
        """The score the report plots: the gradebook's, else the autograded points."""
        return self.score if self.score is not None else self.autograded


@dataclass(frozen=True)
class CheckStats:
    """How the class did on one hidden check (all its parametrized cases together).

    Attributes:
        check_id: ``<part>::<test function>``.
        part: the graded part.
        title: the check's title (its docstring's first line).
        ran: submissions whose suite ran this check.
        failed: of those, submissions with at least one failing case.
        causes: (cause, submissions) pairs, in :data:`CAUSE_ORDER`.
        common_message: the failure message most submissions got (wrong results first on a tie), or "".
    """

    check_id: str
    part: str
    title: str
    ran: int
    failed: int
    causes: tuple[tuple[str, int], ...]
    common_message: str

    @property
    def rate(self) -> float:
        return self.failed / self.ran if self.ran else 0.0


@dataclass(frozen=True)
class SlowCheck:
    """The slowest check of one submission, and the time all its checks took."""

    check_id: str
    title: str
    seconds: float
    checks_seconds: float


@dataclass(frozen=True)
class ClassReport:
    """Everything the HTML page and the CSV show."""

    assignment: str
    course_root: Path
    rows: tuple[StudentRow, ...]
    checks: tuple[CheckStats, ...]  # most failed first
    slowest: dict[str, SlowCheck]  # student -> their slowest check
    has_gradebook: bool
    similarity: SimilarityReport | None = None  # pairs of submissions with similar solution code

    @property
    def graded(self) -> tuple[StudentRow, ...]:
        return tuple(r for r in self.rows if r.status == "graded")

    @property
    def submitted(self) -> tuple[StudentRow, ...]:
        return tuple(r for r in self.rows if r.status != "no submission")

    @property
    def flagged(self) -> tuple[StudentRow, ...]:
        return tuple(r for r in self.rows if r.flags)

    @property
    def max_score(self) -> float:
        scored = [r.max_score for r in self.rows if r.max_score]
        return max(scored) if scored else 0.0


@dataclass(frozen=True)
class GradebookEntry:
    """One student's row of the gradebook for the assignment (None fields: no submission)."""

    score: float | None
    max_score: float
    late_penalty: float
    needs_manual_grade: bool


def load_results(course_root: Path, assignment_id: str) -> dict[str, tuple[SubmissionResult, list[str]]]:
    """The engine's saved results of an assignment: student -> (result, internal errors)."""
    folder = course_root / RESULTS_DIR / assignment_id
    out: dict[str, tuple[SubmissionResult, list[str]]] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text())
            result = result_from_dict(data)
        except (ValueError, KeyError, TypeError) as exc:
            raise NNGradeError(f"cannot read the grading result {path}: {exc}") from None
        out[result.student or path.stem] = (result, [str(e) for e in data.get("internal_errors", [])])
    return out


def read_gradebook(gradebook: Path, assignment_id: str) -> dict[str, GradebookEntry]:
    """Every gradebook student's entry for the assignment (empty when the gradebook lacks it)."""
    from nbgrader.api import Gradebook, MissingEntry

    out: dict[str, GradebookEntry] = {}
    with Gradebook(f"sqlite:///{gradebook.resolve()}") as gb:
        try:
            assignment = gb.find_assignment(assignment_id)
        except MissingEntry:
            return out
        top = float(assignment.max_score or 0.0)
        for student in gb.students:
            try:
                sub = gb.find_submission(assignment_id, student.id)
            except MissingEntry:
                out[student.id] = GradebookEntry(None, top, 0.0, False)
                continue
            penalty = float(sub.late_submission_penalty or 0.0)
            score = max(0.0, float(sub.score or 0.0) - penalty)
            out[student.id] = GradebookEntry(score, float(sub.max_score or top), penalty,
                                             bool(sub.needs_manual_grade))
    return out


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[:MAX_REASON - 3] + "..."


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def flags_of(result: SubmissionResult, internal_errors: list[str]) -> tuple[Flag, ...]:
    """Why a graded submission needs a person: odd check outcomes, engine notes, grader errors.

    Failed checks of one kind and message are grouped into one flag naming their check ids.
    """
    grouped: dict[tuple[str, str], list[str]] = {}
    for part in result.parts:
        for c in part.checks:
            if not c.passed and c.kind in FLAG_KINDS:
                label = f"all of {c.part}" if c.check_id.endswith("::*") else c.check_id
                ids = grouped.setdefault((FLAG_KINDS[c.kind], c.message), [])
                if label not in ids:
                    ids.append(label)
    flags = []
    for (category, message), ids in grouped.items():
        if category == "grader error" and internal_errors:
            continue  # one flag per internal error below, with the error itself
        shown = ", ".join(ids[:6]) + (f" and {len(ids) - 6} more" if len(ids) > 6 else "")
        flags.append(Flag(category, _short(f"{message} ({shown})")))
    for error in internal_errors:
        where, _, detail = error.partition(": ")
        detail = _last_line(detail) or detail
        flags.append(Flag("grader error", _short(f"internal error in {where}: {detail}")))
    for note in result.notes:
        for pattern, category in NOTE_FLAGS:
            if pattern.search(note):
                flags.append(Flag(category, _short(note)))
                break
    if result.error and not flags:
        flags.append(Flag("not graded", _short(result.error)))
    return tuple(flags)


def _unreadable_flag(course_root: Path, assignment_id: str, student: str) -> Flag:
    """The flag of a submission the grader left no result for (usually a notebook nbgrader cannot read)."""
    path = course_root / "submitted" / student / assignment_id / f"{assignment_id}.ipynb"
    if not path.exists():
        where = f"submitted/{student}/{assignment_id}/"
        return Flag("not graded", f"no grading result and no {path.name} in {where}")
    try:
        read_notebook(path)
    except SubmissionError as exc:
        return Flag("malformed", _short(f"{exc}; nbgrader could not autograde it"))
    return Flag("not graded", "submitted, but no grading result was recorded: run `nbgrader autograde "
                              f"{assignment_id}` again and read its log for this student")


def cause_of(check: CheckResult) -> str:
    """Why a check failed, in the failure-rate chart's words (a stub's NotImplementedError: not attempted)."""
    if check.kind == "student_error" and "NotImplementedError" in check.message:
        return "not attempted"
    return CAUSES.get(check.kind, "grader error")


def check_stats(results: list[SubmissionResult]) -> tuple[CheckStats, ...]:
    """Per-check failure counts over the class, most failed first.

    A submission counts for a check when its suite ran that check; it failed the check
    when any parametrized case failed. Whole-part failures (``part::*``: a crash before
    the suite ran, a deleted cell) are left out here; they are flags.
    """
    order: dict[str, int] = {}
    info: dict[str, tuple[str, str]] = {}
    ran: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    causes: dict[str, Counter[str]] = {}
    messages: dict[str, Counter[tuple[int, str]]] = {}  # (cause rank, message): submissions
    for result in results:
        seen: dict[str, dict[tuple[int, str], None]] = {}
        for part in result.parts:
            for c in part.checks:
                if c.check_id.endswith("::*"):
                    continue
                order.setdefault(c.check_id, len(order))
                info.setdefault(c.check_id, (c.part, c.title))
                failures = seen.setdefault(c.check_id, {})
                if not c.passed:
                    failures[(CAUSE_ORDER.index(cause_of(c)), c.message.strip())] = None
        for check_id, failures in seen.items():
            ran[check_id] += 1
            if failures:
                failed[check_id] += 1
                causes.setdefault(check_id, Counter())[CAUSE_ORDER[min(failures)[0]]] += 1
                messages.setdefault(check_id, Counter()).update(failures.keys())
    common = {check_id: max(counts.items(), key=lambda item: (item[1], -item[0][0]))[0][1]
              for check_id, counts in messages.items()}
    stats = []
    for check_id in order:
        counts = causes.get(check_id, Counter())
        part_name, title = info[check_id]
        by_cause = tuple((c, counts[c]) for c in CAUSE_ORDER if counts[c])
        stats.append(CheckStats(check_id, part_name, title, ran[check_id], failed[check_id], by_cause,
                                common.get(check_id, "")))
    return tuple(sorted(stats, key=lambda s: (-s.rate, -s.failed, order[s.check_id])))


def _slowest(result: SubmissionResult) -> SlowCheck | None:
    checks = [c for p in result.parts for c in p.checks]
    if not checks:
        return None
    top = max(checks, key=lambda c: c.seconds)
    return SlowCheck(top.check_id + (f"[{top.case}]" if top.case else ""), top.title, top.seconds,
                     sum(c.seconds for c in checks))


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
    db = gradebook or course_root / "gradebook.db"
    book = read_gradebook(db, assignment_id) if db.is_file() else {}
    results = load_results(course_root, assignment_id)
    submitted_dir = course_root / "submitted"
    submitted = {p.parent.name for p in submitted_dir.glob(f"*/{assignment_id}")}
    if not results and not any(e.score is not None for e in book.values()):
        raise NNGradeError(f"nothing to report for {assignment_id}: no gradebook entries and no results in "
                           f"{course_root / RESULTS_DIR / assignment_id} "
                           f"(run `nbgrader autograde {assignment_id}`)")
    auto_max = max((r.max_score for r, _ in results.values()), default=0.0)
    rows = []
    for student in sorted(set(book) | set(results) | submitted):
        entry = book.get(student)
        pair = results.get(student)
        in_book = entry is not None and entry.score is not None
        has_submission = pair is not None or student in submitted or in_book
        if pair is not None:
            result, internal = pair
            status, flags = "graded", flags_of(result, internal)
            autograded, seconds = result.score, result.seconds
            failed_ids = tuple(sorted(result.failed_checks()))
        elif has_submission:
            status, flags = "not graded", (_unreadable_flag(course_root, assignment_id, student),)
            autograded, seconds, failed_ids = None, None, ()
        else:
            status, flags, autograded, seconds, failed_ids = "no submission", (), None, None, ()
        rows.append(StudentRow(
            student=student, status=status,
            score=entry.score if entry is not None and has_submission else None,
            max_score=entry.max_score if entry is not None else auto_max,
            autograded=autograded, autograded_max=auto_max,
            late_penalty=entry.late_penalty if entry is not None else 0.0,
            needs_manual_grade=entry.needs_manual_grade if entry is not None else False,
            seconds=seconds, flags=flags, failed_checks=failed_ids))
    slowest = {s: slow for s, (r, _) in results.items() if (slow := _slowest(r)) is not None}
    similarity = class_similarity(course_root, assignment_id) if submitted else None
    return ClassReport(assignment_id, course_root, tuple(rows),
                       check_stats([r for r, _ in results.values()]), slowest, bool(book), similarity)


CSV_COLUMNS = ("student", "status", "score", "max_score", "autograded_score", "autograded_max",
               "late_penalty", "needs_manual_grade", "seconds", "flags", "failed_checks", "reasons")


def _safe(text: str) -> str:
    """A CSV text cell a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def write_csv(report: ClassReport, path: Path) -> None:
    """One row per student: scores, grading time, flags, failed check ids and the flags' reasons."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for r in report.rows:
            writer.writerow([
                _safe(r.student), r.status, _num(r.score), _num(r.max_score), _num(r.autograded),
                _num(r.autograded_max), _num(r.late_penalty), "yes" if r.needs_manual_grade else "no",
                "" if r.seconds is None else f"{r.seconds:.3f}",
                ";".join(dict.fromkeys(f.category for f in r.flags)),
                ";".join(r.failed_checks),
                _safe(" | ".join(f"{f.category}: {f.reason}" for f in r.flags)),
            ])


SIMILARITY_COLUMNS = ("first", "second", "score", "first_share", "second_share", "flagged")


def write_similarity_csv(similarity: SimilarityReport, path: Path) -> None:
    """Every compared pair, most similar first: the two students, the score, each side's share, flagged."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(SIMILARITY_COLUMNS)
        for p in similarity.pairs:
            writer.writerow([_safe(p.first), _safe(p.second), f"{p.score:.3f}", f"{p.first_share:.3f}",
                             f"{p.second_share:.3f}", "yes" if p.flagged else "no"])


def write_report(report: ClassReport, out_dir: Path) -> tuple[Path, Path]:
    """Write ``<id>_report.html`` and ``<id>_report.csv`` of a collected report into ``out_dir``
    (and ``<id>_similarity.csv`` when submissions were compared)."""
    from autograder.class_report_html import render_html

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
