"""release/ and solutions/ are what nbgrader generates from source/, and validate reports problems."""

from __future__ import annotations

import shutil

import nbformat
import pytest
from click.testing import CliRunner

from autograder.cli import main
from autograder.generate import assignment_ids
from autograder.validate import check_generated
from tests.conftest import ROOT

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("aid", assignment_ids(ROOT))
def test_committed_release_and_solutions_are_current(aid):
    findings = check_generated(ROOT, aid)
    assert [f.what for f in findings if not f.ok] == []


def _course_copy(tmp_path):
    for name in ("nbgrader_config.py", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    for folder in ("source", "release", "solutions"):
        shutil.copytree(ROOT / folder / "a1_perceptron", tmp_path / folder / "a1_perceptron")
    shutil.copytree(ROOT / "tests" / "known_wrong", tmp_path / "tests" / "known_wrong")
    return tmp_path


def test_validate_passes_on_the_course(tmp_path):
    course = _course_copy(tmp_path)
    result = CliRunner().invoke(main, ["validate", "a1_perceptron", "--course", str(course), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "course valid" in result.output


def test_validate_catches_a_stale_release_and_a_wrong_table(tmp_path):
    course = _course_copy(tmp_path)
    path = course / "release" / "a1_perceptron" / "a1_perceptron.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    nb.cells[0].source += "\nedited by hand"
    nbformat.write(nb, str(path))
    table = course / "tests" / "known_wrong" / "a1_perceptron.py"
    table.write_text(table.read_text().replace('fails={"update::test_inputs_not_mutated"}',
                                               'fails={"update::test_inputs_not_mutated", "step::test_step_shape"}'))
    result = CliRunner().invoke(main, ["validate", "a1_perceptron", "--course", str(course), "--quiet"])
    assert result.exit_code == 1
    assert "FAIL a1_perceptron: release/a1_perceptron is current" in result.output
    assert "did not fail: step::test_step_shape" in result.output
