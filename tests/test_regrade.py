"""``nngrade regrade``: after a suite or a setting changes, exactly the students whose score moves are
listed (old and new per check), nothing is written without --apply, and --apply keeps the old results."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

import autograder.engine.assignment
import autograder.engine.cache
import autograder.engine.grade
import autograder.integrations.batch
import autograder.integrations.jobs
from autograder.authoring.known_wrong import load_mutants
from autograder.authoring.regrade import REGRADES_DIR, apply_regrade, compare_results, plan_regrade
from autograder.cli.demo import make_course, submit
from autograder.cli.main import main
from autograder.codes import Kind
from autograder.engine.assignment import Assignment
from autograder.engine.cache import RESULTS_DIR, save_result
from autograder.engine.grade import failed_result
from autograder.engine.results import CheckResult, PartResult, SubmissionResult
from autograder.integrations.batch import find_submissions, grade_batch
from autograder.integrations.generate import nbgrader
from tests.conftest import ROOT, answer_key, copy_suites, release, replace_once, with_cell_source

AID = "a1_perceptron"
UPDATE_CHECKS = {"update::test_false_negative", "update::test_false_positive", "update::test_correct_is_noop",
                 "update::test_random_updates"}


def _sloppy_update() -> str:
    """perceptron_update whose b_new is off by 1e-10: wrong at the suite's 1e-12 tolerance, right at 1e-9."""
    key = answer_key(AID)
    cell = next(c for c in key.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                == "perceptron_update")
    assert cell.source.count("    b_new = float(b + lr * error)\n") == 1
    return cell.source.replace("    b_new = float(b + lr * error)\n", "    b_new = float(b + lr * error) + 1e-10\n")


def _snapshot(course: Path) -> dict[str, bytes]:
    """Every file under the course's results and regrades folders, and the gradebook."""
    out = {}
    for folder in (course / RESULTS_DIR, course / REGRADES_DIR):
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            if path.is_file():
                out[str(path.relative_to(course))] = path.read_bytes()
    if (course / "gradebook.db").is_file():
        out["gradebook.db"] = (course / "gradebook.db").read_bytes()
    return out


# --- fast: the comparison ------------------------------------------------------------------

def _res(points: dict[str, tuple[float, float]]) -> SubmissionResult:
    checks = tuple(CheckResult(check_id=k, case="", part="p", title=k, points=p, max_points=m, passed=p == m)
                   for k, (p, m) in points.items())
    return SubmissionResult(AID, "s", (PartResult("p", "test_p", 3.0, checks),), "process", "cpu", 1.0)


def test_compare_lists_only_checks_whose_points_moved():
    old = _res({"p::a": (1, 1), "p::b": (0, 1), "p::c": (1, 1)})
    assert compare_results(old, _res({"p::a": (1, 1), "p::b": (0, 2), "p::c": (1, 1)})) is None  # max only
    change = compare_results(old, _res({"p::a": (3, 3), "p::b": (1, 1), "p::c": (1, 1)}))
    assert change is not None and (change.old_score, change.new_score) == (2, 5)
    assert [(c.check, c.old, c.new, c.old_max, c.new_max) for c in change.checks] == [
        ("p::a", 1, 3, 1, 3), ("p::b", 0, 1, 1, 1)]
    # points moved between checks with the total unchanged: still listed
    moved = compare_results(old, _res({"p::a": (0, 1), "p::b": (1, 1), "p::c": (1, 1)}))
    assert moved is not None and [c.check for c in moved.checks] == ["p::a", "p::b"]
    # a check that is gone counts as 0 points now
    gone = compare_results(old, _res({"p::a": (1, 1), "p::b": (0, 1)}))
    assert gone is not None and [(c.check, c.old, c.new) for c in gone.checks] == [("p::c", 1, None)]
    first = compare_results(None, old)
    assert first is not None and first.old_score is None and first.checks == ()


