"""Real nbgrader runs (generate_assignment, autograde, generate_feedback, export) in a course copy."""

from __future__ import annotations

import copy
import csv
import html as htmllib
import re
from pathlib import Path

import nbformat
import pytest

from autograder.authoring.known_wrong import load_mutants
from autograder.cli.demo import make_course, submit
from autograder.engine.assignment import SUITES_DIR
from autograder.integrations.generate import nbgrader
from tests.conftest import ROOT, answer_key

pytestmark = pytest.mark.slow
AID = "a1_perceptron"


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course copy with a small class autograded, feedback generated and grades exported.

    As on a fresh clone: no gradebook and no `nbgrader generate_assignment` before autograde.
    """
    course = tmp_path_factory.mktemp("course")
    make_course(ROOT, course, [AID])
    key = answer_key(AID)
    submit(course, "key", AID, nbformat.writes(key))
    mutant = next(m for m in load_mutants(AID) if m.name == "step_strict")
    submit(course, "strict", AID, nbformat.writes(mutant.apply(key)))
    release = (ROOT / "release" / AID / f"{AID}.ipynb").read_text()
    submit(course, "blank", AID, release)
    no_cell = copy.deepcopy(key)
    no_cell.cells = [c for c in no_cell.cells
                     if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != "test_update"]
    submit(course, "deleted", AID, nbformat.writes(no_cell))
    edited = copy.deepcopy(key)
    for cell in edited.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "test_predict":
            cell.source = "# I changed the checks\nassert True"
    submit(course, "edited", AID, nbformat.writes(edited))
    # a submission that rewrites its own test cells' reported score, nbgrader-style
    spoof = copy.deepcopy(nbformat.reads(release, as_version=4))
    for cell in spoof.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "100"})]
            cell.source = "100"
    submit(course, "spoof", AID, nbformat.writes(spoof))
    submit(course, "garbage", AID, "{ not json")
    proc = nbgrader(["autograde", AID, "--force", "--create"], course, check=False)
    (course / "autograde.log").write_text(proc.stdout + proc.stderr)
    nbgrader(["generate_feedback", AID, "--force"], course)
    nbgrader(["export", "--to", str(course / "grades.csv")], course)
    return course


def _grades(course: Path) -> dict[str, float]:
    with open(course / "grades.csv", newline="") as f:
        return {row["student_id"]: float(row["raw_score"] or 0) for row in csv.DictReader(f)}


def _by_student(course: Path) -> dict[str, str]:
    """Each student's part of the autograde log (nbgrader logs one submission after another)."""
    out: dict[str, str] = {}
    student = ""
    for line in (course / "autograde.log").read_text().splitlines():
        m = re.search(r"submitted/([^/]+)/" + AID, line)
        if m and "Sanitizing" in line:
            student = m.group(1)
        out[student] = out.get(student, "") + line + "\n"
    return out


def test_scores_in_the_gradebook(course, grade):
    grades = _grades(course)
    top = grade(AID, answer_key(AID)).max_score
    assert grades["key"] == top  # every autograded point (the free response waits for a person)
    assert grades["blank"] == 0
    assert grades["spoof"] == 0  # its own outputs and sources are replaced; only values count
    strict = grade(AID, (course / "submitted/strict" / AID / f"{AID}.ipynb")).score
    assert 0 < grades["strict"] == strict < top
    update = next(p for p in grade(AID, answer_key(AID)).parts if p.grade_id == "test_update")
    assert grades["deleted"] == top - update.max_score  # the deleted test cell's part earns nothing
    assert grades["edited"] == top  # the original checks were restored and graded
    assert grades.get("garbage", 0) == 0


def test_fresh_course_needs_no_generate_step(course):
    """autograde itself put the assignment into the new gradebook, and left release/ alone."""
    assert not (course / "release").exists()
    log = (course / "autograde.log").read_text()
    assert "No assignment with ID" not in log
    assert {p.parent.parent.name for p in (course / "autograded").glob(f"*/{AID}/{AID}.ipynb")} == {
        "key", "strict", "blank", "deleted", "edited", "spoof"}


