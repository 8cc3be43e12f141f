"""The mutation score: the AST mutator's kinds of mutants; a weak check lets one survive that a strong one catches."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import nbformat
import pytest

import autograder.engine.assignment
import autograder.engine.cache
import autograder.engine.grade
import autograder.integrations.batch
from autograder.authoring.mutation import run_mutation
from autograder.authoring.mutators import KINDS, make_mutants, mutate_function
from autograder.config import load_config
from tests.conftest import ROOT, answer_key, copy_suites

CLAMP = textwrap.dedent('''
    def clamp_sum(xs, low, high):
        """Sum of xs, clamped to [low, high]."""
        total = 0
        for x in xs:
            total += x
        if total < low and low <= high:
            return low
        if not total <= high:
            return high
        return total * 1.0
''')


def _mutants(source: str, limit: int = 100):
    func = ast.parse(source).body[0]
    assert isinstance(func, ast.FunctionDef)
    return [(kind, line, desc, ast.unparse(m)) for kind, line, desc, m in mutate_function(func, limit)]


def test_the_mutator_makes_every_kind():
    mutants = _mutants(CLAMP)
    by_kind = {k: [d for kind, _, d, _ in mutants if kind == k] for k in KINDS}
    assert "total += x -> total -= x" in by_kind["operator"]
    assert "total * 1.0 -> total / 1.0" in by_kind["operator"]
    assert {"total < low -> total <= low", "low <= high -> low < high", "total <= high -> total < high"} <= set(
        by_kind["comparison"])
    assert {"0 -> 1", "1.0 -> 2.0"} <= set(by_kind["constant"])
    assert "removed: total = 0" in by_kind["statement"] and "removed: total += x" in by_kind["statement"]
    assert "total < low and low <= high -> total < low or low <= high" in by_kind["boolean"]
    assert "not total <= high -> not not total <= high" in by_kind["boolean"]
    # never the docstring, never a return; each mutant parses and differs from the original
    original = ast.unparse(ast.parse(CLAMP).body[0])
    assert all("Sum of xs" in code for *_, code in mutants)
    assert not any(d.startswith("removed: return") for _, _, d, _ in mutants)
    assert len({code for *_, code in mutants}) == len(mutants) and original not in {c for *_, c in mutants}
    for *_, code in mutants:
        compile(code, "<mutant>", "exec")
    # the kinds come in turn under a limit
    assert {kind for kind, *_ in _mutants(CLAMP, limit=5)} == set(KINDS)


def test_methods_are_mutated_within_their_class():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(textwrap.dedent('''
        class Counter:
            def __init__(self):
                self.n = 0

            def add(self, k):
                self.n += k
                return self.n
    '''))
    cell.metadata["nbgrader"] = {"solution": True, "grade_id": "counter", "locked": False, "grade": False}
    nb.cells.append(cell)
    mutants = make_mutants(nb)
    assert {m.function for m in mutants} == {"Counter.__init__", "Counter.add"}
    add = next(m for m in mutants if m.function == "Counter.add" and m.kind == "operator")
    assert add.target == "Counter" and "class Counter" in add.source and "self.n -= k" in add.source
    assert add.as_known_wrong().apply(nb).cells[0].source.count("def __init__") == 1


# --- slow: graded mutants against a weak and a strong check ------------------------------------

AID = "a1_perceptron"
WEAK = '''"""Hidden checks of predict(X, w, b) (a weak suite: the bias is always 0)."""

import numpy as np

from autograder.testing import expect_equal, points


@points(POINTS, hint="Compute X @ w + b, then apply step.")
def test_predict_without_bias(student):
    """predict with b = 0"""
    got = student.predict(np.array([[1.0, 2.0], [-3.0, -1.0]]), np.array([1.0, 1.0]), 0.0)
    expect_equal(np.asarray(got).tolist(), [1, 0], what="predict([[1, 2], [-3, -1]], [1, 1], 0)")
'''
STRONG_EXTRA = '''

@points(1, hint="Add the bias: X @ w + b.")
def test_predict_with_bias(student):
    """predict with a negative bias"""
    got = student.predict(np.array([[1.0, 2.0], [3.0, 2.0]]), np.array([1.0, 1.0]), -4.0)
    expect_equal(np.asarray(got).tolist(), [0, 1], what="predict([[1, 2], [3, 2]], [1, 1], -4)")
'''


def _suite_with_predict(tmp: Path, text: str) -> Path:
    suites = copy_suites(tmp, AID)
    (suites / AID / "test_predict.py").write_text(text)
    return suites


def _use(monkeypatch: pytest.MonkeyPatch, suites: Path) -> None:
    monkeypatch.setattr("autograder.integrations.jobs._ASSIGNMENTS", {})
    monkeypatch.setattr(autograder.integrations.batch, "verify_suites", lambda snapshot: None)
    monkeypatch.setattr(autograder.engine.grade, "verify_suites", lambda snapshot: None)
    monkeypatch.setattr(autograder.engine.assignment, "SUITES_DIR", suites)
    monkeypatch.setattr(autograder.engine.cache, "SUITES_DIR", suites)


@pytest.mark.slow
@pytest.mark.parametrize("strong", [False, True], ids=["weak", "strong"])
def test_a_weak_check_lets_a_mutant_survive(strong, tmp_path, monkeypatch):
    """`+ b -> - b` in predict survives a suite that only tests b = 0 and is caught by one that does not."""
    text = WEAK.replace("POINTS", "1" if strong else "2") + (STRONG_EXTRA if strong else "")
    _use(monkeypatch, _suite_with_predict(tmp_path, text))
    config = load_config(ROOT, cell_timeout=10, call_timeout=10)
    report = run_mutation(ROOT, AID, config, only={"predict"})
    predict = report.functions[0]
    assert predict.function == "predict" and predict.made >= 3 and predict.not_graded == 0
    sign = "np.asarray(X) @ np.asarray(w) + b -> np.asarray(X) @ np.asarray(w) - b"
    assert sign in {o.mutant.description for o in report.outcomes}
    survivors = {m.description for m in predict.survivors}
    if strong:
        assert survivors == set() and predict.caught == predict.made
    else:
        assert survivors == {sign}  # the other mutants (a removed statement, `@` to `*`) are caught


def test_the_answer_key_functions_are_found():
    names = [m.function for m in make_mutants(answer_key(AID), limit=1)]
    assert names == ["step", "predict", "perceptron_update", "train_perceptron"]