def test_saved_result_is_the_result_with_its_errors_and_cause(tmp_path, grader_config):
    """The record the reports and regrade read; written whole; a grader failure is not kept."""
    asg = Assignment.load(ROOT, AID)
    graded = failed_result(asg, grader_config, "ann", "not a notebook", Kind.MALFORMED)
    path = save_result(tmp_path, graded)
    assert path == tmp_path / RESULTS_DIR / AID / "ann.json"
    expected = {**graded.result.to_dict(), "internal_errors": [], "cause": "student"}
    assert json.loads(path.read_text()) == json.loads(json.dumps(expected))
    lost = failed_result(asg, grader_config, "bob", "the machine failed", Kind.GRADER_ERROR)
    assert save_result(tmp_path, lost) is None
    assert [p.name for p in path.parent.iterdir()] == ["ann.json"]  # no temporary file, no bob


# --- slow: a class graded, the suite changed (points and a tolerance), regraded ------------------


def _changed_suite(tmp: Path) -> Path:
    """A copy of the suites with step_at_zero worth 3 points (was 1) and update's tolerance 1e-9 (was 1e-12)."""
    suites = copy_suites(tmp, AID)
    replace_once(suites / AID / "test_step.py", '@points(1, hint="The neuron fires at exactly zero',
                 '@points(3, hint="The neuron fires at exactly zero')
    replace_once(suites / AID / "test_update.py", "rtol=1e-12, atol=1e-12", "rtol=1e-9, atol=1e-9", count=2)
    return suites


def _cell_points(course: Path, grade_id: str, old: float, new: float) -> None:
    path = course / "source" / AID / f"{AID}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    cell = next(c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)
    assert cell.metadata.nbgrader.points == old
    cell.metadata.nbgrader.points = new
    nbformat.write(nb, str(path))


def _use_suites(monkeypatch: pytest.MonkeyPatch, suites: Path | None) -> None:
    """Grade in this process from ``suites`` (a copy: the package's own suites are never touched)."""
    monkeypatch.setattr(autograder.integrations.jobs, "_ASSIGNMENTS", {})
    monkeypatch.setattr(autograder.integrations.batch, "verify_suites", lambda snapshot: None)
    monkeypatch.setattr(autograder.engine.grade, "verify_suites", lambda snapshot: None)
    if suites is not None:
        monkeypatch.setattr(autograder.engine.assignment, "SUITES_DIR", suites)
        monkeypatch.setattr(autograder.engine.cache, "SUITES_DIR", suites)


@pytest.mark.slow
def test_suite_change_lists_exactly_who_moves(tmp_path, grader_config, monkeypatch):
    course = tmp_path / "course"
    make_course(ROOT, course, [AID])
    key = answer_key(AID)
    strict = next(m for m in load_mutants(AID) if m.name == "step_strict")
    submit(course, "key", AID, nbformat.writes(key))
    submit(course, "strict", AID, nbformat.writes(strict.apply(key)))
    submit(course, "sloppy", AID, nbformat.writes(with_cell_source(key, "perceptron_update", _sloppy_update())))
    submit(course, "blank", AID, nbformat.writes(release(AID)))
    # the class as it was graded: results saved as nbgrader autograde saves them
    with monkeypatch.context() as m:
        _use_suites(m, None)
        for item in grade_batch(course, grader_config, find_submissions(course, AID)):
            save_result(course, item.graded)
    before = {s: json.loads((course / RESULTS_DIR / AID / f"{s}.json").read_text())
              for s in ("key", "strict", "sloppy", "blank")}
    sloppy_failed = {c["check_id"] for p in before["sloppy"]["parts"] for c in p["checks"] if not c["passed"]}
    assert sloppy_failed >= UPDATE_CHECKS  # failed at 1e-12
    assert "step::test_step_at_zero" in {c["check_id"] for p in before["strict"]["parts"] for c in p["checks"]
                                         if not c["passed"]}
    untouched = _snapshot(course)

    _use_suites(monkeypatch, _changed_suite(tmp_path))
    _cell_points(course, "test_step", 5, 7)  # the instructor moves the cell's points with the check's
    plan = plan_regrade(course, AID, grader_config)
    listed = {c.student: {ch.check for ch in c.checks} for c in plan.changes}
    # key: step_at_zero is worth 3 now; sloppy: that, and the four update checks at the looser tolerance;
    # strict fails step_at_zero (its maximum changed, its score did not); blank earns nothing either way
    assert listed == {"key": {"step::test_step_at_zero"},
                      "sloppy": {"step::test_step_at_zero"} | UPDATE_CHECKS}
    key_change = next(c for c in plan.changes if c.student == "key")
    step_change = key_change.checks[0]
    assert (step_change.old, step_change.new, step_change.old_max, step_change.new_max) == (1, 3, 1, 3)
    assert key_change.new_score == key_change.old_score + 2
    sloppy = next(c for c in plan.changes if c.student == "sloppy")
    assert all(ch.old == 0 and ch.new and ch.new > 0 for ch in sloppy.checks if ch.check in UPDATE_CHECKS)
    assert plan.failed == [] and plan.unchanged == 2
    assert plan.max_changes == (before["key"]["max_score"], before["key"]["max_score"] + 2)
    assert _snapshot(course) == untouched  # nothing written without --apply

    folder = apply_regrade(course, plan, grader_config, gradebook=False)
    assert folder.parent == course / REGRADES_DIR / AID
    for student in ("key", "strict", "sloppy", "blank"):
        kept = json.loads((folder / "before" / f"{student}.json").read_text())
        assert kept == before[student]  # the old results, beside the new ones
        now = json.loads((course / RESULTS_DIR / AID / f"{student}.json").read_text())
        assert now == json.loads((folder / "after" / f"{student}.json").read_text())
    assert json.loads((course / RESULTS_DIR / AID / "key.json").read_text())["score"] == before["key"]["score"] + 2
    record = json.loads((folder / "changes.json").read_text())
    assert {c["student"] for c in record["changes"]} == {"key", "sloppy"} and record["unchanged"] == 2


