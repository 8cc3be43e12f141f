"""A real Dask cluster: `dask scheduler` and two `dask worker` processes on 127.0.0.1.

The workers cannot see the course nor the package's suites (each runs in its own mount namespace
with both folders covered by an empty tmpfs), so a right score proves the assignment reached them
by value. One worker is killed mid-batch: every submission is still graded once, elsewhere, and
nbgrader's gradebook holds each student exactly once with the score one-at-a-time grading gives.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from autograder.authoring.known_wrong import load_mutants
from autograder.cli.demo import make_course, submit
from autograder.config import load_config
from autograder.engine.assignment import Assignment
from autograder.engine.integrity import SuitesChanged
from autograder.errors import NNGradeError
from autograder.integrations.batch import Job, grade_batch
from autograder.integrations.generate import nbgrader
from autograder.integrations.shipping import ShippedAssignment
from tests.conftest import ROOT, answer_key

AID = "a1_perceptron"
SUITES = ROOT / "autograder" / "suites"


def _can_hide() -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs none {SUITES} && ls {SUITES}"],
                           capture_output=True, text=True, check=False)
    return probe.returncode == 0 and not probe.stdout.strip()


def _hidden(argv: list[str], hide: list[Path]) -> list[str]:
    """``argv`` run in a mount namespace where every folder of ``hide`` is an empty tmpfs."""
    mounts = " && ".join(f"mount -t tmpfs none '{p}'" for p in hide)
    return ["unshare", "-m", "sh", "-c", f'{mounts} && exec "$@"', "sh", *argv]


class Cluster:
    """A scheduler and named workers, each its own process group (killed by :meth:`kill`)."""

    def __init__(self, folder: Path, hide: list[Path]) -> None:
        self.folder = folder
        self.hide = hide
        self.file = folder / "scheduler.json"
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: list[Path] = []
        self._start("scheduler", ["dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--no-dashboard", "--scheduler-file", str(self.file)])
        deadline = time.time() + 60
        while not self.file.exists() and time.time() < deadline:
            time.sleep(0.2)
        assert self.file.exists(), self.log_tail()

    def _start(self, name: str, argv: list[str], hidden: bool = False) -> None:
        log = self.folder / f"{name}.log"
        self.logs.append(log)
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
        with open(log, "w") as out:  # the child keeps its own copy of the descriptor
            self.procs[name] = subprocess.Popen(_hidden(argv, self.hide) if hidden else argv, cwd=self.folder,
                                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                                env=env)

    def worker(self, name: str, resources: str = "") -> None:
        argv = ["dask", "worker", "--scheduler-file", str(self.file), "--nthreads", "1", "--nworkers", "1",
                "--name", name, "--no-dashboard", "--local-directory", str(self.folder / name)]
        self._start(name, argv + (["--resources", resources] if resources else []), hidden=bool(self.hide))

    def kill(self, name: str) -> None:
        os.killpg(self.procs[name].pid, signal.SIGKILL)
        self.procs[name].wait(timeout=30)

    def close(self) -> None:
        for name in reversed(list(self.procs)):
            if self.procs[name].poll() is None:
                os.killpg(self.procs[name].pid, signal.SIGKILL)
                self.procs[name].wait(timeout=30)

    def address(self) -> str:
        return json.loads(self.file.read_text())["address"]

    def log_tail(self) -> str:
        return "\n".join(p.read_text()[-1500:] for p in self.logs if p.exists())


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    path = tmp_path_factory.mktemp("dask-course")
    make_course(ROOT, path, [AID])
    return path


@pytest.fixture(scope="module")
def cluster(course, tmp_path_factory):
    from dask.distributed import Client

    hide = [course, SUITES] if _can_hide() else []
    c = Cluster(tmp_path_factory.mktemp("dask-cluster"), hide)
    try:
        c.worker("gpu-box", resources="GPU=1")
        c.worker("cpu-box")
        with Client(scheduler_file=str(c.file), timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield c
    finally:
        c.close()


def _class() -> tuple[list[Job], dict[str, set[str]]]:
    """Eight a1 submissions (keys and known-wrong ones, each unique) and the checks each must fail."""
    key = answer_key(AID)
    mutants = load_mutants(AID)
    jobs, fails = [], {}
    for i in range(8):
        mutant = mutants[i % len(mutants)] if i % 2 else None
        nb = mutant.apply(key) if mutant else nbformat.from_dict(nbformat.reads(nbformat.writes(key), 4))
        nb.cells.append(nbformat.v4.new_code_cell(f"# student {i}"))  # no two alike: none is a cache hit
        student = f"s{i}-{mutant.name if mutant else 'key'}"
        jobs.append(Job(student, AID, nbformat.writes(nb)))
        fails[student] = set(mutant.fails) if mutant else set()
    return jobs, fails


def _pids(cluster: Cluster) -> dict[str, int]:
    from dask.distributed import Client

    with Client(scheduler_file=str(cluster.file), timeout=60) as client:
        info = client.scheduler_info()["workers"]
        pids = client.run(os.getpid)
    return {info[addr]["name"]: pid for addr, pid in pids.items()}


@pytest.mark.slow
def test_gpu_resources_send_every_job_to_the_gpu_worker(course, cluster, grader_config):
    """With resources={"GPU": 1} only the worker started with ``--resources GPU=1`` grades."""
    jobs, fails = _class()
    items = grade_batch(course, grader_config, jobs[:3], scheduler=cluster.address(), resources={"GPU": 1})
    pid = _pids(cluster)["gpu-box"]
    assert {it.worker.rsplit(":", 1)[1] for it in items} == {str(pid)}, cluster.log_tail()
    for it in items:
        assert it.graded.cause == "student", it.graded.result.error
        assert set(it.graded.result.failed_checks()) == fails[it.job.student]


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_nothing(course, cluster):
    nbgrader(["generate_assignment", AID, "--force", "--log-level=WARN"], course)
    jobs, fails = _class()
    for job in jobs:
        submit(course, job.student, AID, job.text)
    done: list[str] = []
    first = threading.Event()

    def on_done(item):
        done.append(item.job.student)
        first.set()

    victim = "gpu-box"
    killer = threading.Thread(target=lambda: first.wait(300) and cluster.kill(victim))
    killer.start()
    config = load_config(course)  # the course's settings: nbgrader autograde below finds these results
    items = grade_batch(course, config, jobs, scheduler=cluster.address(), on_done=on_done)
    killer.join()
    assert cluster.procs[victim].poll() is not None  # it was killed while the batch ran
    assert len(done) == len(jobs) and sorted(done) == sorted(j.student for j in jobs)  # each once
    for it in items:
        assert it.graded.cause == "student", (it.job.student, it.graded.result.error, cluster.log_tail())
        assert set(it.graded.result.failed_checks()) == fails[it.job.student]
    expected = {it.job.student: it.graded.result.score for it in items}
    assert max(expected.values()) == 21 and min(expected.values()) < 21

    # the gradebook: nbgrader autograde reuses the stored results; each student exactly once
    nbgrader(["autograde", AID, "--create"], course, timeout=1200)
    nbgrader(["export", "--to", str(course / "grades.csv")], course)
    with open(course / "grades.csv", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["assignment"] == AID]
    assert sorted(r["student_id"] for r in rows) == sorted(expected)
    assert {r["student_id"]: float(r["raw_score"]) for r in rows} == expected


def test_shipped_assignment_refuses_damaged_suites_and_another_engine():
    shipped = ShippedAssignment.of(Assignment.load(ROOT, AID))
    shipped.check()
    files = dict(shipped.suite_files)
    name = next(n for n in files if n.endswith("test_step.py"))
    files[name] = files[name] + b"\n# changed in transit\n"
    damaged = ShippedAssignment(shipped.id, shipped.source, shipped.parts, tuple(sorted(files.items())),
                                shipped.suite_digest, shipped.engine)
    with pytest.raises(SuitesChanged):
        damaged.check()
    other = ShippedAssignment(shipped.id, shipped.source, shipped.parts, shipped.suite_files,
                              shipped.suite_digest, "0" * 64)
    with pytest.raises(NNGradeError, match="different nngrade engine"):
        other.check()
