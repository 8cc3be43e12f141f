"""Similar solution code: a disguised copy ranks first, independent solutions stay below the threshold."""

from __future__ import annotations

import copy
import csv
import json
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.engine.cache import RESULTS_DIR
from autograder.engine.results import CheckResult, PartResult, SubmissionResult
from autograder.reports.class_report import collect, write_report
from autograder.reports.similarity import THRESHOLD, compare, solution_code
from tests.conftest import ROOT, answer_key, release, with_extra_cell
from tests.similar_a1 import COPIER, INDEPENDENT, ORIGINAL, notebook

AID = "a1_perceptron"
# starter code a release could give every student (data loading and plotting helpers)
STARTER_HELPERS = """
def load_data(path):
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.strip().split(",")
            rows.append([float(p) for p in parts[:-1]] + [int(parts[-1])])
    data = np.array(rows)
    return data[:, :-1], data[:, -1].astype(int)


def plot_boundary(ax, w, b, X, y):
    grid = np.linspace(X[:, 0].min() - 0.5, X[:, 0].max() + 0.5, 100)
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="black")
    if abs(w[1]) > 1e-12:
        ax.plot(grid, -(w[0] * grid + b) / w[1], "k--")
    ax.set(xlabel="x1", ylabel="x2")
    return ax


def accuracy(y_true, y_pred):
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    return float(np.mean(y_true == y_pred)) if len(y_true) else 0.0


"""


def _class() -> dict[str, str]:
    rel = release(AID)
    codes = {name: solution_code(notebook(rel, sol)) for name, sol in INDEPENDENT.items()}
    codes["original"] = solution_code(notebook(rel, ORIGINAL))
    codes["copier"] = solution_code(notebook(rel, COPIER))
    codes["key"] = solution_code(answer_key(AID))
    return codes


def test_the_disguised_copy_is_first_and_only_it_is_flagged():
    report = compare(_class(), solution_code(release(AID)))
    top = report.pairs[0]
    assert {top.first, top.second} == {"original", "copier"}
    assert top.flagged and top.score >= THRESHOLD
    assert [(p.first, p.second) for p in report.flagged] == [(top.first, top.second)]
    independent = [p for p in report.pairs if {p.first, p.second} != {"original", "copier"}]
    assert len(independent) == 20  # 7 submissions: 21 pairs
    assert max(p.score for p in independent) < THRESHOLD
    # the copied code is marked on both sides: most of each
    for code, spans in ((top.first_code, top.first_spans), (top.second_code, top.second_spans)):
        assert sum(end - start for start, end in spans) > 0.5 * len(code)


def test_starter_code_is_not_similarity():
    starter = solution_code(release(AID))
    blank = {"blank1": starter, "blank2": starter, "key": solution_code(answer_key(AID))}
    report = compare(blank, starter)
    assert [s for s, _ in report.skipped] == ["blank1", "blank2"] and report.pairs == ()
    # two submissions that share only long starter code: flagged if it counted, not flagged when excluded
    codes = _class()
    pair = {"a": STARTER_HELPERS + codes["vectorised"], "b": STARTER_HELPERS + codes["loops"]}
    assert compare(pair, "").pairs[0].flagged
    excluded = compare(pair, starter + STARTER_HELPERS).pairs[0]
    assert not excluded.flagged
    assert excluded.score < compare(pair, "").pairs[0].score


def test_solution_code_takes_the_students_cells_only():
    key = with_extra_cell(answer_key(AID), "%%time\ndef my_helper(v):\n    return v + 1\n")
    code = solution_code(key)
    assert "def step(z)" in code and "def train_perceptron" in code and "def my_helper" in code
    assert "import matplotlib" not in code  # a locked cell
    assert "Visible checks passed" not in code  # test cells
    assert "%%time" not in code  # IPython turned into Python


# --- the class report ----------------------------------------------------------------------

def _result(student: str) -> SubmissionResult:
    check = CheckResult(check_id="step::test_x", case="", part="step", title="t", points=1.0, max_points=1.0,
                        passed=True)
    return SubmissionResult(AID, student, (PartResult("step", "test_step", 1.0, (check,)),), "process", "cpu", 1.0)


def test_class_report_lists_and_shows_the_pair(tmp_path: Path):
    (tmp_path / "release" / AID).mkdir(parents=True)
    shutil.copy(ROOT / "release" / AID / f"{AID}.ipynb", tmp_path / "release" / AID)
    rel = release(AID)
    subs = {name: notebook(rel, sol) for name, sol in INDEPENDENT.items()}
    subs["original"], subs["copier"] = notebook(rel, ORIGINAL), notebook(rel, COPIER)
    subs["untouched"] = copy.deepcopy(rel)
    for student, nb in subs.items():
        folder = tmp_path / "submitted" / student / AID
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / f"{AID}.ipynb"))
        results = tmp_path / RESULTS_DIR / AID
        results.mkdir(parents=True, exist_ok=True)
        (results / f"{student}.json").write_text(json.dumps(_result(student).to_dict()))
    report = collect(tmp_path, AID)
    assert report.similarity is not None
    assert [(p.first, p.second) for p in report.similarity.flagged] == [("copier", "original")]
    assert [s for s, _ in report.similarity.skipped] == ["untouched"]
    html_path, _ = write_report(report, tmp_path / "out")
    html = html_path.read_text()
    assert "Similar solution code" in html and "1 flagged" in html
    assert 'class="pair"' in html and html.count("<mark>") >= 2
    assert "def one_pass(data, labels, weights, bias, rate):" in html  # the copier's code, side by side
    with open(tmp_path / "out" / f"{AID}_similarity.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert (rows[0]["first"], rows[0]["second"], rows[0]["flagged"]) == ("copier", "original", "yes")
    assert [r["flagged"] for r in rows[1:]] == ["no"] * (len(rows) - 1)


@pytest.mark.slow
def test_the_hand_written_solutions_are_correct(grade):
    """The independent solutions are genuinely correct: each gets full marks (so "not flagged" means something)."""
    rel = release(AID)
    for name, sol in dict(INDEPENDENT, original=ORIGINAL, copier=COPIER).items():
        result = grade(AID, notebook(rel, sol))
        assert result.score == result.max_score, (name, sorted(result.failed_checks()))