def test_no_checksum_warning_for_untouched_test_cells(course):
    """nbgrader's checksum warning appears only where a student changed a locked or test cell."""
    logs = _by_student(course)
    for student in ("key", "strict", "blank", "deleted"):
        assert "has changed!" not in logs[student], student
    assert "Attribute 'checksum' for cell test_predict has changed!" in logs["edited"]


def test_autograded_cell_holds_score_and_report(course):
    nb = nbformat.read(str(course / "autograded/strict" / AID / f"{AID}.ipynb"), as_version=4)
    cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_step")
    kinds = [o.output_type for o in cell.outputs]
    assert kinds == ["stream", "execute_result"]
    assert cell.outputs[1].data["text/plain"] == "4"
    assert "FAIL step fires (returns 1) at exactly z = 0" in cell.outputs[0].text
    assert "hint: The neuron fires at exactly zero" in cell.outputs[0].text
    assert cell.outputs[0].text.startswith("step: 4 / ")  # the report's first line carries the score
    assert max(len(line) for line in cell.outputs[0].text.splitlines()) <= 88


def _feedback_text(course: Path, student: str) -> str:
    html = (course / "feedback" / student / AID / f"{AID}.html").read_text()
    body = re.sub(r"<style.*?</style>", "", html, flags=re.S)
    return htmllib.unescape(re.sub(r"<[^>]+>", "", body))


def test_missing_or_edited_graded_cell_is_explained(course):
    """The reason is in the autograded notebook's summary and in the feedback, not only in the JSON."""
    reason = "the graded cell 'test_update' is missing from your notebook"
    nb = nbformat.read(str(course / "autograded/deleted" / AID / f"{AID}.ipynb"), as_version=4)
    summary = next(c for c in nb.cells if c.cell_type == "code" and c.outputs).outputs[0].text
    assert summary.startswith("Autograded score:") and reason in summary
    assert reason in _feedback_text(course, "deleted")
    assert "the graded cell 'test_predict' was edited; the original was restored" in _feedback_text(course, "edited")


def test_feedback_shows_each_score_once(course):
    """No bare `Out[ ]: 4` after a report: the score is in the report's first line and the cell header."""
    nb = nbformat.read(str(course / "autograded/strict" / AID / f"{AID}.ipynb"), as_version=4)
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    html = (course / "feedback/strict" / AID / f"{AID}.html").read_text()
    assert html.count("Out[") == sum(  # only the student's own cells' results show an Out prompt
        1 for c in nb.cells if c not in tests for o in c.get("outputs", []) if o.output_type == "execute_result")
    assert "Score: 4.0 / " in html


def test_feedback_page_comes_from_the_fast_exporter(course):
    """GenerateFeedback.exporter_class is the course's FeedbackExporter: the key's plot is given
    nbconvert's alt text, and the page is not BeautifulSoup's rewrite (which writes <meta charset="utf-8"/>)."""
    from autograder.reports.feedback import NO_ALT

    html = (course / "feedback/key" / AID / f"{AID}.html").read_text()
    assert re.search(rf'<img src="data:image/png;base64,[^"]+"\s+alt="{NO_ALT}"', html)
    assert '<meta charset="utf-8" />' in html and '<meta charset="utf-8"/>' not in html


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
    text = _feedback_text(course, "strict")
    assert "FAIL step fires (returns 1) at exactly z = 0" in text
    # the page escapes quotes, "<" and "&" in text: a suite line is looked for as written and as shown
    unescaped = htmllib.unescape(html)
    leaked = [line for line in _suite_lines() if line in html or line in unescaped]
    assert leaked == []
    assert "def test_" not in text and "_reference" not in text and "Traceback" not in text


def test_gradebook_and_course_untouched_by_students(course):
    assert (course / "gradebook.db").exists()
    assert (course / ".nngrade/results" / AID / "key.json").exists()
