"""The nbgrader process's shortcuts (issue 18) decide nothing differently from nbgrader itself.

``MetadataCheck`` validates nbgrader cell metadata with the schema checked once per process;
it must accept and reject exactly what nbgrader's own ``MetadataValidator`` does, with the same
error. ``per_run`` keeps a value for one nbgrader run only. A run over a class whose results are
all stored starts no grading process, and one notebook without a result is still graded.
"""

from __future__ import annotations

import copy
import csv
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import nbformat
import pytest
from nbformat.notebooknode import NotebookNode
from nbgrader.nbgraderformat import MetadataValidator

from autograder.authoring.known_wrong import load_mutants
from autograder.cli.demo import make_course, submit
from autograder.integrations.generate import answer_key, nbgrader
from autograder.integrations.nbgrader_run import per_run
from autograder.integrations.nbgrader_sanitize import metadata_check, sanitize

ROOT = Path(__file__).resolve().parents[1]
A1 = ROOT / "source" / "a1_perceptron" / "a1_perceptron.ipynb"

Change = Callable[[dict[str, Any]], None]


def _grade_without_points(meta: dict[str, Any]) -> None:
    meta["grade"] = True
    meta.pop("points", None)


CHANGES: dict[str, Change] = {
    "untouched": lambda m: None,
    "points not a number": lambda m: m.update(points="x"),
    "no grade id": lambda m: m.pop("grade_id", None),
    "empty grade id": lambda m: m.update(grade_id=""),
    "schema too old": lambda m: m.update(schema_version=2),
    "schema too new": lambda m: m.update(schema_version=4),
    "no schema version": lambda m: m.pop("schema_version"),
    "grade not a bool": lambda m: m.update(grade=1),
    "unknown key": lambda m: m.update(extra=3),
    "solution null": lambda m: m.update(solution=None),
    "no locked": lambda m: m.pop("locked"),
    "marked a task": lambda m: m.update(task=True),  # wrong on a code cell, fine on a markdown one
    "grade without points": _grade_without_points,
}


def _outcome(validate: Callable[[NotebookNode], None], cell: NotebookNode) -> tuple[str, str] | None:
    try:
        validate(cell)
    except Exception as exc:
        return type(exc).__name__, str(exc)
    return None


def _variants() -> list[tuple[str, NotebookNode]]:
    nb = nbformat.read(str(A1), as_version=4)
    cells = [c for c in nb.cells if "nbgrader" in c.metadata]
    kinds = {(c.cell_type, bool(c.metadata.nbgrader.get("grade")), bool(c.metadata.nbgrader.get("solution")))
             for c in cells}
    picked = [next(c for c in cells if (c.cell_type, bool(c.metadata.nbgrader.get("grade")),
                                        bool(c.metadata.nbgrader.get("solution"))) == k) for k in sorted(kinds)]
    out = []
    for cell in picked:
        for name, change in CHANGES.items():
            changed = copy.deepcopy(cell)
            change(changed.metadata.nbgrader)
            out.append((f"{cell.metadata.nbgrader.get('grade_id')}: {name}", changed))
    return out


@pytest.mark.parametrize("label,cell", _variants(), ids=lambda v: v if isinstance(v, str) else "")
def test_metadata_check_decides_as_nbgrader_does(label: str, cell: NotebookNode) -> None:
    expected = _outcome(MetadataValidator().validate_cell, cell)
    assert _outcome(metadata_check().validate_cell, cell) == expected, label
    valid = label.endswith(": untouched") or (label.endswith(": marked a task") and cell.cell_type == "markdown")
    assert (expected is None) == valid, f"{label}: {expected}"  # every other change is known wrong


def test_metadata_check_rejects_a_forged_cell_and_sanitize_notes_it() -> None:
    nb = nbformat.read(str(A1), as_version=4)
    index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade"))
    nb.cells[index].metadata.nbgrader["points"] = "all of them"  # known wrong: not a number
    with pytest.raises(Exception) as nbgrader_error:
        MetadataValidator().validate_nb(nb)
    with pytest.raises(Exception) as ours:
        metadata_check().validate_nb(copy.deepcopy(nb))
    assert (type(ours.value), str(ours.value)) == (type(nbgrader_error.value), str(nbgrader_error.value))
    notes = sanitize(nb, None)
    assert len(notes) == 1 and f"cell {index}: invalid nbgrader metadata" in notes[0].text
    assert "nbgrader" not in nb.cells[index].metadata
    metadata_check().validate_nb(nb)  # what is left validates


