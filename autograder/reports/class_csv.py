"""The class report's CSVs: one row per student, and every compared pair of submissions.

Text a student controls (their id, failure messages) is written so that a spreadsheet shows
it as text and never runs it as a formula.
"""

from __future__ import annotations

import csv
from pathlib import Path

from autograder.reports.class_model import ClassReport
from autograder.reports.similarity import SimilarityReport

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
