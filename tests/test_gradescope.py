"""The Gradescope autograder zip, unpacked and run the way Gradescope runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from autograder.authoring.known_wrong import load_mutants
from autograder.cli.main import main
from autograder.integrations.gradescope import ROOT_ENV, build_zip
from tests.conftest import ROOT, answer_key

AID = "a1_perceptron"
KEY_POINTS = 21  # every autograded point of a1 (the free response is graded by a person)


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_zip(ROOT, AID, tmp_path_factory.mktemp("zip") / "autograder.zip")


def run_gradescope(zip_path: Path, root: Path, submission: dict[str, str | bytes]) -> tuple[dict, str]:
    """Lay out ``root`` like Gradescope (source = the unpacked zip), run run_autograder, read results.json.

    The current venv's python and nngrade stand in for what setup.sh would install.
    """
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")  # as Gradescope does
    (root / "submission").mkdir()
    for name, content in submission.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    env = dict(os.environ, **{ROOT_ENV: str(root)})
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    proc = subprocess.run(["bash", str(root / "run_autograder")], cwd=root, env=env, text=True,
                          capture_output=True, timeout=600, check=False)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    results = root / "results" / "results.json"
    assert results.exists(), log
    return json.loads(results.read_text()), log


def _check_schema(results: dict) -> None:
    assert isinstance(results["score"], (int, float))
    for test in results["tests"]:
        assert set(test) >= {"name", "score", "max_score", "output", "visibility"}
        assert test["visibility"] == "visible"
        assert 0 <= test["score"] <= test["max_score"]


def test_zip_layout(autograder_zip: Path) -> None:
    with zipfile.ZipFile(autograder_zip) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        setup = zf.read("setup.sh").decode()
        requirements = zf.read("requirements.txt").decode()
    assert {"setup.sh", "run_autograder", "requirements.txt", "pyproject.toml", "nbgrader_config.py",
            f"source/{AID}/{AID}.ipynb", "autograder/cli/main.py", "autograder/sandbox/runtime/worker.py",
            f"autograder/suites/{AID}/test_step.py"} <= names
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    # only this assignment's hidden suite travels
    assert not [n for n in names if n.startswith("autograder/suites/") and n.count("/") > 2
                and not n.startswith(f"autograder/suites/{AID}/")]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith("solutions/")]
    # the CPU wheel of torch before the course package, and a word about the network
    order = [setup.index(s) for s in ("download.pytorch.org/whl/cpu", "requirements.txt", '"$SOURCE"')]
    assert order == sorted(order)
    assert "network" in setup
    assert "torch" in requirements and "nbgrader" in requirements


def test_scripts_are_valid_bash(autograder_zip: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(autograder_zip) as zf:
        zf.extractall(tmp_path)
    for name in ("setup.sh", "run_autograder"):
        proc = subprocess.run(["bash", "-n", str(tmp_path / name)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr


def test_zip_is_reproducible(autograder_zip: Path, tmp_path: Path) -> None:
    assert build_zip(ROOT, AID, tmp_path / "again.zip").read_bytes() == autograder_zip.read_bytes()


def test_cli_builds_the_zip(tmp_path: Path) -> None:
    out = tmp_path / "gs.zip"
    result = CliRunner().invoke(main, ["gradescope", AID, "--out", str(out), "--course", str(ROOT)])
    assert result.exit_code == 0, result.output
    assert "autograded points: 21" in result.output
    assert zipfile.is_zipfile(out)


def test_cli_unknown_assignment_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["gradescope", "a9_nothing", "--out", str(tmp_path / "x.zip"),
                                       "--course", str(ROOT)])
    assert result.exit_code == 2
    assert result.output.startswith("error: no assignment 'a9_nothing'")
    assert "Traceback" not in result.output and not (tmp_path / "x.zip").exists()


@pytest.mark.slow
def test_answer_key_scores_full(autograder_zip: Path, tmp_path: Path) -> None:
    key = nbformat.writes(answer_key(AID))
    results, log = run_gradescope(autograder_zip, tmp_path, {f"{AID}.ipynb": key})
    _check_schema(results)
    assert results["score"] == KEY_POINTS == sum(t["max_score"] for t in results["tests"])
    assert all(t["score"] == t["max_score"] and t["output"] == "" for t in results["tests"])
    assert f"with {tmp_path / 'source' / 'autograder'}" in log  # graded by the package in the zip


@pytest.mark.slow
def test_known_wrong_fails_exactly_its_checks(autograder_zip: Path, tmp_path: Path) -> None:
    mutant = next(m for m in load_mutants(AID) if m.name == "step_strict")
    wrong = nbformat.writes(mutant.apply(answer_key(AID)))
    # a differently named notebook inside a folder is still found
    results, _ = run_gradescope(autograder_zip, tmp_path, {f"work/my_{AID}.ipynb": wrong})
    _check_schema(results)
    failed = [t for t in results["tests"] if t["score"] < t["max_score"]]
    assert {tag for t in failed for tag in t["tags"]} == set(mutant.fails)
    assert all(t["score"] == 0 for t in failed)
    for t in failed:  # the student-facing message and hint, never the suite's code
        assert t["output"].strip() and "Hint:" in t["output"]
        assert "def test_" not in t["output"] and "Traceback" not in t["output"]
    assert results["score"] == KEY_POINTS - sum(t["max_score"] for t in failed)
    assert sum(t["max_score"] for t in results["tests"]) == KEY_POINTS


def test_no_notebook_scores_zero_with_a_message(autograder_zip: Path, tmp_path: Path) -> None:
    results, _ = run_gradescope(autograder_zip, tmp_path, {"report.pdf": b"%PDF-1.4 not a notebook"})
    assert results["score"] == 0 and results["tests"] == []
    assert "No notebook in your submission" in results["output"]
    assert "report.pdf" in results["output"] and f"{AID}.ipynb" in results["output"]


def test_empty_submission_scores_zero_with_a_message(autograder_zip: Path, tmp_path: Path) -> None:
    results, _ = run_gradescope(autograder_zip, tmp_path, {})
    assert results["score"] == 0
    assert results["output"].startswith("No notebook in your submission.")


def test_several_notebooks_without_the_right_name(autograder_zip: Path, tmp_path: Path) -> None:
    results, _ = run_gradescope(autograder_zip, tmp_path, {"a.ipynb": "{}", "b.ipynb": "{}"})
    assert results["score"] == 0
    assert "2 notebooks" in results["output"] and f"Upload only {AID}.ipynb" in results["output"]


def test_notebook_that_is_not_json_scores_zero(autograder_zip: Path, tmp_path: Path) -> None:
    results, _ = run_gradescope(autograder_zip, tmp_path, {f"{AID}.ipynb": "{ not json"})
    _check_schema(results)
    assert results["score"] == 0
    assert "not valid notebook JSON" in results["output"]


def test_grader_failure_scores_zero_not_a_crash(autograder_zip: Path, tmp_path: Path) -> None:
    """A broken course package (here: no suites) still yields a results.json that says so."""
    with zipfile.ZipFile(autograder_zip) as zf:
        zf.extractall(tmp_path / "broken")
    shutil.rmtree(tmp_path / "broken" / "autograder" / "suites" / AID)
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as zf:
        for path in sorted((tmp_path / "broken").rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(tmp_path / "broken").as_posix())
    root = tmp_path / "gs"
    root.mkdir()
    results, log = run_gradescope(broken, root, {f"{AID}.ipynb": nbformat.writes(answer_key(AID))})
    assert results["score"] == 0
    assert "could not grade this submission" in results["output"]
    assert "error:" in log  # the grader's one-line reason, for the instructor's log
