"""Pairs of submissions whose solution code is suspiciously similar (copydetect's winnowing).

What is compared is each submission's own code: its code cells that are neither locked nor
test cells (the nbgrader solution cells, plus any cell the student added), turned into the
Python that IPython runs (:func:`autograder.sandbox.cells.python_source`). The release's own text of
those cells (the stubs, docstrings and starter code every student was given) is passed to
copydetect as boilerplate, so sharing it is not similarity.

copydetect (a MOSS-like detector) tokenizes the code with Pygments, replaces every variable,
function and class name by one letter and drops comments, hashes the k-grams of what is left
and keeps a winnowed set of fingerprints. A pair's score is, for each side, the share of its
fingerprinted code that also occurs in the other; renaming variables, reordering functions,
changing comments and docstrings change nothing of that. :data:`THRESHOLD` is where a pair is
flagged (see docs/instructor-guide.md for how it was chosen); a flag asks a person to look,
it proves nothing.
"""

from __future__ import annotations

import io
import itertools
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from nbformat.notebooknode import NotebookNode

from autograder.engine.assignment import SubmissionError, is_test_cell, nbgrader_meta, read_notebook
from autograder.sandbox.cells import python_source

NOISE = 25  # copydetect's k: fingerprints are k-grams of the filtered code (its default)
WINDOW = 1  # copydetect's winnowing window (its default: every k-gram is a fingerprint)
THRESHOLD = 0.6  # a pair is flagged when one side shares at least this much of its code
MIN_TOKENS = 40  # code shorter than this (after the boilerplate) is too little to compare


@dataclass(frozen=True)
class SimilarPair:
    """Two submissions and how much of their solution code they share.

    Attributes:
        first, second: student ids (``first`` sorts before ``second``).
        score: the larger of the two shares (what the list is ranked by).
        first_share: the share of ``first``'s fingerprinted code also found in ``second``.
        second_share: the same for ``second``.
        overlap: copied tokens (of the filtered code) in ``first``.
        first_code, second_code: the solution code compared.
        first_spans, second_spans: (start, end) character spans of the shared code in each.
        flagged: ``score`` reaches the threshold.
    """

    first: str
    second: str
    score: float
    first_share: float
    second_share: float
    overlap: int
    first_code: str
    second_code: str
    first_spans: tuple[tuple[int, int], ...]
    second_spans: tuple[tuple[int, int], ...]
    flagged: bool


@dataclass(frozen=True)
class SimilarityReport:
    """Every compared pair of a class, most similar first.

    Attributes:
        pairs: all pairs (flagged or not), ranked by score.
        threshold: the score at which a pair is flagged.
        skipped: (student, reason) for submissions that could not be compared.
    """

    pairs: tuple[SimilarPair, ...]
    threshold: float
    skipped: tuple[tuple[str, str], ...] = ()

    @property
    def flagged(self) -> tuple[SimilarPair, ...]:
        return tuple(p for p in self.pairs if p.flagged)


def _own_cell(cell: NotebookNode) -> bool:
    """A code cell the student writes: a solution cell, or one without a locked or test role."""
    if cell.get("cell_type") != "code":
        return False
    meta = nbgrader_meta(cell)
    if meta.get("solution"):
        return True
    return not (meta.get("locked") or is_test_cell(cell))


def solution_code(nb: NotebookNode) -> str:
    """The student's own code of a notebook as Python: solution cells and added cells, in order."""
    return "\n\n".join(python_source(str(cell.source)) for cell in nb.cells if _own_cell(cell)).strip() + "\n"


def _fingerprint(code: str, name: str, boilerplate: Any = None) -> Any:
    from copydetect import CodeFingerprint

    return CodeFingerprint(f"{name}.py", NOISE, WINDOW, boilerplate=boilerplate, language="python",
                           fp=io.StringIO(code))


def _spans(slices: Any) -> tuple[tuple[int, int], ...]:
    starts, ends = slices[0], slices[1]
    return tuple((int(a), int(b)) for a, b in zip(starts, ends))


def compare(codes: dict[str, str], starter: str = "", threshold: float = THRESHOLD) -> SimilarityReport:
    """Rank every pair of ``codes`` (student -> solution code) by shared code, ``starter`` excluded.

    Args:
        codes: each student's solution code.
        starter: the code every student was given (the release's text of the same cells).
        threshold: the score at which a pair is flagged.

    Returns:
        A :class:`SimilarityReport`; submissions with under :data:`MIN_TOKENS` tokens of their
        own after the starter code is removed are listed as skipped (an untouched release).
    """
    from copydetect import compare_files

    logging.getLogger().disabled, was = True, logging.getLogger().disabled  # copydetect logs per file
    try:
        boilerplate = None
        if starter.strip():
            boilerplate = np.array(sorted(_fingerprint(starter, "starter").hashes), dtype=np.int64)
        prints = {}
        skipped = []
        for student, code in sorted(codes.items()):
            fp = _fingerprint(code, student, boilerplate)
            if int(fp.token_coverage) < MIN_TOKENS:
                skipped.append((student, "too little code of its own to compare (the starter code only?)"))
                continue
            prints[student] = fp
        pairs = []
        for a, b in itertools.combinations(sorted(prints), 2):
            overlap, (share_a, share_b), (slices_a, slices_b) = compare_files(prints[a], prints[b])
            score = float(max(share_a, share_b))
            pairs.append(SimilarPair(a, b, round(score, 4), round(float(share_a), 4), round(float(share_b), 4),
                                     int(overlap), codes[a], codes[b], _spans(slices_a), _spans(slices_b),
                                     score >= threshold))
    finally:
        logging.getLogger().disabled = was
    pairs.sort(key=lambda p: (-p.score, -p.overlap, p.first, p.second))
    return SimilarityReport(tuple(pairs), threshold, tuple(skipped))


def class_similarity(course_root: Path, assignment_id: str, threshold: float = THRESHOLD) -> SimilarityReport:
    """Compare every submission of ``submitted/*/<id>/<id>.ipynb``, the release's starter code excluded."""
    release = course_root / "release" / assignment_id / f"{assignment_id}.ipynb"
    starter = ""
    if release.is_file():
        starter = solution_code(read_notebook(release))
    codes: dict[str, str] = {}
    unreadable: list[tuple[str, str]] = []
    for path in sorted((course_root / "submitted").glob(f"*/{assignment_id}/{assignment_id}.ipynb")):
        student = path.parent.parent.name
        try:
            codes[student] = solution_code(read_notebook(path))
        except SubmissionError as exc:
            unreadable.append((student, str(exc)))
    report = compare(codes, starter, threshold)
    return SimilarityReport(report.pairs, report.threshold, tuple(sorted(unreadable + list(report.skipped))))
