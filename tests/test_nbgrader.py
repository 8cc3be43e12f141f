"""Real nbgrader runs (generate_assignment, autograde, generate_feedback, export) in a course copy."""

from __future__ import annotations

import copy
import csv
import re
from pathlib import Path

import nbformat
import pytest

from autograder.assignment import SUITES_DIR
from autograder.demo import make_course, submit
from autograder.generate import nbgrader
from autograder.mutants import load_mutants
from tests.conftest import ROOT, answer_key

pytestmark = pytest.mark.slow
AID = "a1_perceptron"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course copy with a small class autograded, feedback generated and grades exported."""
    course = tmp_path_factory.mktemp("course")
    make_course(ROOT, course, [AID])
    nbgrader(["generate_assignment", AID, "--force"], course)
    key = answer_key(AID)
    submit(course, "key", AID, nbformat.writes(key))
    mutant = next(m for m in load_mutants(ROOT, AID) if m.name == "step_strict")
    submit(course, "strict", AID, nbformat.writes(mutant.apply(key)))
    release = (course / "release" / AID / f"{AID}.ipynb").read_text()
    submit(course, "blank", AID, release)
    no_cell = copy.deepcopy(key)
    no_cell.cells = [c for c in no_cell.cells
                     if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != "test_update"]
    submit(course, "deleted", AID, nbformat.writes(no_cell))
    # a submission that rewrites its own test cells' reported score, nbgrader-style
    spoof = copy.deepcopy(nbformat.reads(release, as_version=4))
    for cell in spoof.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "100"})]
            cell.source = "100"
    submit(course, "spoof", AID, nbformat.writes(spoof))
    submit(course, "garbage", AID, "{ not json")
    nbgrader(["autograde", AID, "--force", "--create"], course, check=False)
    nbgrader(["generate_feedback", AID, "--force"], course)
    nbgrader(["export", "--to", str(course / "grades.csv")], course)
    return course


def _grades(course: Path) -> dict[str, float]:
    with open(course / "grades.csv", newline="") as f:
        return {row["student_id"]: float(row["raw_score"] or 0) for row in csv.DictReader(f)}


def test_scores_in_the_gradebook(course, grade):
    grades = _grades(course)
    assert grades["key"] == 21  # every autograded point (the free response waits for a person)
    assert grades["blank"] == 0
    assert grades["spoof"] == 0  # its own outputs and sources are replaced; only values count
    assert grades["strict"] == grade(AID, (course / "submitted/strict" / AID / f"{AID}.ipynb")).score == 14
    assert grades["deleted"] == 21 - 5  # the deleted test cell's part earns nothing
    assert grades.get("garbage", 0) == 0


def test_autograded_cell_holds_score_and_report(course):
    nb = nbformat.read(str(course / "autograded/strict" / AID / f"{AID}.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_step")
    kinds = [o.output_type for o in cell.outputs]
    assert kinds == ["stream", "execute_result"]
    assert cell.outputs[1].data["text/plain"] == "4"
    assert "FAIL step fires (returns 1) at exactly z = 0" in cell.outputs[0].text
    assert "hint: The neuron fires at exactly zero" in cell.outputs[0].text


def _suite_lines() -> set[str]:
    lines = set()
    for path in (SUITES_DIR / AID).glob("*.py"):
        for line in path.read_text().splitlines():
            line = line.strip()
            if len(line) > 24 and not line.startswith(('"""', "#")):
                lines.add(line)
    return lines


def test_feedback_shows_reports_not_hidden_code(course):
    html = (course / "feedback/strict" / AID / f"{AID}.html").read_text()
    body = re.sub(r"<style.*?</style>", "", html, flags=re.S)
    text = re.sub(r"<[^>]+>", "", body)
    assert "FAIL step fires (returns 1) at exactly z = 0" in text
    leaked = [line for line in _suite_lines() if line in html]
    assert leaked == []
    assert "def test_" not in text and "_reference" not in text and "Traceback" not in text


def test_gradebook_and_course_untouched_by_students(course):
    assert (course / "gradebook.db").exists()
    assert (course / ".nngrade/results" / AID / "key.json").exists()
