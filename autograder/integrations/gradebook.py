"""One reader of nbgrader's gradebook (``gradebook.db``) for the exports and the class report.

It opens the gradebook with nbgrader's own API (:class:`nbgrader.api.Gradebook`) and returns
plain data: the assignments asked for and their maximum scores, and every student with their
submissions of those assignments. The late-penalty rule lives here only (:func:`final_score`):
a submission's score is nbgrader's score (autograded plus manual grades) less its late penalty,
floored at 0, exactly what ``nbgrader export`` calls ``score``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.errors import NNGradeError


@dataclass(frozen=True)
class GradebookSubmission:
    """One student's submission of one assignment, as the gradebook holds it.

    Attributes:
        score: nbgrader's score less the late penalty, floored at 0 (:func:`final_score`).
        max_score: the submission's maximum (manually graded cells included).
        late_penalty: points nbgrader took off for lateness.
        needs_manual_grade: a cell still waits for a person in formgrader.
        autograded: ``nbgrader autograde`` completed for it (:func:`autograded`).
    """

    score: float
    max_score: float
    late_penalty: float
    needs_manual_grade: bool
    autograded: bool


@dataclass(frozen=True)
class GradebookStudent:
    """A student of the gradebook and their submissions (assignment id -> submission; absent: none)."""

    id: str
    first_name: str
    last_name: str
    email: str
    lms_user_id: str
    submissions: dict[str, GradebookSubmission]


@dataclass(frozen=True)
class GradebookData:
    """What :func:`read_gradebook` found.

    Attributes:
        max_scores: assignment id -> the assignment's maximum score, for the requested
            assignments the gradebook knows (in the order asked).
        known: every assignment the gradebook holds, sorted.
        students: every student, in the gradebook's order.
    """

    max_scores: dict[str, float]
    known: tuple[str, ...]
    students: tuple[GradebookStudent, ...]


def final_score(submission: Any) -> float:
    """nbgrader's score of a gradebook submission less its late penalty, floored at 0."""
    return max(0.0, float(submission.score or 0.0) - late_penalty(submission))


def late_penalty(submission: Any) -> float:
    """The points nbgrader took off a gradebook submission for lateness."""
    return float(submission.late_submission_penalty or 0.0)


def autograded(submission: Any) -> bool:
    """Whether nbgrader autograde completed for a gradebook submission.

    A submission whose autograding failed (a malformed notebook) still has a row, and nbgrader
    counts its score as 0; its autograded test cells, though, have neither an automatic nor a
    manual score. (Test cells are the grade cells that are not also solution cells.)
    """
    for nb in submission.notebooks:
        answers = {c.name for c in nb.notebook.solution_cells}
        for grade in nb.grades:
            if grade.name not in answers and grade.auto_score is None and grade.manual_score is None:
                return False
    return True


def read_gradebook(gradebook: Path, assignment_ids: list[str]) -> GradebookData:
    """Every student's submissions of the given assignments in an nbgrader gradebook.

    Args:
        gradebook: the gradebook's sqlite file.
        assignment_ids: the assignments to read; those the gradebook lacks are left out of
            ``max_scores`` and of every student's submissions.

    Returns:
        The assignments' maximum scores, the gradebook's assignment names, and its students.

    Raises:
        NNGradeError: there is no file at ``gradebook``.
    """
    from nbgrader.api import Gradebook, MissingEntry

    if not gradebook.is_file():
        raise NNGradeError(f"no nbgrader gradebook at {gradebook}: "
                           "run `nbgrader autograde` in the course first")
    with Gradebook(f"sqlite:///{gradebook.resolve()}") as gb:
        known = tuple(sorted(a.name for a in gb.assignments))
        max_scores: dict[str, float] = {}
        for aid in assignment_ids:
            try:
                max_scores[aid] = float(gb.find_assignment(aid).max_score or 0.0)
            except MissingEntry:
                continue
        students = []
        for s in gb.students:
            subs: dict[str, GradebookSubmission] = {}
            for aid, top in max_scores.items():
                try:
                    sub = gb.find_submission(aid, s.id)
                except MissingEntry:
                    continue
                subs[aid] = GradebookSubmission(final_score(sub), float(sub.max_score or top), late_penalty(sub),
                                                bool(sub.needs_manual_grade), autograded(sub))
            students.append(GradebookStudent(str(s.id), s.first_name or "", s.last_name or "", s.email or "",
                                             s.lms_user_id or "", subs))
    return GradebookData(max_scores, known, tuple(students))
