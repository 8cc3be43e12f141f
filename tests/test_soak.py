"""Soak: a class of 40 where every other submission is hostile, graded in parallel (issue 13).

Every honest submission gets its right score, every hostile one gets a result of its own (no
grader failures), and the whole class is graded in bounded time on two cores.
"""

from __future__ import annotations

import os
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

from autograder.cli.demo import make_course, submit
from autograder.engine.grade import GRADER
from autograder.integrations.batch import find_submissions, grade_batch
from tests.conftest import ROOT, answer_key, release, with_cell_source, with_extra_cell
from tests.test_redteam import (
    _BOMB,
    _BOMBS,
    copied_task_metadata,
    duplicated_grade_cell,
    hidden_input_in_exception,
    protocol_cell_reports,
    protocol_handles,
    protocol_missing_and_send,
    protocol_reply_kinds,
    protocol_reply_shapes,
)

pytestmark = pytest.mark.slow
AID = "a1_perceptron"
FULL = 21.0


def _deep_json() -> bytes:
    return ('{"cells": [], "metadata": ' + "[" * 100_000 + "]" * 100_000 + "}").encode()


def _hostile() -> list[tuple[str, Callable[[], bytes]]]:
    """Twenty hostile submissions: a mix of every class of issue 13 (and a few older ones)."""
    def nb(build: Callable[..., nbformat.NotebookNode]) -> Callable[[], bytes]:
        return lambda: nbformat.writes(build(None)).encode()

    def text(nb_: nbformat.NotebookNode) -> Callable[[], bytes]:
        return lambda: nbformat.writes(nb_).encode()

    key = answer_key(AID)
    bomb = with_cell_source(key, "predict", "import numpy as np\n" + _BOMB + _BOMBS["widening"] + textwrap.dedent('''
        def predict(X, w, b):
            return "BOMB"
    '''))
    aliased = with_extra_cell(key, _BOMB + _BOMBS["aliased_buffers"] + "\npredict_bomb = bomb\n")
    slow = with_extra_cell(key, textwrap.dedent('''
        import time, functools
        def _slow(fn):
            @functools.wraps(fn)
            def wrapper(*a, **k):
                time.sleep(0.8)
                return fn(*a, **k)
            return wrapper
        step, predict = _slow(step), _slow(predict)
        perceptron_update, train_perceptron = _slow(perceptron_update), _slow(train_perceptron)
    '''))
    hang = with_extra_cell(key, "while True:\n    pass\n")
    exits = with_extra_cell(key, "import os\nos._exit(3)\n")
    return [
        ("protocol_shapes", nb(protocol_reply_shapes)), ("protocol_kinds", nb(protocol_reply_kinds)),
        ("protocol_handles", nb(protocol_handles)), ("protocol_missing", nb(protocol_missing_and_send)),
        ("cell_reports", nb(protocol_cell_reports)), ("hidden_leak", nb(hidden_input_in_exception)),
        ("duplicated", nb(duplicated_grade_cell)), ("forged_meta", nb(copied_task_metadata)),
        ("deep_json", _deep_json), ("binary", lambda: os.urandom(8192)),
        ("latin1", lambda: nbformat.writes(key).replace("perceptron", "perceptr\u00f3n").encode("latin-1")),
        ("widening_bomb", text(bomb)), ("aliased_bomb", text(aliased)), ("slow_calls", text(slow)),
        ("hang_cell", text(hang)), ("exit_cell", text(exits)),
        ("protocol_shapes_2", nb(protocol_reply_shapes)), ("deep_json_2", _deep_json),
        ("slow_calls_2", text(slow)), ("hidden_leak_2", nb(hidden_input_in_exception)),
    ]


def test_forty_students_half_hostile(tmp_path: Path, grader_config) -> None:
    make_course(ROOT, tmp_path, [AID])
    honest: dict[str, float] = {}
    blank = nbformat.writes(release(AID))
    key = nbformat.writes(answer_key(AID))
    for i, (name, build) in enumerate(_hostile()):
        student = f"s{2 * i:02d}-{name}"
        folder = tmp_path / "submitted" / student / AID
        folder.mkdir(parents=True)
        (folder / f"{AID}.ipynb").write_bytes(build())
        student = f"s{2 * i + 1:02d}-honest"
        submit(tmp_path, student, AID, blank if i % 5 == 4 else key)
        honest[student] = 0.0 if i % 5 == 4 else FULL
    jobs = find_submissions(tmp_path, AID)
    assert len(jobs) == 40
    config = grader_config.replace(cell_timeout=3, call_timeout=3, notebook_timeout=20, grading_timeout=20)
    started = time.monotonic()
    items = grade_batch(tmp_path, config, jobs, workers=2)
    elapsed = time.monotonic() - started
    results = {it.job.student: it for it in items}
    assert len(results) == 40
    wrong = {s: results[s].graded.result.score for s, want in honest.items()
             if results[s].graded.result.score != want}
    assert not wrong, f"honest students at the wrong score: {wrong}"
    lost = [s for s, it in results.items() if it.graded.cause == GRADER]
    assert not lost, f"grader failures: {[(s, results[s].graded.result.error) for s in lost]}"
    for student, item in results.items():
        assert item.seconds < config.grading_timeout + 20, f"{student} took {item.seconds:.0f} s"
        assert item.graded.result.score <= FULL
    assert elapsed < 420, f"the class took {elapsed:.0f} s"
    print(f"\n40 submissions (20 hostile) in {elapsed:.1f} s with 2 jobs; slowest "
          f"{max(it.seconds for it in items):.1f} s")
