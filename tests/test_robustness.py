"""One submission can never cost another student anything, nor stop or stall the batch (issue 13).

Each protocol stage is attacked by one submission, then the answer key is graded from the same
warm zygote and must get full marks; malformed notebooks, forged metadata and grader failures
are checked in every front end (engine, batch, real ``nbgrader autograde``, Gradescope); the
result cache keeps only what the student's work decided.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import socket
import textwrap
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograder.cli.demo import make_course, submit
from autograder.config import GraderConfig
from autograder.engine import cache
from autograder.engine.assignment import Assignment
from autograder.engine.grade import GRADER, STUDENT, Graded, grade_notebook
from autograder.engine.integrity import SuiteSnapshot
from autograder.errors import NNGradeError
from autograder.integrations.batch import find_submissions, grade_batch
from autograder.integrations.generate import nbgrader
from autograder.sandbox.process import StudentProcess
from autograder.sandbox.runtime import protocol
from autograder.sandbox.zygote import shared_zygote
from tests.conftest import FIND_WORKER, ROOT, answer_key, with_cell_source, with_extra_cell

pytestmark = pytest.mark.slow
A1, A2 = "a1_perceptron", "a2_xor_backprop"
_ASSIGNMENTS: dict[str, Assignment] = {}

# the engine's worker, found from student code (as in test_redteam): its Student object and globals
WORKER = FIND_WORKER + '''
W, S = _worker()
_orig_handle = type(S).handle
'''


def _asg(aid: str) -> Assignment:
    if aid not in _ASSIGNMENTS:
        _ASSIGNMENTS[aid] = Assignment.load(ROOT, aid)
    return _ASSIGNMENTS[aid]


def _grade(aid: str, nb: Any, config: GraderConfig) -> Graded:
    return grade_notebook(nb, _asg(aid), config, student_id="robustness")


def _key_is_full(aid: str, config: GraderConfig) -> None:
    """The answer key, graded next from the same shared zygote, gets every point."""
    zyg = shared_zygote(config, hide=[ROOT])
    graded = _grade(aid, answer_key(aid), config)
    res = graded.result
    assert res.score == res.max_score > 0, f"the next student got {res.score}/{res.max_score}: {res.notes}"
    assert graded.cause == STUDENT and res.error == ""
    assert shared_zygote(config, hide=[ROOT]) is zyg, "the zygote had to be replaced"


# --- 1. every protocol stage ---------------------------------------------------------------------

@pytest.mark.parametrize("reply", ["7", "('ok',)", "('ok', 1, 2)", "_deep(400)", "('err', 'X', 'y', 'z')"])
def test_helpers_reply_violation_then_the_a2_key(reply: str, grader_config: GraderConfig) -> None:
    """A reply to the grader's `helpers` request that is anything but `ok` ends that student's
    process (the issue: a non-tuple raised outside the handler and the process lived on, so the
    a2 key graded next in that worker scored 0/33)."""
    hostile = with_extra_cell(answer_key(A2), WORKER + textwrap.dedent(f'''
        def _deep(n):
            node = "x"
            for _ in range(n):
                node = [node]
            return node
        def _handle(self, request):
            if request[0] == "helpers":
                return {reply}
            return _orig_handle(self, request)
        type(S).handle = _handle
    '''))
    graded = _grade(A2, hostile, grader_config)
    res = graded.result
    assert res.score == 0 and graded.cause == STUDENT
    assert res.error.startswith("loading the grader's helpers stopped:") and "\n" not in res.error
    _key_is_full(A2, grader_config)


def test_bad_greeting_is_the_graders_fault(grader_config: GraderConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that greets wrongly (before any student code runs) is killed; the result is the
    grader's (not cached), with one clear line; the next student is graded as if first."""
    zyg = shared_zygote(grader_config, hide=[ROOT])
    real_spawn, killed = type(zyg).spawn, []

    def spawn(self: Any, settings: dict[str, Any]) -> Any:
        pids, status, sock = real_spawn(self, settings)
        fake, theirs = socket.socketpair()
        theirs.sendall(protocol.dumps([["not", "a", "greeting"]]))
        sock.close()
        killed.append(pids)
        return pids, status, fake

    real_kill = type(zyg).kill
    kills: list[list[int]] = []
    monkeypatch.setattr(type(zyg), "spawn", spawn)
    monkeypatch.setattr(type(zyg), "kill", lambda self, pids: (kills.append(list(pids)), real_kill(self, pids)))
    graded = _grade(A1, answer_key(A1), grader_config)
    monkeypatch.undo()
    assert graded.cause == GRADER and not graded.cacheable
    assert "unexpected greeting" in graded.result.error and "\n" not in graded.result.error
    assert all(c.kind == "grader_error" for p in graded.result.parts for c in p.checks)
    assert killed and all(pids in kills for pids in killed), "a process that greeted wrongly was left alive"
    _key_is_full(A1, grader_config)


