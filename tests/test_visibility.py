"""Check visibility (Gradescope's four settings) and hints that name the solution, from the suite to the student."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

import autograder.engine.assignment
import autograder.engine.cache
import autograder.engine.grade
from autograder.authoring.known_wrong import load_mutants
from autograder.engine.assignment import Assignment
from autograder.engine.grade import grade_notebook
from autograder.engine.results import VISIBILITIES, CheckResult, PartResult, render_part
from autograder.integrations.nbgrader_hook import past_due
from autograder.testing import points
from tests.conftest import ROOT, answer_key, copy_suites, replace_once

AID = "a1_perceptron"


def _check(name: str, visibility: str = "visible", hint_after_due: bool = False, passed: bool = False
           ) -> CheckResult:
    return CheckResult(check_id=f"p::{name}", case="", part="p", title=f"title {name}", points=1.0 if passed else 0.0,
                       max_points=1.0, passed=passed, message=f"message {name}", hint=f"hint {name}",
                       kind="ok" if passed else "failed", visibility=visibility, hint_after_due=hint_after_due)


def test_points_carries_visibility_and_refuses_unknown(pytestconfig):
    pytestconfig.addinivalue_line("markers", "nngrade(points, hint): points and hint of a hidden check")
    mark = points(2, hint="h", visibility="after_due_date", hint_names_solution=True)
    assert mark.kwargs == {"points": 2.0, "hint": "h", "visibility": "after_due_date", "hint_after_due": True}
    assert points(1, hint="h").kwargs["visibility"] == "visible"
    with pytest.raises(ValueError, match="visibility must be one of"):
        points(1, hint="h", visibility="secret")
    assert VISIBILITIES == ("visible", "hidden", "after_due_date", "after_published")


def test_feedback_shows_hidden_checks_by_title_and_score_only():
    part = PartResult("p", "test_p", 5.0, (
        _check("shown"), _check("secret", "hidden"), _check("later", "after_due_date"),
        _check("published", "after_published"), _check("answer", hint_after_due=True)))
    before = render_part(part, after_due=False)
    after = render_part(part, after_due=True)
    for text in (before, after):
        assert "FAIL title secret (0/1)" in text and "message secret" not in text and "hint secret" not in text
        assert "message shown" in text and "hint shown" in text
        assert "message published" in text  # nbgrader feedback is published when a person releases it
        assert "message answer" in text
    assert "FAIL title later (0/1)" in before and "message later" not in before and "message later" in after
    assert "hint answer" not in before and "(a hint is shown after the due date)" in before
    assert "hint answer" in after
    assert render_part(part) == after  # without a due date given, as before this feature


def test_gradescope_results_carry_visibility_and_the_hint_after_the_due_date():
    from autograder.engine.results import SubmissionResult

    part = PartResult("p", "test_p", 3.0, (_check("secret", "hidden"), _check("answer", hint_after_due=True),
                                           _check("ok", "after_published", passed=True)))
    tests = SubmissionResult(AID, "s", (part,), "process", "cpu", 1.0).to_gradescope()["tests"]
    by_name = {t["name"]: t for t in tests}
    assert by_name["p: title secret"]["visibility"] == "hidden"
    assert by_name["p: title ok"]["visibility"] == "after_published"
    assert "hint answer" not in by_name["p: title answer"]["output"]
    hint = by_name["p: title answer: hint"]
    assert (hint["visibility"], hint["max_score"], hint["output"]) == ("after_due_date", 0.0, "Hint: hint answer")
    assert sum(t["max_score"] for t in tests) == 3.0


def test_past_due_reads_the_gradebooks_due_date(tmp_path):
    from nbgrader.api import Gradebook

    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    now = datetime(2025, 3, 1, 12, 0)
    with Gradebook(url) as gb:
        gb.add_assignment("due", duedate=now - timedelta(hours=1))
        gb.add_assignment("open", duedate=now + timedelta(hours=1))
        gb.add_assignment("undated")
    assert past_due(url, "due", now) is True
    assert past_due(url, "open", now) is False
    assert past_due(url, "undated", now) is False  # no due date: hints that name the solution stay back
    assert past_due(url, "unknown", now) is False
    assert past_due("", "due", now) is False


@pytest.mark.slow
def test_a_suites_visibility_reaches_the_check_results(tmp_path, monkeypatch, grader_config):
    """A suite marks step_at_zero hidden and its hint as naming the solution; the strict mutant fails it."""
    suites = copy_suites(tmp_path, AID)
    old = 'hint="The neuron fires at exactly zero: compare with `z >= 0`, not `z > 0`.")'
    replace_once(suites / AID / "test_step.py", old, old[:-1] + ', visibility="hidden", hint_names_solution=True)')
    monkeypatch.setattr(autograder.engine.grade, "verify_suites", lambda snapshot: None)
    monkeypatch.setattr(autograder.engine.assignment, "SUITES_DIR", suites)
    monkeypatch.setattr(autograder.engine.cache, "SUITES_DIR", suites)
    strict = next(m for m in load_mutants(AID) if m.name == "step_strict")
    result = grade_notebook(strict.apply(answer_key(AID)), Assignment.load(ROOT, AID), grader_config).result
    checks = {c.check_id: c for c in result.part("step").checks}
    at_zero = checks["step::test_step_at_zero"]
    assert not at_zero.passed and at_zero.visibility == "hidden" and at_zero.hint_after_due
    assert all(c.visibility == "visible" and not c.hint_after_due for k, c in checks.items() if k != at_zero.check_id)
    report = render_part(result.part("step"), after_due=True)
    assert at_zero.title in report and at_zero.message not in report and "exactly zero" not in report