@pytest.mark.slow
def test_setting_change_through_the_command_and_the_gradebook(tmp_path):
    """A cell timeout lowered in [tool.nngrade]: the slow student loses train_perceptron, the rest stay."""
    course = tmp_path
    make_course(ROOT, course, [AID])
    nbgrader(["generate_assignment", AID, "--force"], course)
    key = answer_key(AID)
    train = next(c for c in key.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                 == "train_perceptron")
    slow = with_cell_source(key, "train_perceptron", "import time\ntime.sleep(6)\n" + train.source)
    submit(course, "key", AID, nbformat.writes(key))
    submit(course, "slow", AID, nbformat.writes(slow))
    run = CliRunner(env={"COLUMNS": "160"})
    graded = run.invoke(main, ["grade-batch", AID, "--quiet", "--course", str(course)])
    assert graded.exit_code == 0, graded.output
    untouched = _snapshot(course)
    old_slow = json.loads((course / RESULTS_DIR / AID / "slow.json").read_text())
    assert old_slow["score"] == old_slow["max_score"]

    pyproject = course / "pyproject.toml"
    text = pyproject.read_text()
    assert text.count("cell_timeout = 60") == 1
    pyproject.write_text(text.replace("cell_timeout = 60", "cell_timeout = 3"))
    dry = run.invoke(main, ["regrade", AID, "--quiet", "--course", str(course)])
    assert dry.exit_code == 0, dry.output
    assert "1 changed, 1 unchanged" in dry.output and "slow" in dry.output
    assert "train::test_early_stop" in dry.output and "nothing was written" in dry.output
    assert _snapshot(course) == untouched

    applied = run.invoke(main, ["regrade", AID, "--apply", "--quiet", "--course", str(course)])
    assert applied.exit_code == 0, applied.output
    assert "gradebook: nbgrader autograde recorded the regraded scores" in applied.output
    new_slow = json.loads((course / RESULTS_DIR / AID / "slow.json").read_text())
    assert new_slow["score"] < old_slow["score"]
    kept = list((course / REGRADES_DIR / AID).glob("*/before/slow.json"))
    assert len(kept) == 1 and json.loads(kept[0].read_text()) == old_slow
    assert (kept[0].parent / "gradebook.db").is_file()
    nbgrader(["export", "--to", str(course / "grades.csv")], course)
    with open(course / "grades.csv", newline="") as f:
        grades = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(f)}
    assert grades == {"key": old_slow["max_score"], "slow": new_slow["score"]}
