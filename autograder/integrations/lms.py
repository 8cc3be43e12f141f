"""``nngrade export --lms``: the nbgrader gradebook's scores as an LMS grade-import CSV.

The scores come from the course's nbgrader gradebook (``gradebook.db``): for each
student and assignment, nbgrader's score (autograded plus any manual grades) less its
late penalty, floored at 0, exactly what ``nbgrader export`` calls ``score``. A student
without a submission gets a blank cell (the LMS leaves it ungraded), or 0 with
``missing="zero"``. nbgrader's students have an id, first and last name, email and an
optional ``lms_user_id``; they fill these fields:

Canvas (Grades > Import; Canvas's own gradebook export has the same layout)::

    Student,ID,SIS User ID,SIS Login ID,Section,<assignment>...
        Points Possible,,,,,<max score>...
    "Lovelace, Ada",48213,ada,ada,,21

- ``Student``: ``"Last, First"`` (Canvas's sortable name), or the nbgrader id when the
  gradebook has no names.
- ``ID``: ``lms_user_id`` (Canvas's numeric user id), blank when unset.
- ``SIS User ID`` and ``SIS Login ID``: the nbgrader student id. Canvas matches a row by
  ``ID``, then ``SIS User ID``, then ``SIS Login ID``, then by name.
- ``Section``: blank (nbgrader has no sections).
- One column per assignment headed by its nbgrader name; Canvas updates the assignment
  with that exact title, or creates it. A header ``"Title (1234)"`` targets the assignment
  whose Canvas id is 1234 instead. The ``Points Possible`` row carries nbgrader's max
  score (autograded plus manually graded points), which Canvas uses for a new assignment.

Moodle (Grade administration > Import > CSV file)::

    Email address,First name,Last name,<assignment>...
    ada@example.edu,Ada,Lovelace,21

- The first column identifies the student: ``Email address`` (nbgrader's email) or, with
  ``moodle_key="username"``, ``Username`` (the nbgrader id). Map it to "Email address" or
  "Username" under "Identify user by". Students the key cannot identify are left out,
  with a warning.
- ``First name`` and ``Last name``: for reading only (leave them unmapped).
- One column per assignment, raw points; map each to a grade item whose maximum grade is
  the assignment's max score (a new grade item made by the import has maximum 100).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from autograder.errors import NNGradeError
from autograder.integrations.gradebook import read_gradebook

CANVAS_STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
# Canvas's own export indents it; its importer matches the words
CANVAS_POINTS_POSSIBLE = "    Points Possible"
MOODLE_KEYS = {"email": "Email address", "username": "Username"}


@dataclass(frozen=True)
class StudentScores:
    """One student of the gradebook and their score per exported assignment (None: no submission)."""

    id: str
    first_name: str
    last_name: str
    email: str
    lms_user_id: str
    scores: tuple[float | None, ...]
    ungraded: tuple[str, ...] = ()  # assignments submitted but never autograded (always left blank)

    @property
    def sortable_name(self) -> str:
        """``"Last, First"``, one of them, or the id."""
        if self.last_name and self.first_name:
            return f"{self.last_name}, {self.first_name}"
        return self.last_name or self.first_name or self.id


@dataclass(frozen=True)
class ClassGrades:
    """The exported assignments, their max scores and every student's scores."""

    assignments: tuple[str, ...]
    max_scores: tuple[float, ...]
    students: tuple[StudentScores, ...]
    pending_manual: tuple[tuple[str, str], ...] = ()  # (student, assignment) still awaiting a person
    ungraded: tuple[tuple[str, str], ...] = ()  # (student, assignment) submitted, never autograded


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote, for the command's one-line report."""

    path: Path
    students: int
    scored: int
    max_scores: dict[str, float]
    warnings: tuple[str, ...] = field(default_factory=tuple)


def class_grades(gradebook: Path, assignment_ids: list[str]) -> ClassGrades:
    """Scores of the given assignments for every student in an nbgrader gradebook.

    A submission nbgrader never autograded (a malformed notebook) has no score here.

    Args:
        gradebook: the gradebook's sqlite file (``gradebook.db``).
        assignment_ids: the assignments, in column order.

    Returns:
        The class's grades, students sorted by last name, first name, id.

    Raises:
        NNGradeError: no gradebook there, or an assignment it does not know.
    """
    book = read_gradebook(gradebook, assignment_ids)
    for aid in assignment_ids:
        if aid not in book.max_scores:
            raise NNGradeError(f"the gradebook has no assignment {aid!r} "
                               f"(it has: {', '.join(book.known) or 'none'})")
    students = []
    pending = []
    ungraded = []
    for s in book.students:
        scores: list[float | None] = []
        never: list[str] = []
        for aid in assignment_ids:
            sub = s.submissions.get(aid)
            if sub is None:
                scores.append(None)
            elif not sub.autograded:
                scores.append(None)
                never.append(aid)
                ungraded.append((s.id, aid))
            else:
                scores.append(sub.score)
                if sub.needs_manual_grade:
                    pending.append((s.id, aid))
        students.append(StudentScores(s.id, s.first_name, s.last_name, s.email, s.lms_user_id,
                                      tuple(scores), tuple(never)))
    students.sort(key=lambda r: (r.last_name.lower(), r.first_name.lower(), r.id))
    return ClassGrades(tuple(assignment_ids), tuple(book.max_scores[a] for a in assignment_ids),
                       tuple(students), tuple(pending), tuple(ungraded))


