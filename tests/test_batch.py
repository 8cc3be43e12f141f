"""Parallel, warm and Dask grading give exactly the scores of one-at-a-time grading."""

from __future__ import annotations

import csv
import json

import nbformat
import pytest
from click.testing import CliRunner

from autograder.batch import Job, find_submissions, grade_batch
from autograder.cli import main
from autograder.demo import make_course, submit
from autograder.generate import nbgrader
from autograder.mutants import load_mutants
from tests.conftest import ROOT, answer_key, release

pytestmark = pytest.mark.slow
AID = "a1_perceptron"


@pytest.fixture(scope="module")
def jobs():
    key = answer_key(AID)
    mutants = load_mutants(ROOT, AID)[:3]
    out = [Job("key", AID, nbformat.writes(key)), Job("blank", AID, nbformat.writes(release(AID))),
           Job("garbage", AID, "{ nope")]
    out += [Job(f"wrong-{m.name}", AID, nbformat.writes(m.apply(key))) for m in mutants]
    return out


def _outcome(items):
    return {it.job.student: (it.graded.result.score, sorted(it.graded.result.failed_checks())) for it in items}


@pytest.fixture(scope="module")
def serial(jobs, tmp_path_factory, grader_config):
    course = tmp_path_factory.mktemp("serial")
    make_course(ROOT, course, [AID])
    return _outcome(grade_batch(course, grader_config, jobs, workers=1))


def test_serial_scores_are_right(serial):
    assert serial["key"][0] == 21 and serial["blank"][0] == 0 and serial["garbage"][0] == 0
    for m in load_mutants(ROOT, AID)[:3]:
        assert set(serial[f"wrong-{m.name}"][1]) == set(m.fails)


def test_parallel_matches_serial(jobs, serial, tmp_path, grader_config):
    make_course(ROOT, tmp_path, [AID])
    items = grade_batch(tmp_path, grader_config, jobs, workers=2)
    assert _outcome(items) == serial
    assert [it.job for it in items] == jobs  # results come back in job order
    assert len({it.worker for it in items}) == 2  # both processes took work


def test_dask_local_cluster_matches_serial(jobs, serial, tmp_path, grader_config):
    make_course(ROOT, tmp_path, [AID])
    items = grade_batch(tmp_path, grader_config, jobs, workers=2, backend="dask")
    assert _outcome(items) == serial


def test_warm_processes_serve_one_submission_each(tmp_path, grader_config):
    """A submission that leaves state behind (a global, a file in /tmp) cannot reach the next one."""
    make_course(ROOT, tmp_path, [AID])
    key = answer_key(AID)
    poison = nbformat.v4.new_code_cell(
        "import numpy as np, builtins\nopen('/tmp/poison', 'w').write('x')\n"
        "builtins.POISON = 1\nnp.array = None\n")
    bad = nbformat.from_dict(json.loads(nbformat.writes(key)))
    bad.cells.append(poison)
    probe = nbformat.from_dict(json.loads(nbformat.writes(key)))
    probe.cells.insert(2, nbformat.v4.new_code_cell(
        "import os, builtins\nassert not os.path.exists('/tmp/poison') and not hasattr(builtins, 'POISON')"
        "\nassert np.array is not None\ndef step(z):\n    return (np.asarray(z) >= 0).astype(int)"))
    items = grade_batch(tmp_path, grader_config, [Job("bad", AID, nbformat.writes(bad)),
                                                  Job("probe", AID, nbformat.writes(probe))], workers=1)
    assert items[1].graded.result.score == 21
    assert all(r.status == "ok" for r in items[1].graded.cell_runs.values())


def test_grade_batch_command_writes_the_gradebook(tmp_path, grade):
    make_course(ROOT, tmp_path, [AID])
    nbgrader(["generate_assignment", AID, "--force"], tmp_path)
    key = answer_key(AID)
    submit(tmp_path, "alice", AID, nbformat.writes(key))
    mutant = load_mutants(ROOT, AID)[0]
    submit(tmp_path, "bob", AID, nbformat.writes(mutant.apply(key)))
    assert len(find_submissions(tmp_path, AID)) == 2
    result = CliRunner().invoke(main, ["grade-batch", AID, "--jobs", "2", "--quiet", "--course", str(tmp_path)])
    assert result.exit_code == 0, result.output
    nbgrader(["export", "--to", str(tmp_path / "grades.csv")], tmp_path)
    with open(tmp_path / "grades.csv", newline="") as f:
        grades = {row["student_id"]: float(row["raw_score"]) for row in csv.DictReader(f)}
    # bob's score is whatever one-at-a-time grading gives his notebook (it fails exactly the mutant's checks)
    bob = grade(AID, mutant.apply(key))
    assert bob.failed_checks() == set(mutant.fails) and bob.score < 21
    assert grades == {"alice": 21.0, "bob": bob.score}


def test_parallel_workers_after_the_caller_has_used_torch(tmp_path):
    """Workers must not be forked from a process whose torch threads have run (that deadlocks)."""
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f'''
        import torch
        from pathlib import Path
        from autograder.batch import Job, grade_batch
        from autograder.config import load_config
        from autograder.demo import make_course
        if __name__ == "__main__":
            torch.set_num_threads(2)
            torch.ones(256, 256) @ torch.ones(256, 256)
            course = Path({str(tmp_path / "course")!r})
            make_course(Path({str(ROOT)!r}), course, [{AID!r}])
            key = Path({str(ROOT / "solutions" / AID / f"{AID}.ipynb")!r}).read_text()
            jobs = [Job(f"s{{i}}", {AID!r}, key) for i in range(3)]
            items = grade_batch(course, load_config(course), jobs, workers=2)
            print("SCORES", [it.graded.result.score for it in items])
    '''))
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600)
    assert "SCORES [21.0, 21.0, 21.0]" in proc.stdout, proc.stdout + proc.stderr
