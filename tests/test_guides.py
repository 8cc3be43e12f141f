"""The guides work as written: every command block of the instructor and TA guides, in order, on a fresh clone.

A clone of the repository's committed HEAD is made in a temporary folder and used with this
checkout's virtual environment (its ``bin`` first on ``PATH``, as after ``. .venv/bin/activate``).
The instructor guide runs first (an edit made to the source notebook as Jupyter would, then
generate, validate, commit); then a class of four is "downloaded" the way Canvas names files
and the TA guide runs from collecting to the class report. Every ``bash`` block must exit 0;
``text`` blocks are illustrations and are not run.
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.authoring.known_wrong import load_mutants
from tests.conftest import ROOT

AID = "a1_perceptron"
BLOCK = re.compile(r"^```bash\n(.*?)^```", re.M | re.S)
EDIT = "This sentence was added in Jupyter by the instructor."


def blocks(guide: Path) -> list[str]:
    """The ``bash`` code blocks of a markdown guide, in order."""
    return BLOCK.findall(guide.read_text())


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("PYTHONPATH", None)
    env.update(HOME=str(home), GIT_AUTHOR_NAME="Instructor", GIT_AUTHOR_EMAIL="instructor@example.edu",
               GIT_COMMITTER_NAME="Instructor", GIT_COMMITTER_EMAIL="instructor@example.edu")
    return env


def run_guide(guide: Path, course: Path, env: dict[str, str]) -> list[str]:
    """Run each block with ``bash -e`` in ``course``; the output of each (fails on the first error)."""
    outputs = []
    for block in blocks(guide):
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=course, env=env, text=True,
                              capture_output=True, timeout=900, check=False)
        output = proc.stdout + proc.stderr
        assert proc.returncode == 0, f"{guide.name}: this block failed ({proc.returncode}):\n{block}\n{output[-3000:]}"
        outputs.append(output)
    return outputs


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh clone of HEAD."""
    base = tmp_path_factory.mktemp("guides")
    clone = base / "course"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True, timeout=300)
    return clone, _env(base)


@pytest.fixture(scope="module")
def released(course: tuple[Path, dict[str, str]]) -> tuple[Path, dict[str, str], list[str]]:
    """The instructor guide run on the clone, after an edit to the source notebook."""
    clone, env = course
    source = clone / "source" / AID / f"{AID}.ipynb"
    nb = nbformat.read(str(source), as_version=4)
    nb.cells[0].source += f"\n\n{EDIT}"
    nbformat.write(nb, str(source))  # what Jupyter's save does
    return clone, env, run_guide(ROOT / "docs" / "instructor-guide.md", clone, env)


def test_guides_have_commands() -> None:
    assert len(blocks(ROOT / "docs" / "instructor-guide.md")) >= 1
    assert len(blocks(ROOT / "docs" / "ta-guide.md")) >= 6


@pytest.mark.slow
def test_instructor_guide(released: tuple[Path, dict[str, str], list[str]]) -> None:
    clone, _, _ = released
    release = nbformat.read(str(clone / "release" / AID / f"{AID}.ipynb"), as_version=4)
    title = release.cells[0].source
    assert EDIT in title  # the edit made in Jupyter stays and reaches the students
    assert re.match(r"# .* \(\d+ points\)\n", title)  # the title shows the total
    assert EDIT in nbformat.read(str(clone / "source" / AID / f"{AID}.ipynb"), as_version=4).cells[0].source
    log = subprocess.run(["git", "log", "-1", "--name-only", "--format=%s"], cwd=clone, text=True,
                         capture_output=True, check=True).stdout
    assert f"source/{AID}/{AID}.ipynb" in log and f"release/{AID}/{AID}.ipynb" in log
    assert "autograder/suites/digests.json" in log or (clone / "autograder/suites/digests.json").exists()


def _download(clone: Path) -> dict[str, str]:
    """A class of four as Canvas's "Download Submissions" names the files; what each one is."""
    key = nbformat.read(str(clone / "solutions" / AID / f"{AID}.ipynb"), as_version=4)
    strict = next(m for m in load_mutants(AID) if m.name == "step_strict").apply(key)
    no_cell = copy.deepcopy(key)
    no_cell.cells = [c for c in no_cell.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                     != "test_update"]
    archive = clone / "downloaded" / AID / "archive"
    archive.mkdir(parents=True)
    files = {"alice_48213_9001": nbformat.writes(key), "bob_LATE_48214_9002": nbformat.writes(strict),
             "carol_48215_9003": (clone / "release" / AID / f"{AID}.ipynb").read_text(),
             "dave_48216_9004": nbformat.writes(no_cell)}
    for prefix, text in files.items():
        (archive / f"{prefix}_{AID}.ipynb").write_text(text)
    return {"alice": "key", "bob": "step_strict", "carol": "release", "dave": "deleted test_update"}


@pytest.mark.slow
def test_ta_guide(released: tuple[Path, dict[str, str], list[str]]) -> None:
    clone, env, _ = released
    students = _download(clone)
    outputs = run_guide(ROOT / "docs" / "ta-guide.md", clone, env)
    text = "\n".join(outputs)
    found = {p.parent.parent.name for p in (clone / "submitted").glob(f"*/{AID}/{AID}.ipynb")}
    assert found == set(students)  # zip_collect found every student
    assert {p.parent.parent.name for p in (clone / "feedback").glob(f"*/{AID}/{AID}.html")} == set(students)
    assert "has changed!" not in text  # no checksum warning on clean submissions
    assert "No assignment with ID" not in text
    flat = " ".join(re.sub(r"[│┃|]", " ", text).split())  # grade-batch's table, its wrapped cells joined
    assert "the graded cell 'test_update' is missing from your notebook" in flat  # dave's status
    assert f"all {len(students)} submissions graded and recorded in the gradebook" in text
    grades = (clone / "grades.csv").read_text()
    assert all(s in grades for s in students)
    canvas = (clone / f"canvas_{AID}.csv").read_text()
    assert all(s in canvas for s in students)
    for made in ("results.json", f"gradescope_{AID}.zip", f"reports/{AID}_report.html", f"moodle_{AID}.csv"):
        assert (clone / made).exists(), made
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, text=True, capture_output=True,
                            check=True).stdout
    assert status == ""  # everything the TA's commands wrote is ignored by git


