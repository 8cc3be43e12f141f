"""release/ and solutions/ are what nbgrader generates from source/, and validate reports problems."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from click.testing import CliRunner

import autograder.authoring.known_wrong
from autograder.authoring.known_wrong import TABLE
from autograder.authoring.validate import check_generated
from autograder.cli.main import main
from autograder.engine.integrity import SUITES_DIR
from autograder.integrations.generate import assignment_ids
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("aid", assignment_ids(ROOT))
def test_committed_release_and_solutions_are_current(aid):
    findings = check_generated(ROOT, aid)
    assert [f.what for f in findings if not f.ok] == []


def _course_copy(tmp_path):
    tmp_path.mkdir(parents=True, exist_ok=True)
    for name in ("nbgrader_config.py", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("source", "release", "solutions"):
        shutil.copytree(ROOT / folder / "a1_perceptron", tmp_path / folder / "a1_perceptron")
    return tmp_path


def test_validate_passes_on_the_course(tmp_path):
    course = _course_copy(tmp_path)
    result = CliRunner().invoke(main, ["validate", "a1_perceptron", "--course", str(course), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "course valid" in result.output


def test_validate_catches_a_stale_release_and_a_wrong_table(tmp_path, monkeypatch):
    course = _course_copy(tmp_path / "course")
    path = course / "release" / "a1_perceptron" / "a1_perceptron.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[0].source += "\nedited by hand"
    nbformat.write(nb, str(path))
    # a copy of the known-wrong table that claims one check too many (the suite itself is unchanged)
    table = tmp_path / "suites" / "a1_perceptron" / TABLE
    table.parent.mkdir(parents=True)
    text = (SUITES_DIR / "a1_perceptron" / TABLE).read_text()
    one = 'fails={"update::test_inputs_not_mutated"}'
    assert text.count(one) == 1
    table.write_text(text.replace(one, 'fails={"update::test_inputs_not_mutated", "step::test_step_shape"}'))
    monkeypatch.setattr(autograder.authoring.known_wrong, "SUITES_DIR", tmp_path / "suites")
    result = CliRunner().invoke(main, ["validate", "a1_perceptron", "--course", str(course), "--quiet"])
    assert result.exit_code == 1
    assert "FAIL a1_perceptron: release/a1_perceptron is current" in result.output
    assert "did not fail: step::test_step_shape" in result.output
