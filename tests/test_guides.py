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

from autograder.mutants import load_mutants
from tests.conftest import ROOT

pytestmark = pytest.mark.slow
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
                              capture_output=True, timeout=900)
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
    strict = next(m for m in load_mutants(ROOT, AID) if m.name == "step_strict").apply(key)
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
    assert "the graded cell 'test_update' is missing from your notebook" in text  # grade-batch's status
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
