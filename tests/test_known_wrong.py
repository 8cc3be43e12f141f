"""Every answer key gets full marks, every release zero, every known-wrong submission fails exactly its checks."""

from __future__ import annotations

import pytest

from autograder.generate import assignment_ids
from autograder.mutants import load_mutants
from tests.conftest import ROOT, answer_key, release

pytestmark = pytest.mark.slow
ASSIGNMENTS = assignment_ids(ROOT)
CASES = [pytest.param(aid, m, id=f"{aid}-{m.name}") for aid in ASSIGNMENTS for m in load_mutants(ROOT, aid)]


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_answer_key_full_marks(grade, aid):
    result = grade(aid, answer_key(aid))
    assert result.failed_checks() == set()
    assert result.score == result.max_score > 0


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_untouched_release_scores_zero(grade, aid):
    result = grade(aid, release(aid))
    assert result.score == 0
    assert all(c.kind in ("student_error", "failed", "missing") for p in result.parts for c in p.checks)


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_enough_known_wrong_submissions(aid):
    assert len(load_mutants(ROOT, aid)) >= 6


@pytest.mark.parametrize("aid,mutant", CASES)
def test_known_wrong_fails_exactly_its_checks(grade, aid, mutant):
    result = grade(aid, mutant.apply(answer_key(aid)))
    assert result.failed_checks() == set(mutant.fails), mutant.description
    assert 0 < result.score < result.max_score
