"""The class report's data: what :mod:`autograder.reports.class_report` builds and the pages show.

Plain frozen dataclasses and the order of failure causes; nothing here reads files or
renders anything, so the builder (:mod:`autograder.reports.class_report`), the CSV writer
(:mod:`autograder.reports.class_csv`) and the HTML page (:mod:`autograder.reports.class_report_html`)
all import it and never each other's internals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from autograder.reports.similarity import SimilarityReport

# the causes of a failed check, as the failure-rate chart groups them (most telling first)
CAUSE_ORDER = ("wrong result", "raised an error", "not attempted", "missing function", "timed out or crashed",
               "grader error")


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