# ---- fast checks of what the guides promise ----

def test_check_ids_named_in_the_docs_exist() -> None:
    """Every "<part>::<test>" a guide names is a test of some suite (a guide cannot name a check that is gone)."""
    from autograder.engine.integrity import SUITES_DIR

    tests = {f"{p.stem[5:]}::{name}" for p in SUITES_DIR.glob("*/test_*.py")
             for name in re.findall(r"^def (test_\w+)", p.read_text(), re.M)}
    named = {m for doc in (ROOT / "docs").glob("*.md") for m in re.findall(r"\b(\w+::test_\w+)", doc.read_text())}
    assert named and named <= tests, sorted(named - tests)


def test_every_release_shows_each_tasks_points() -> None:
    """The headings of every release carry the points of the grade cells under them, and add up."""
    from autograder.engine.points import stale_labels, worth
    from autograder.integrations.generate import assignment_ids

    for aid in assignment_ids(ROOT):
        for folder in ("source", "release"):
            nb = nbformat.read(str(ROOT / folder / aid / f"{aid}.ipynb"), as_version=4)
            assert stale_labels(nb) == [], (folder, aid)
        release = nbformat.read(str(ROOT / "release" / aid / f"{aid}.ipynb"), as_version=4)
        total = sum(float(c.metadata["nbgrader"]["points"]) for c in release.cells
                    if c.get("metadata", {}).get("nbgrader", {}).get("grade"))
        assert f"({total:g} points)" in release.cells[0].source.splitlines()[0], aid
        tasks = [v for i, v in worth(release).items() if i != 0]
        assert tasks and sum(tasks) == total, aid


def test_points_labels_follow_the_cells() -> None:
    """A changed cell's points change its heading; labelling twice changes nothing; answer cells are no headings."""
    from autograder.engine.points import label_points, stale_labels

    nb = nbformat.read(str(ROOT / "source" / "a5_overfitting" / "a5_overfitting.ipynb"), as_version=4)
    assert not label_points(nb)
    cell = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "test_diagnose")
    cell.metadata["nbgrader"]["points"] = 1
    assert stale_labels(nb)[:2] == ["# Assignment 5: Overfitting, early stopping and regularisation (42 points)",
                                    "## 3. Reading a pair of loss curves (1 point)"]
    assert label_points(nb) and not label_points(nb)
    answers = [c for c in nb.cells if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")]
    assert answers and all(c.source.startswith("### BEGIN SOLUTION\n") for c in answers)


def test_status_and_summary_give_the_reason() -> None:
    """A missing graded cell is never "ok": its reason is in the status and the summary; reports wrap."""
    from autograder.codes import Kind
    from autograder.engine.results import CheckResult, PartResult, SubmissionResult, render_part, render_summary

    lost = "the graded cell 'test_update' is missing from your notebook (deleted or its metadata changed)"
    long = "expected " + ", ".join(str(i) for i in range(60))
    parts = (PartResult("step", "test_step", 2, (
                 CheckResult("step::test_a", "", "step", "a check", 0, 1, False, long, "use `z >= 0`"),
                 CheckResult("step::test_b", "", "step", "b check", 1, 1, True))),
             PartResult("update", "test_update", 5, (
                 CheckResult("update::*", "", "update", "all checks of this part", 0, 5, False, lost,
                             kind=Kind.TAMPERED),)))
    res = SubmissionResult(AID, "dave", parts, "bwrap", "cpu", 1.0)
    assert res.status.startswith("the graded cell 'test_update' is missing")
    assert SubmissionResult(AID, "x", parts[:1], "bwrap", "cpu", 1.0).status == "ok"
    summary = render_summary(res)
    assert "update" in summary and "note: the graded cell 'test_update' is missing" in summary
    report = render_part(parts[0])
    assert report.startswith("step: 1 / 2 points\n")
    assert max(len(line) for line in report.splitlines()) <= 88
    assert "58, 59" in " ".join(report.split())


def test_feedback_drops_only_the_score_number() -> None:
    from autograder.reports.feedback import hide_scores

    nb = nbformat.v4.new_notebook()
    test = nbformat.v4.new_code_cell("assert True", metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "grade_id": "t", "points": 2, "schema_version": 3}})
    test.outputs = [nbformat.v4.new_output("stream", name="stdout", text="step: 2 / 2 points\n"),
                    nbformat.v4.new_output("execute_result", {"text/plain": "2"})]
    mine = nbformat.v4.new_code_cell("x")
    mine.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "3"})]
    nb.cells = [mine, test]
    assert hide_scores(nb) == 1
    assert [o.output_type for o in test.outputs] == ["stream"] and len(mine.outputs) == 1


def test_release_form_clears_only_the_hidden_region() -> None:
    from autograder.integrations.gradebook_setup import release_form

    source = "assert f(1) == 2\nprint('ok')\n### BEGIN HIDDEN TESTS\n# nngrade: part f\n### END HIDDEN TESTS"
    assert release_form(source) == "assert f(1) == 2\nprint('ok')"
