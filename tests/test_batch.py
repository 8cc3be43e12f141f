"""Parallel, warm and Dask grading give exactly the scores of one-at-a-time grading."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import subprocess
import time

import nbformat
import pytest
from click.testing import CliRunner

from autograder.authoring.known_wrong import load_mutants
from autograder.cli.demo import make_course, submit
from autograder.cli.main import main
from autograder.engine.cache import cache_key
from autograder.integrations import jobs as grading_jobs
from autograder.integrations.batch import Job, LocalRun, find_submissions, grade_batch, workers_for
from autograder.integrations.generate import nbgrader
from tests.conftest import ROOT, answer_key, release

AID = "a1_perceptron"


@pytest.fixture(scope="module")
def jobs():
    key = answer_key(AID)
    mutants = load_mutants(AID)[:3]
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


@pytest.mark.slow
def test_serial_scores_are_right(serial):
    assert serial["key"][0] == 21 and serial["blank"][0] == 0 and serial["garbage"][0] == 0
    for m in load_mutants(AID)[:3]:
        assert set(serial[f"wrong-{m.name}"][1]) == set(m.fails)


@pytest.mark.slow
def test_parallel_matches_serial(jobs, serial, tmp_path, grader_config):
    make_course(ROOT, tmp_path, [AID])
    items = grade_batch(tmp_path, grader_config, jobs, workers=2)
    assert _outcome(items) == serial
    assert [it.job for it in items] == jobs  # results come back in job order


@pytest.mark.slow
def test_a_warm_extra_process_takes_work_from_the_back(jobs, serial, tmp_path, grader_config):
    """The caller grades from the front; an extra process, once warm, from the back."""
    make_course(ROOT, tmp_path, [AID])
    run = LocalRun(tmp_path, grader_config, 2, ("numpy",))
    run.start()
    try:
        deadline = time.time() + 300
        while not run.ready_at and time.time() < deadline:
            time.sleep(0.1)
        assert run.ready_at, "the extra grading process never became ready"
        items = run.run(jobs)
    finally:
        run.close()
    assert _outcome(items) == serial
    workers = [it.worker for it in items]
    assert len(set(workers)) == 2 and workers[0] != workers[-1]  # front here, back there
    assert workers[0].endswith(f":{os.getpid()}")


@pytest.mark.slow
def test_in_order_the_extra_process_works_just_ahead_and_the_caller_never_idles(jobs, serial, tmp_path,
                                                                                   grader_config):
    """nbgrader's way (``claim`` in order): an extra process takes work from the front, and a caller
    whose next notebook is in flight grades one nobody has started instead of waiting."""
    make_course(ROOT, tmp_path, [AID])
    run = LocalRun(tmp_path, grader_config, 2, ("numpy",))
    run.start()
    finished: list[tuple[int, str]] = []
    here = f":{os.getpid()}"
    try:
        deadline = time.time() + 300
        while not run.ready_at and time.time() < deadline:
            time.sleep(0.1)
        assert run.ready_at, "the extra grading process never became ready"
        run.submit(jobs, on_done=lambda it: finished.append((jobs.index(it.job), it.worker)), in_order=True)
        items, taken = [], []
        for i, job in enumerate(jobs):  # as nbgrader does: one after the other, each before the next
            item = run.claim(i)
            if item is None:  # nobody had started it: graded right here, as GradeInSandbox would
                taken.append(i)
                item = grading_jobs.item_of(job, grading_jobs.grade_job(str(tmp_path), grader_config, job))
            items.append(item)
    finally:
        run.close()
    assert _outcome(items) == serial
    extra = [i for i, worker in finished if not worker.endswith(here)]
    stolen = [i for i, worker in finished if worker.endswith(here)]
    assert extra and extra[0] < len(jobs) // 2, finished  # from the front (not the back, as run() does)
    assert extra == sorted(extra)
    # graded here while waiting for one in flight, then handed over by claim() when nbgrader got to it
    assert stolen and not set(stolen) & set(taken), (finished, taken)
    assert all(items[i].worker.endswith(here) for i in stolen)


@pytest.mark.slow
def test_a_cache_key_is_taken_once(tmp_path, grader_config, monkeypatch):
    """A key the caller took before grading (nbgrader's prefetch) is not taken again after it."""
    make_course(ROOT, tmp_path, [AID])
    taken = []
    monkeypatch.setattr(grading_jobs, "cache_key", lambda *a: taken.append(1) or cache_key(*a))
    job = Job("key", AID, nbformat.writes(answer_key(AID)))
    key = grading_jobs.job_key(tmp_path, grader_config, job)
    item = grading_jobs.item_of(job, grading_jobs.grade_job(str(tmp_path), grader_config, job, key))
    assert len(taken) == 1 and item.key == key and item.graded.result.score == 21
    fresh = grading_jobs.item_of(job, grading_jobs.grade_job(str(tmp_path), grader_config, job))
    assert len(taken) == 2 and fresh.key == key  # no key at hand: taken once, after grading


@pytest.mark.parametrize("jobs_setting,size,expected", [(0, 1, 1), (4, 2, 1), (4, 4, 1), (4, 5, 2), (1, 50, 1),
                                                        (3, 50, 3), (8, 9, 3)])
def test_grading_processes_never_outnumber_the_class(jobs_setting, size, expected):
    """No extra process for a class it cannot pay for (one per MIN_PER_PROCESS submissions at most)."""
    assert workers_for(jobs_setting, size) == expected


def test_jobs_zero_means_the_machine_s_cores():
    assert workers_for(0, 10_000) == len(os.sched_getaffinity(0))


@pytest.mark.slow
def test_dask_local_cluster_matches_serial(jobs, serial, tmp_path, grader_config):
    make_course(ROOT, tmp_path, [AID])
    items = grade_batch(tmp_path, grader_config, jobs, workers=2, backend="dask")
    assert _outcome(items) == serial


@pytest.mark.slow
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


@pytest.mark.slow
def test_grade_batch_command_writes_the_gradebook(tmp_path, grade):
    make_course(ROOT, tmp_path, [AID])
    nbgrader(["generate_assignment", AID, "--force"], tmp_path)
    key = answer_key(AID)
    submit(tmp_path, "alice", AID, nbformat.writes(key))
    mutant = load_mutants(AID)[0]
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


@pytest.mark.slow
def test_parallel_workers_after_the_caller_has_used_torch(tmp_path):
    """Workers must not be forked from a process whose torch threads have run (that deadlocks)."""
    import subprocess
    import sys
    import textwrap

    script = tmp_path / "run.py"
    script.write_text(textwrap.dedent(f'''
        import torch
        from pathlib import Path
        from autograder.integrations.batch import Job, grade_batch
        from autograder.config import load_config
        from autograder.cli.demo import make_course
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
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=600,
                          check=False)
    assert "SCORES [21.0, 21.0, 21.0]" in proc.stdout, proc.stdout + proc.stderr


def _nbgrader_autograde(course, *args, env=None):
    proc = subprocess.run(["nbgrader", "autograde", AID, "--create", *args], cwd=course, capture_output=True,
                          text=True, timeout=1200, env=dict(os.environ, **(env or {})), check=False)
    return proc.stdout + proc.stderr


def _grades(course):
    nbgrader(["export", "--to", str(course / "grades.csv")], course)
    with open(course / "grades.csv", newline="") as f:
        return {row["student_id"]: float(row["raw_score"] or 0) for row in csv.DictReader(f)
                if row["assignment"] == AID}


@pytest.mark.slow
def test_nbgrader_autograde_grades_the_class_in_parallel_with_the_same_gradebook(tmp_path):
    """`nbgrader autograde` itself grades its whole list in parallel; same gradebook as one by one."""
    make_course(ROOT, tmp_path, [AID])
    nbgrader(["generate_assignment", AID, "--force"], tmp_path)
    key = answer_key(AID)
    mutants = load_mutants(AID)
    for i in range(6):  # 6 notebooks: worth one extra process (MIN_PER_PROCESS = 4)
        nb = mutants[i % len(mutants)].apply(key) if i % 2 else nbformat.from_dict(json.loads(nbformat.writes(key)))
        nb.cells.append(nbformat.v4.new_code_cell(f"# {i}"))  # every notebook its own cache key
        submit(tmp_path, f"s{i}", AID, nbformat.writes(nb))
    log = _nbgrader_autograde(tmp_path, env={"NNGRADE_JOBS": "2"})
    assert re.search(r"nngrade: 6 notebook\(s\) to autograde, 0 from the cache, 2 grading process", log), log
    parallel = _grades(tmp_path)
    assert len(parallel) == 6 and parallel["s0"] == 21 and parallel["s1"] < 21

    # one at a time, nothing reused: the same gradebook
    shutil.rmtree(tmp_path / ".nngrade")
    log = _nbgrader_autograde(tmp_path, "--force", env={"NNGRADE_NO_PREFETCH": "1"})
    assert "grading process" not in log
    assert _grades(tmp_path) == parallel

    # `--student`: only that student's notebook is in the run's list (here: from the cache)
    log = _nbgrader_autograde(tmp_path, "--force", "--student", "s3")
    assert "nngrade: 1 notebook(s) to autograde, 1 from the cache" in log, log
    assert _grades(tmp_path) == parallel