def test_per_run_keeps_a_value_for_one_converter_only() -> None:
    calls: list[int] = []

    def make() -> int:
        calls.append(1)
        return len(calls)

    class Converter:  # what nbgrader's Autograde has that converter_of looks for
        assignments: dict[str, list[str]] = {}
        coursedir = None
        force = True

    run1, run2 = Converter(), Converter()
    pre1 = SimpleNamespace(parent=SimpleNamespace(parent=run1))
    pre2 = SimpleNamespace(parent=SimpleNamespace(parent=run2))
    assert per_run(pre1, "k", make) == 1 and per_run(pre1, "k", make) == 1
    assert per_run(pre1, "other", make) == 2
    assert per_run(pre2, "k", make) == 3  # another run reads again
    outside = SimpleNamespace(parent=None)
    assert per_run(outside, "k", make) == 4 and per_run(outside, "k", make) == 5  # no run: never kept

    def fails() -> int:
        raise RuntimeError("no gradebook")

    with pytest.raises(RuntimeError):
        per_run(pre1, "f", fails)
    assert per_run(pre1, "f", make) == 6  # a failure is not kept


def _autograde(course: Path, *args: str) -> str:
    proc = subprocess.run(["nbgrader", "autograde", "a1_perceptron", "--create", "--force", *args], cwd=course,
                          capture_output=True, text=True, timeout=1200, check=False,
                          env=dict(os.environ, NNGRADE_JOBS="2"))
    return proc.stdout + proc.stderr


def _grades(course: Path) -> dict[str, float]:
    nbgrader(["export", "--to", str(course / "grades.csv")], course)
    with open(course / "grades.csv", newline="") as f:
        return {row["student_id"]: float(row["raw_score"] or 0) for row in csv.DictReader(f)}


def _early_zygote(log: str) -> float:
    found = re.search(r"zygote ([0-9.]+) s \(early\)", log)
    assert found, log
    return float(found.group(1))


@pytest.mark.slow
def test_a_run_over_stored_results_starts_no_process_and_a_missing_one_is_graded(tmp_path: Path) -> None:
    aid = "a1_perceptron"
    make_course(ROOT, tmp_path, [aid])
    nbgrader(["generate_assignment", aid, "--force"], tmp_path)
    release = nbformat.read(str(tmp_path / "release" / aid / f"{aid}.ipynb"), as_version=4)
    key = answer_key(release, nbformat.read(str(A1), as_version=4))
    wrong = load_mutants(aid)[0]
    for i in range(5):  # 5 notebooks: worth one extra process (MIN_PER_PROCESS = 4)
        nb = wrong.apply(key) if i == 4 else copy.deepcopy(key)
        nb.cells.append(nbformat.v4.new_code_cell(f"# {i}"))  # every notebook its own cache key
        submit(tmp_path, f"s{i}", aid, nbformat.writes(nb))
    log = _autograde(tmp_path)
    assert "5 notebook(s) to autograde, 0 from the cache, 2 grading process" in log, log
    first = _grades(tmp_path)
    assert [first[f"s{i}"] for i in range(4)] == [21.0] * 4 and first["s4"] < 21  # s4 is known wrong

    log = _autograde(tmp_path)  # every result stored: no zygote, no extra process
    assert "5 notebook(s) to autograde, 5 from the cache, 1 grading process" in log, log
    assert _early_zygote(log) == 0.0
    assert _grades(tmp_path) == first

    stored = sorted((tmp_path / ".nngrade" / "cache" / aid).glob("*.json"))
    assert len(stored) == 5
    wrong_result = next(p for p in stored if '"student": "s4"' in p.read_text())
    wrong_result.unlink()  # the known-wrong submission has no result now: graded again, still wrong
    log = _autograde(tmp_path)
    assert "5 notebook(s) to autograde, 4 from the cache" in log, log
    assert _early_zygote(log) > 0.0
    assert _grades(tmp_path) == first
