"""What one ``nbgrader autograde`` run shares between its notebooks.

nbgrader converts one notebook at a time, and each preprocessor sees only that notebook. Some
things are the same for every notebook of a run (the assignment and its suites, the grader
settings, the due date, the gradebook's source cells): :func:`per_run` takes them once per run,
keyed by the run's converter (nbgrader's ``Autograde`` object), and forgets them with it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

from autograder.engine.assignment import Assignment, find_course_root

T = TypeVar("T")


def converter_of(pre: Any) -> Any:
    """The nbgrader converter (``Autograde``) running this preprocessor, or None."""
    node = getattr(pre, "parent", None)
    for _ in range(4):
        if node is None:
            return None
        if hasattr(node, "assignments") and hasattr(node, "coursedir") and hasattr(node, "force"):
            return node
        node = getattr(node, "parent", None)
    return None


_PER_RUN: weakref.WeakKeyDictionary[Any, dict[Hashable, Any]] = weakref.WeakKeyDictionary()


def per_run(pre: Any, key: Hashable, make: Callable[[], T]) -> T:
    """``make()``, taken once per nbgrader run (its converter) and ``key``; every time outside a run.

    Only for what no step of ``nbgrader autograde`` changes while it runs (the source notebook,
    the grader settings, the gradebook's source cells and due dates). An exception is not kept.
    """
    converter = converter_of(pre)
    if converter is None:
        return make()
    memo = _PER_RUN.setdefault(converter, {})
    if key not in memo:
        memo[key] = make()
    return memo[key]  # type: ignore[no-any-return]


def run_assignment(pre: Any, assignment_id: str) -> Assignment:
    """The assignment of this run, read from the course once per run (``Assignment.load``)."""
    course_root = find_course_root(Path.cwd())
    return per_run(pre, ("assignment", str(course_root), assignment_id),
                   lambda: Assignment.load(course_root, assignment_id))
