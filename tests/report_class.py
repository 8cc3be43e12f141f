"""A small a1_perceptron class with known outcomes, graded by real nbgrader (report tests, docs screenshots).

Each submission's failing checks are written out here, not read back from the grader:
the answer key, the untouched release, three known-wrong submissions from
``autograder/suites/a1_perceptron/known_wrong.py``, a ``predict`` that never returns, a notebook
that renamed ``predict`` and deleted a graded cell, and a file that is not a notebook.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

from autograder.authoring.known_wrong import Mutant, load_mutants
from autograder.cli.demo import MALFORMED, make_course, submit
from autograder.integrations.generate import answer_key, nbgrader

AID = "a1_perceptron"
CALL_TIMEOUT = 2  # seconds a hidden check may wait on the student's code; keeps the endless loop short
MUTANTS = ("step_strict", "update_in_place", "no_early_stop")
PREDICT = {"predict::test_predict_matches_reference", "predict::test_predict_on_boundary"}
LOOP = Mutant("loop", "predict never returns", fails=PREDICT,
              replace={"predict": "def predict(X, w, b):\n    while True:\n        pass\n"})
RENAMED = Mutant("tampered", "predict renamed to predict_batch", fails=PREDICT,
                 patch=[("def predict(X, w, b):", "def predict_batch(X, w, b):")])
DELETED_CELL = "test_update"  # the tampered notebook also lost this graded cell (its part scores 0)

# the submissions that need a person, and the flag categories each must carry
FLAGGED = {"loop": {"timed out"}, "tampered": {"missing function", "tampered"}, "malformed": {"malformed"}}


def expected_failures(all_checks: set[str]) -> dict[str, set[str]]:
    """Student -> the check ids that must fail (``part::*``: a whole part that was not run)."""
    table = {m.name: set(m.fails) for m in load_mutants(AID) if m.name in MUTANTS}
    return {"key": set(), "untouched": set(all_checks), **table, "loop": set(LOOP.fails),
            "tampered": set(RENAMED.fails) | {"update::*"}}


def build_graded_class(repo_root: Path, course: Path, feedback: bool = True) -> Path:
    """Make a course copy in ``course``, submit the class, run nbgrader autograde (and generate_feedback)."""
    make_course(repo_root, course, [AID])
    pyproject = course / "pyproject.toml"
    text, count = re.subn(r"(?m)^call_timeout\s*=.*$", f"call_timeout = {CALL_TIMEOUT}",
                          pyproject.read_text())
    if count != 1:
        raise RuntimeError(f"no call_timeout line in {pyproject}")
    pyproject.write_text(text)
    nbgrader(["generate_assignment", AID, "--force", "--log-level=WARN"], course)
    name = f"{AID}.ipynb"
    release = nbformat.read(str(course / "release" / AID / name), as_version=4)
    key = answer_key(release, nbformat.read(str(course / "source" / AID / name), as_version=4))
    submit(course, "key", AID, nbformat.writes(key))
    submit(course, "untouched", AID, nbformat.writes(release))
    for mutant in load_mutants(AID):
        if mutant.name in MUTANTS:
            submit(course, mutant.name, AID, nbformat.writes(mutant.apply(key)))
    submit(course, "loop", AID, nbformat.writes(LOOP.apply(key)))
    tampered = RENAMED.apply(key)
    tampered.cells = [c for c in tampered.cells
                      if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != DELETED_CELL]
    submit(course, "tampered", AID, nbformat.writes(tampered))
    submit(course, "malformed", AID, MALFORMED)
    # nbgrader exits non-zero because of the malformed notebook; the others are graded
    nbgrader(["autograde", AID, "--force", "--create", "--log-level=WARN"], course, timeout=1800, check=False)
    if feedback:
        nbgrader(["generate_feedback", AID, "--force", "--log-level=WARN"], course)
    return course