def test_no_process_at_all_is_the_graders_fault(grader_config: GraderConfig,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Any, *args: Any) -> None:
        raise NNGradeError("could not start a sandboxed student process: failed (pids)")

    monkeypatch.setattr(StudentProcess, "__init__", refuse)
    graded = _grade(A1, answer_key(A1), grader_config)
    monkeypatch.undo()
    assert graded.cause == GRADER and graded.result.score == 0
    assert "no student process could be started" in graded.result.error
    _key_is_full(A1, grader_config)


# --- 5. the notebook's total deadline ----------------------------------------------------------

def test_grading_deadline_bounds_a_slow_student(grader_config: GraderConfig) -> None:
    """Every call answers just under call_timeout: the whole grading stops at grading_timeout."""
    slow = with_extra_cell(answer_key(A1), textwrap.dedent('''
        import time, functools
        def _slow(fn):
            @functools.wraps(fn)
            def wrapper(*a, **k):
                time.sleep(0.9)
                return fn(*a, **k)
            return wrapper
        step, predict = _slow(step), _slow(predict)
        perceptron_update, train_perceptron = _slow(perceptron_update), _slow(train_perceptron)
    '''))
    config = grader_config.replace(call_timeout=1.0, grading_timeout=6.0)
    started = time.monotonic()
    graded = _grade(A1, slow, config)
    seconds = time.monotonic() - started
    checks = [c for p in graded.result.parts for c in p.checks]
    assert seconds < 6.0 + 4.0, f"grading took {seconds:.1f} s with grading_timeout=6"
    late = [c for c in checks if "grading_timeout" in c.message]
    assert late and all(c.kind == "timeout" and not c.passed for c in late)
    assert graded.result.score < graded.result.max_score and graded.cause == STUDENT
    assert "grading 6 s" in graded.result.limits
    _key_is_full(A1, grader_config)


# --- 6. the result cache --------------------------------------------------------------------------

def _course(tmp_path: Path) -> Path:
    make_course(ROOT, tmp_path, [A1])
    return tmp_path


