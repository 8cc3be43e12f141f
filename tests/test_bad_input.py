"""Bad input costs that student the affected items, with a one-line reason, and nothing else."""

from __future__ import annotations

import copy

import pytest

from tests.conftest import answer_key, with_cell_source, with_extra_cell

pytestmark = pytest.mark.slow
AID = "a1_perceptron"


def _scores(result):
    return {p.part: p.score for p in result.parts}


def _full(result):
    return {p.part: p.max_score for p in result.parts}


def test_answer_key_full_marks(grade):
    result = grade(AID, answer_key(AID))
    assert result.score == result.max_score == 21
    assert result.error == "" and result.isolation


def test_malformed_json(grade, tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text('{"cells": [ {"cell_type": "code", "source": "def step(z)')
    result = grade(AID, path)
    assert result.score == 0
    assert "not valid notebook JSON" in result.error and "\n" not in result.error
    assert all(c.kind == "malformed" for p in result.parts for c in p.checks)


def test_not_a_notebook(grade, tmp_path):
    path = tmp_path / "list.ipynb"
    path.write_text("[1, 2, 3]")
    result = grade(AID, path)
    assert result.score == 0 and "not a notebook" in result.error


def test_missing_function(grade):
    nb = with_cell_source(answer_key(AID), "step", "# I deleted step")
    result = grade(AID, nb)
    step_checks = result.part("step").checks
    assert all(not c.passed and c.kind == "missing" for c in step_checks)
    assert "`step` is not defined in your notebook" in step_checks[0].message
    # every other function calls step, so they fail too, but with the student's NameError
    assert result.part("update").score == 0


def test_exception_at_import(grade):
    nb = with_cell_source(answer_key(AID), "imports", "import numpy as np\nimport not_a_module_xyz")
    # locked cells are restored from the source, so this edit does nothing
    assert grade(AID, nb).score == 21
    nb = with_cell_source(answer_key(AID), "predict", "import not_a_module_xyz\n" + "def predict(X, w, b): pass")
    result = grade(AID, nb)
    assert result.part("predict").score == 0
    assert "`predict` is not defined" in result.part("predict").checks[0].message
    assert result.part("step").score == _full(result)["step"]
    assert result.part("train").score == _full(result)["train"]


def test_infinite_loop_in_cell_skips_only_that_cell(grade, grader_config):
    nb = with_extra_cell(answer_key(AID), "while True:\n    pass", after="predict")
    result = grade(AID, nb, grader_config.replace(cell_timeout=2))
    assert result.score == 21
    assert any("ran past 2 s" in n.text and "skipped" in n.text for n in result.notes)


def test_infinite_loop_in_function_costs_its_checks(grade, grader_config):
    src = answer_key(AID)
    nb = with_cell_source(src, "predict", "def predict(X, w, b):\n    while True:\n        pass")
    result = grade(AID, nb, grader_config.replace(call_timeout=1, max_restarts=10))
    assert result.part("predict").score == 0
    assert "did not finish within 1 s" in result.part("predict").checks[0].message
    assert result.part("step").score == 5 and result.part("update").score == 5


def test_memory_hog_in_cell(grade):
    nb = with_extra_cell(answer_key(AID), "hog = bytearray(64 * 2**30)")
    result = grade(AID, nb)
    assert result.score == 21


def test_memory_hog_in_function(grade):
    nb = with_cell_source(answer_key(AID), "step",
                          "import numpy as np\ndef step(z):\n    _ = np.ones(2**36)\n"
                          "    return (np.asarray(z) >= 0).astype(int)")
    result = grade(AID, nb)
    checks = result.part("step").checks
    assert all(not c.passed for c in checks)
    assert "MemoryError" in checks[0].message


@pytest.mark.parametrize("exit_code", ["import os\nos._exit(0)", "import sys\nsys.exit()", "raise SystemExit(3)"])
def test_exit_in_cell(grade, exit_code):
    nb = with_extra_cell(answer_key(AID), exit_code, after="step")
    result = grade(AID, nb)
    assert result.score == 21


def test_os_exit_in_function_costs_that_check(grade):
    nb = with_cell_source(answer_key(AID), "predict",
                          "import os\ndef predict(X, w, b):\n    os._exit(0)")
    result = grade(AID, nb)
    assert result.part("predict").score == 0
    assert "stopped" in result.part("predict").checks[0].message
    assert result.part("train").score == 9 and result.part("update").score == 5


def test_deleted_grade_cell_costs_its_part(grade):
    nb = copy.deepcopy(answer_key(AID))
    nb.cells = [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != "test_update"]
    result = grade(AID, nb)
    assert result.part("update").score == 0
    assert "missing from your notebook" in result.part("update").checks[0].message
    assert result.score == 21 - 5


def test_duplicated_grade_cell_counts_once(grade):
    nb = copy.deepcopy(answer_key(AID))
    dup = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "step")
    bad = copy.deepcopy(dup)
    bad.source = "def step(z):\n    return 0"
    nb.cells.append(bad)
    result = grade(AID, nb)
    assert result.score == 21
    assert any("repeats the id 'step'" in n.text for n in result.notes)
