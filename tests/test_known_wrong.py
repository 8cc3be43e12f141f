"""Every answer key gets full marks, every release zero, every known-wrong submission fails exactly its checks."""

from __future__ import annotations

import sys

import pytest

from autograder.authoring.known_wrong import load_mutants
from autograder.integrations.generate import assignment_ids
from tests.conftest import ROOT, answer_key, release

pytestmark = pytest.mark.slow
ASSIGNMENTS = assignment_ids(ROOT)
CASES = [pytest.param(aid, m, id=f"{aid}-{m.name}") for aid in ASSIGNMENTS for m in load_mutants(aid)]


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_answer_key_full_marks(grade, aid):
    result = grade(aid, answer_key(aid))
    assert result.failed_checks() == set()
    assert result.score == result.max_score > 0


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_untouched_release_scores_zero(grade, aid):
    result = grade(aid, release(aid))
    assert result.score == 0
    kinds = {c.kind for p in result.parts for c in p.checks}
    assert kinds <= {"student_error", "not_attempted", "failed", "missing"}


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_enough_known_wrong_submissions(aid):
    assert len(load_mutants(aid)) >= 6


@pytest.mark.parametrize("aid,mutant", CASES)
def test_known_wrong_fails_exactly_its_checks(grade, aid, mutant):
    result = grade(aid, mutant.apply(answer_key(aid)))
    assert result.failed_checks() == set(mutant.fails), mutant.description
    assert 0 < result.score < result.max_score


@pytest.mark.parametrize("aid", ["a1_perceptron", "a2_xor_backprop", "a4_pytorch_loop"])
def test_table_is_not_imported_while_grading(grade, aid):
    """The grader imports a suite's helper modules, but never its known-wrong table."""
    package = f"autograder.suites.{aid}"
    for name in ("_reference", "known_wrong"):
        sys.modules.pop(f"{package}.{name}", None)
    grade(aid, release(aid))
    assert f"{package}._reference" in sys.modules  # the helpers were imported from the snapshot
    assert f"{package}.known_wrong" not in sys.modules
