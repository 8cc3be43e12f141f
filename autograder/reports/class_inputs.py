"""What the class report reads: the engine's saved results and nbgrader's gradebook.

- The per-check results ``.nngrade/results/<id>/<student>.json``, written by
  :func:`autograder.engine.cache.save_result` for every graded submission.
- The gradebook, through :mod:`autograder.integrations.gradebook` (the one reader the LMS
  export shares, late penalty included).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from autograder.engine.cache import RESULTS_DIR
from autograder.engine.results import SubmissionResult, result_from_dict
from autograder.errors import NNGradeError
from autograder.integrations.gradebook import GradebookSubmission, read_gradebook


@dataclass(frozen=True)
class AssignmentGradebook:
    """The gradebook's view of one assignment.

    Attributes:
        max_score: the assignment's maximum score (manually graded cells included).
        students: every gradebook student -> their submission (None: enrolled, nothing submitted).
    """

    max_score: float
    students: dict[str, GradebookSubmission | None]


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


def assignment_gradebook(gradebook: Path, assignment_id: str) -> AssignmentGradebook | None:
    """One assignment of a gradebook file; None when there is no such file or it lacks the assignment."""
    if not gradebook.is_file():
        return None
    book = read_gradebook(gradebook, [assignment_id])
    if assignment_id not in book.max_scores:
        return None
    return AssignmentGradebook(book.max_scores[assignment_id],
                               {s.id: s.submissions.get(assignment_id) for s in book.students})