def _number(x: float) -> str:
    """A score as the LMSs read it: plain decimal, no exponent, no trailing zeros."""
    text = format(round(x, 4), "f").rstrip("0").rstrip(".")
    return text or "0"


def _cell(score: float | None, missing: str, ungraded: bool = False) -> str:
    if score is None:
        return "0" if missing == "zero" and not ungraded else ""
    return _number(score)


def _cells(s: StudentScores, assignments: tuple[str, ...], missing: str) -> list[str]:
    return [_cell(x, missing, aid in s.ungraded) for x, aid in zip(s.scores, assignments)]


def canvas_rows(grades: ClassGrades, headers: dict[str, str] | None = None, missing: str = "blank"
                ) -> list[list[str]]:
    """Canvas's gradebook-import CSV, as rows.

    Args:
        grades: the class's grades.
        headers: assignment id -> column header (default: the id).
        missing: ``blank`` or ``zero``, for students without a submission.

    Returns:
        The header row, the Points Possible row, then one row per student.
    """
    headers = headers or {}
    head = list(CANVAS_STUDENT_COLUMNS) + [headers.get(a, a) for a in grades.assignments]
    points = [CANVAS_POINTS_POSSIBLE, "", "", "", ""] + [_number(m) for m in grades.max_scores]
    rows = [head, points]
    for s in grades.students:
        rows.append([s.sortable_name, s.lms_user_id, s.id, s.id, ""] + _cells(s, grades.assignments, missing))
    return rows


def moodle_rows(grades: ClassGrades, headers: dict[str, str] | None = None, missing: str = "blank",
                key: str = "email") -> tuple[list[list[str]], list[str]]:
    """Moodle's CSV grade import, as rows.

    Args:
        grades: the class's grades.
        headers: assignment id -> column header (default: the id).
        missing: ``blank`` or ``zero``, for students without a submission.
        key: ``email`` or ``username``: the column Moodle identifies students by.

    Returns:
        The rows (header first), and the ids of students left out for want of a key.
    """
    if key not in MOODLE_KEYS:
        raise NNGradeError(f"moodle key must be one of {', '.join(MOODLE_KEYS)}, not {key!r}")
    headers = headers or {}
    rows = [[MOODLE_KEYS[key], "First name", "Last name"] + [headers.get(a, a) for a in grades.assignments]]
    skipped = []
    for s in grades.students:
        ident = s.email if key == "email" else s.id
        if not ident:
            skipped.append(s.id)
            continue
        rows.append([ident, s.first_name, s.last_name] + _cells(s, grades.assignments, missing))
    return rows, skipped


def write_rows(rows: list[list[str]], path: Path) -> None:
    """Write rows as UTF-8 CSV (every field quoted where needed, CRLF line ends as both LMSs export)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)


def export_csv(course_root: Path, lms: str, assignment_ids: list[str], out: Path, *,
               gradebook: Path | None = None, headers: dict[str, str] | None = None,
               missing: str = "blank", moodle_key: str = "email") -> ExportSummary:
    """Write one LMS's grade-import CSV from the course's gradebook.

    Args:
        course_root: the course folder (its ``gradebook.db`` is read unless ``gradebook`` is given).
        lms: ``canvas`` or ``moodle``.
        assignment_ids: the assignments to export, one column each.
        out: the CSV to write.
        gradebook: another gradebook file.
        headers: assignment id -> column header.
        missing: ``blank`` or ``zero``, for students without a submission.
        moodle_key: ``email`` or ``username`` (Moodle only).

    Returns:
        What was written, and warnings for the user.
    """
    if missing not in ("blank", "zero"):
        raise NNGradeError(f"missing must be blank or zero, not {missing!r}")
    unknown = sorted(set(headers or {}) - set(assignment_ids))
    if unknown:
        raise NNGradeError(f"--rename names assignments that are not exported: {', '.join(unknown)}")
    grades = class_grades(gradebook or course_root / "gradebook.db", assignment_ids)
    warnings = []
    if lms == "canvas":
        rows = canvas_rows(grades, headers, missing)
        written = grades.students
    elif lms == "moodle":
        rows, skipped = moodle_rows(grades, headers, missing, moodle_key)
        left_out = set(skipped)
        written = tuple(s for s in grades.students if s.id not in left_out)
        if skipped:
            shown = ", ".join(skipped[:10]) + (" ..." if len(skipped) > 10 else "")
            hint = " (use --moodle-key username)" if moodle_key == "email" else ""
            warnings.append(f"{len(skipped)} student(s) have no {moodle_key} in the gradebook "
                            f"and were left out: {shown}{hint}")
    else:
        raise NNGradeError(f"unknown LMS {lms!r}; use canvas or moodle")
    if not grades.students:
        warnings.append("the gradebook has no students")
    if grades.ungraded:
        shown = ", ".join(f"{sid} ({aid})" if len(grades.assignments) > 1 else sid
                          for sid, aid in grades.ungraded[:20])
        shown += " ..." if len(grades.ungraded) > 20 else ""
        warnings.append(f"{len(grades.ungraded)} submission(s) were never autograded and are left blank: "
                        f"{shown} (nbgrader autograde failed for them; see `nngrade report`)")
    if grades.pending_manual:
        warnings.append(f"{len(grades.pending_manual)} submission(s) still need manual grading; their scores "
                        "count only what is graded so far (nbgrader formgrader, then export again)")
    write_rows(rows, out)
    scored = sum(1 for s in written for x in s.scores if x is not None)
    max_scores = dict(zip(grades.assignments, grades.max_scores))
    return ExportSummary(out, len(written), scored, max_scores, tuple(warnings))