def test_cache_key_covers_suites_settings_and_engine(tmp_path: Path, grader_config: GraderConfig,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    asg, nb = _asg(A1), answer_key(A1)
    base = cache.cache_key(nb, asg, grader_config)
    assert cache.cache_key(nb, asg, grader_config.replace(jobs=8)) == base  # how many at once: same grade
    assert cache.cache_key(nb, asg, grader_config.replace(call_timeout=11)) != base
    assert cache.cache_key(nb, asg, grader_config.replace(grading_timeout=601)) != base
    assert cache.cache_key(with_cell_source(nb, "step", "def step(z):\n    return 0\n"), asg,
                           grader_config) != base
    # any file of the suite folder, not only its Python files
    # (the key takes the suite as read into the grader: the bytes the checks run from)
    suites = tmp_path / "suites"
    shutil.copytree(asg.suite_dir, suites / A1)
    for shared in ("__init__.py", "pytest.ini"):
        shutil.copy(asg.suite_dir.parent / shared, suites / shared)
    copied = cache.cache_key(nb, dataclasses.replace(asg, suite=SuiteSnapshot.read(A1, suites)), grader_config)
    assert copied == base
    (suites / A1 / "cases.json").write_text("[1, 2, 3]")
    assert cache.cache_key(nb, dataclasses.replace(asg, suite=SuiteSnapshot.read(A1, suites)),
                           grader_config) != copied
    cache.engine_digest.cache_clear()
    monkeypatch.setattr(cache.autograder, "__version__", "99.0")
    assert cache.cache_key(nb, asg, grader_config) != base
    monkeypatch.undo()
    cache.engine_digest.cache_clear()


def test_cache_stores_only_the_students_results(tmp_path: Path, grader_config: GraderConfig,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    course = _course(tmp_path)
    asg = dataclasses.replace(_asg(A1), course_root=course)
    nb = answer_key(A1)
    calls: list[str] = []
    real = cache.grade_notebook

    def grade(nb: Any, assignment: Any, config: Any, student_id: str = "") -> Graded:
        graded = real(nb, assignment, config, student_id=student_id)
        calls.append(student_id)
        if len(calls) == 1:  # the first grading hits a machine failure
            return dataclasses.replace(graded, cause=GRADER)
        return graded

    monkeypatch.setattr(cache, "grade_notebook", grade)
    first = cache.grade_cached(nb, asg, grader_config, "s1")
    assert first.cause == GRADER and not list((course / cache.CACHE_DIR).rglob("*.json"))
    second = cache.grade_cached(nb, asg, grader_config, "s1")  # graded again, then stored
    assert second.cause == STUDENT and len(calls) == 2
    third = cache.grade_cached(nb, asg, grader_config, "s2")  # replayed for the identical submission
    assert len(calls) == 2 and third.result.student == "s2" and third.result.score == 21
    # a stored result that is not the student's (an older engine wrote it) is never replayed
    path = next((course / cache.CACHE_DIR).rglob("*.json"))
    data = json.loads(path.read_text())
    path.write_text(json.dumps(dict(data, cause=GRADER)))
    cache.grade_cached(nb, asg, grader_config, "s3")
    assert len(calls) == 3


def test_cache_write_failure_is_only_slower(tmp_path: Path, grader_config: GraderConfig) -> None:
    course = _course(tmp_path)
    (course / ".nngrade").write_text("not a folder")  # the cache folder cannot be made (as on a full disk)
    graded = _grade(A1, answer_key(A1), grader_config)
    assert cache.store(course, "k" * 64, graded) is None


# --- 3. malformed notebooks in the batch, and the nbgrader front end --------------------------------

def _deep(depth: int) -> str:
    return '{"cells": [], "metadata": ' + "[" * depth + "]" * depth + ', "nbformat": 4, "nbformat_minor": 5}'


def test_batch_grades_everyone_around_malformed_notebooks(tmp_path: Path, grader_config: GraderConfig,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    course = _course(tmp_path)
    key = nbformat.writes(answer_key(A1))
    submit(course, "a_key", A1, key)
    submit(course, "b_deep", A1, _deep(100_000))
    (course / "submitted" / "c_binary" / A1).mkdir(parents=True)
    (course / "submitted" / "c_binary" / A1 / f"{A1}.ipynb").write_bytes(b"\xff\xfe\x00" * 1000)
    submit(course, "d_huge", A1, key + " " * 400_000)
    submit(course, "e_key", A1, key)
    limit = 400_000  # stands in for the 64 MiB default
    monkeypatch.setattr("autograder.integrations.batch.MAX_NOTEBOOK_BYTES", limit)  # read at most this
    monkeypatch.setattr("autograder.engine.assignment.MAX_NOTEBOOK_BYTES", limit)
    jobs = find_submissions(course, A1)
    assert [j.student for j in jobs if j.problem] == ["c_binary", "d_huge"]
    items = {it.job.student: it for it in grade_batch(course, grader_config, jobs, workers=1)}
    assert items["a_key"].graded.result.score == items["e_key"].graded.result.score == 21
    for bad in ("b_deep", "c_binary", "d_huge"):
        res = items[bad].graded.result
        assert res.score == 0 and res.error and "\n" not in res.error
        assert all(c.kind == "malformed" for p in res.parts for c in p.checks)
    assert "nested too deeply" in items["b_deep"].graded.result.error
    assert "UTF-8" in items["c_binary"].graded.result.error
    assert "larger than" in items["d_huge"].graded.result.error


def test_nbgrader_autograde_goes_on_past_forged_metadata(tmp_path: Path) -> None:
    """Real `nbgrader autograde`: a copy-pasted grade cell, a cell carrying another cell's metadata
    and a notebook nested 100,000 deep stop nothing; the others are graded in full, and the
    copy-paste is graded as far as it can be, with notes that say what was wrong."""
    from nbgrader.api import Gradebook

    course = _course(tmp_path)
    nbgrader(["generate_assignment", A1, "--force", "--log-level=WARN"], course)
    key = answer_key(A1)
    dup = copy.deepcopy(key)
    test_step = next(c for c in dup.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_step")
    dup.cells.insert(dup.cells.index(test_step) + 1, copy.deepcopy(test_step))
    forged = copy.deepcopy(key)
    manual = next(c for c in forged.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "why_not_xor")
    cell = nbformat.v4.new_code_cell("x = 1\n")
    cell.metadata["nbgrader"] = copy.deepcopy(manual.metadata["nbgrader"])
    task = nbformat.v4.new_code_cell("y = 2\n")
    task.metadata["nbgrader"] = {"task": True, "grade": False, "solution": False, "locked": True,
                                 "grade_id": "forged_task", "points": 50, "schema_version": 3}
    forged.cells[1:1] = [cell, task]
    submit(course, "a_key", A1, nbformat.writes(key))
    submit(course, "b_duplicated", A1, nbformat.writes(dup))
    submit(course, "c_forged", A1, nbformat.writes(forged))
    submit(course, "d_deep", A1, _deep(100_000))
    submit(course, "e_key", A1, nbformat.writes(key))
    proc = nbgrader(["autograde", A1, "--force", "--create"], course, check=False)
    log = proc.stdout + proc.stderr
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        grades = {s.student.id: s.score for s in gb.assignment_submissions(A1)}
    for student in ("a_key", "b_duplicated", "c_forged", "e_key"):
        assert grades.get(student) == 21, (student, grades, log[-3000:])
    assert "d_deep" not in grades or grades["d_deep"] == 0
    saved = json.loads((course / ".nngrade/results" / A1 / "b_duplicated.json").read_text())
    assert any("repeats the grade id 'test_step'" in n["text"] for n in saved["notes"]), saved["notes"]
    saved = json.loads((course / ".nngrade/results" / A1 / "c_forged.json").read_text())
    texts = [n["text"] for n in saved["notes"]]
    assert any("forged_task" in t for t in texts) and any("why_not_xor" in t for t in texts)


def test_gradescope_malformed_notebooks(tmp_path: Path) -> None:
    from autograder.integrations.gradescope import build_zip
    from tests.test_gradescope import run_gradescope

    zip_path = build_zip(ROOT, A1, tmp_path / "autograder.zip")
    for name, content in (("deep", _deep(100_000)), ("binary", b"\x00\xff" * 500)):
        root = tmp_path / name
        root.mkdir()
        results, _ = run_gradescope(zip_path, root, {f"{A1}.ipynb": content})
        assert results["score"] == 0 and results["tests"], results
        assert "not" in results["output"] and "\n" not in results["output"].strip()
