"""Release hygiene: what students receive holds no solutions, no hidden directives, no private imports."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from autograder.engine.assignment import Assignment, is_test_cell, nbgrader_meta, part_of
from autograder.integrations.generate import assignment_ids
from tests.conftest import ROOT

ASSIGNMENTS = assignment_ids(ROOT)


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_release_has_no_solutions_or_directives(aid):
    text = (ROOT / "release" / aid / f"{aid}.ipynb").read_text()
    for banned in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "nngrade:", "MARK SCHEME"):
        assert banned not in text, f"{banned!r} in release/{aid}"
    nb = nbformat.reads(text, as_version=4)
    for cell in nb.cells:
        assert not re.search(r"^\s*(from|import)\s+autograder", cell.source, re.M), "release imports autograder"
        assert not cell.get("outputs"), "release notebooks ship without outputs"


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_source_notebook_structure(aid):
    asg = Assignment.load(ROOT, aid)
    nb = asg.source_nb
    ids = [nbgrader_meta(c).get("grade_id") for c in nb.cells if nbgrader_meta(c).get("grade_id")]
    assert len(ids) == len(set(ids)), "grade ids must be unique"
    for cell in nb.cells:
        if is_test_cell(cell):
            assert part_of(cell.source), f"test cell {nbgrader_meta(cell)['grade_id']} has no directive"
            visible = cell.source.split("### BEGIN HIDDEN TESTS")[0].rstrip()
            assert visible, "each test cell keeps visible sanity checks"
            last = visible.splitlines()[-1]
            assert last.startswith("print("), "a test cell must not end in a bare expression"
        if cell.cell_type == "code":
            assert not re.search(r"^\s*[%!]", cell.source, re.M), "no magics or shell escapes"
    free = [c for c in nb.cells if c.cell_type == "markdown" and nbgrader_meta(c).get("grade")]
    assert free, "each assignment has a manually graded free response"
    assert (asg.suite_dir / "MARKING.md").exists(), "free responses need a mark scheme"


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_solutions_are_release_plus_answers(aid):
    rel = json.loads((ROOT / "release" / aid / f"{aid}.ipynb").read_text())
    key = json.loads((ROOT / "solutions" / aid / f"{aid}.ipynb").read_text())
    assert len(rel["cells"]) == len(key["cells"])
    for r, k in zip(rel["cells"], key["cells"]):
        assert r["metadata"] == k["metadata"]
        if not r["metadata"].get("nbgrader", {}).get("solution"):
            assert r["source"] == k["source"]
