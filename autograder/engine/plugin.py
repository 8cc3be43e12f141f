"""The pytest plugin that runs hidden suites against one submission, in the grader process."""

from __future__ import annotations

import ast
import builtins
import contextlib
import functools
import io
import logging
import time
import traceback
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from autograder.codes import Kind
from autograder.config import GraderConfig
from autograder.engine.integrity import SuiteSnapshot
from autograder.engine.results import CheckResult
from autograder.errors import (
    CheckFailure,
    GraderFault,
    GradingDeadline,
    MissingName,
    StudentCrashed,
    StudentError,
    StudentTimeout,
)
from autograder.sandbox.submission import Submission

log = logging.getLogger("nngrade")

GRADER_ERROR = ("the grader hit an internal error on this check, so it is marked failed; "
                "your TA can see the details")


def explain(exc: BaseException, hidden: bool = False) -> tuple[str, Kind]:
    """A student-facing one-line message and a kind for an exception raised during a check.

    With ``hidden`` (a check on hidden inputs), an exception raised by the student's code is
    shown by its type only: its message is the student's text and may hold the hidden input.
    """
    if isinstance(exc, GraderFault):
        return (f"the grader could not run this check ({exc}); this is not a result of your code, "
                "and it will be graded again"), Kind.GRADER_ERROR
    if isinstance(exc, CheckFailure):
        return str(exc), Kind.FAILED
    if isinstance(exc, MissingName):
        return str(exc), Kind.MISSING
    if isinstance(exc, GradingDeadline):
        return exc.reason, Kind.TIMEOUT
    if isinstance(exc, StudentTimeout):
        return f"{exc.where} did not finish within {exc.seconds:g} s (an infinite loop?)", Kind.TIMEOUT
    if isinstance(exc, StudentCrashed):
        return f"{exc.where} stopped: {exc.reason}", Kind.CRASHED
    if isinstance(exc, StudentError):
        kind = Kind.NOT_ATTEMPTED if exc.type_name == "NotImplementedError" else Kind.STUDENT_ERROR
        return (_hidden_message(exc) if hidden else str(exc)), kind
    if isinstance(exc, AssertionError):
        text = str(exc).strip()
        return (text.splitlines()[0] if text else "a hidden check failed"), Kind.FAILED
    return GRADER_ERROR, Kind.GRADER_ERROR


def _hidden_message(exc: StudentError) -> str:
    """The student's exception on a hidden case: a builtin type name at most, never its text."""
    builtin = getattr(builtins, exc.type_name, None) if exc.type_name.isidentifier() else None
    name = exc.type_name if isinstance(builtin, type) and issubclass(builtin, BaseException) else "an exception"
    return (f"{exc.where or 'your code'} raised {name} on a hidden case (its message is not shown, "
            "since it could contain the hidden input)")


def is_hidden(item: pytest.Item, snapshot: SuiteSnapshot | None = None) -> bool:
    """Whether a check works on hidden inputs: ``nngrade(hidden=True)`` on it, or its test function
    passes ``hidden=True`` to anything (the ``expect_*`` helpers, or a helper of its suite).

    The function's source is the one the check ran from: ``snapshot``'s bytes when given.
    """
    if any(m.kwargs.get("hidden") for m in item.iter_markers("nngrade")):
        return True
    func = getattr(item, "function", None)
    code = getattr(func, "__code__", None)
    if code is None:
        return False
    text = snapshot.source(Path(code.co_filename)) if snapshot is not None else None
    if text is None:
        try:
            text = Path(code.co_filename).read_text()
        except (OSError, ValueError):
            return True  # unknown: treat as hidden (the safe side)
    return _passes_hidden(text, getattr(item, "originalname", item.name))


@functools.lru_cache(maxsize=256)
def _passes_hidden(source: str, function: str) -> bool:
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return True  # unknown: treat as hidden (the safe side)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            return any(isinstance(k, ast.keyword) and k.arg == "hidden" and isinstance(k.value, ast.Constant)
                       and k.value.value is True for k in ast.walk(node))
    return False


class NNGradePlugin:
    """Provides the fixtures and records one CheckResult per collected test."""

    def __init__(self, student: Submission, config: GraderConfig, parts: dict[Path, str],
                 snapshot: SuiteSnapshot | None = None) -> None:
        self._snapshot = snapshot
        self._student = student
        self._config = config
        self.parts = parts
        self.results: list[CheckResult] = []
        self.internal_errors: list[str] = []
        self._started: dict[str, float] = {}
        self._recorded: set[str] = set()

    def pytest_pycollect_makemodule(self, module_path: Path, parent: pytest.Collector) -> pytest.Module | None:
        """Suite files come from the snapshot read before the student ran, not from the disk."""
        if self._snapshot is None:
            return None
        return _SnapshotModule.from_parent(parent, path=module_path, snapshot=self._snapshot)

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "nngrade(points, hint): points and hint of a hidden check")

    @pytest.fixture(scope="session")
    def student(self) -> Submission:
        return self._student

    @pytest.fixture(scope="session")
    def config(self) -> GraderConfig:
        return self._config

    @pytest.fixture(scope="session")
    def device(self) -> Any:
        import torch

        return torch.device(self._config.resolved_device())

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self._started[item.nodeid] = time.perf_counter()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[Any]
                                   ) -> Generator[None, Any, None]:
        outcome = yield
        report = outcome.get_result()
        if item.nodeid in self._recorded:
            return
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self._recorded.add(item.nodeid)
            self.results.append(self._result(item, call, report.passed))

    def _result(self, item: pytest.Item, call: pytest.CallInfo[Any], passed: bool) -> CheckResult:
        marker = item.get_closest_marker("nngrade")
        points = float(marker.kwargs.get("points", 0)) if marker else 0.0
        hint = str(marker.kwargs.get("hint", "")) if marker else ""
        visibility = str(marker.kwargs.get("visibility", "visible")) if marker else "visible"
        hint_after_due = bool(marker.kwargs.get("hint_after_due", False)) if marker else False
        func = getattr(item, "function", None)
        doc = (getattr(func, "__doc__", None) or "").strip().splitlines()
        title = doc[0].strip() if doc else getattr(item, "originalname", item.name)
        part = self.parts.get(Path(str(item.path)).resolve(), Path(str(item.path)).stem.removeprefix("test_"))
        callspec = getattr(item, "callspec", None)
        case = callspec.id if callspec is not None else ""
        check_id = f"{part}::{getattr(item, 'originalname', item.name)}"
        message, kind = "", Kind.OK
        if not passed and call.excinfo is not None:
            exc = call.excinfo.value
            message, kind = explain(exc, hidden=is_hidden(item, self._snapshot))
            if kind == Kind.GRADER_ERROR and not isinstance(exc, GraderFault):
                detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                self.internal_errors.append(f"{check_id}[{case}]: {detail}")
                log.error("internal grader error in %s:\n%s", check_id, detail)
        elif not passed:
            message, kind = "the check could not run", Kind.GRADER_ERROR
        seconds = time.perf_counter() - self._started.get(item.nodeid, time.perf_counter())
        return CheckResult(check_id=check_id, case=case, part=part, title=title,
                           points=points if passed else 0.0, max_points=points, passed=passed,
                           message=message, hint="" if passed else hint, seconds=round(seconds, 4),
                           kind=kind, visibility=visibility, hint_after_due=hint_after_due)


class _SnapshotModule(pytest.Module):
    """A test module whose object is built from a :class:`SuiteSnapshot`."""

    def __init__(self, *args: Any, snapshot: SuiteSnapshot, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._snapshot = snapshot

    def _getobj(self) -> Any:
        return self._snapshot.module(self.path)


def run_suites(files: dict[Path, str], student: Submission, config: GraderConfig,
               snapshot: SuiteSnapshot | None = None) -> NNGradePlugin:
    """Run the given suite files (path -> part name) against ``student``; the plugin holds the results.

    With ``snapshot``, the test modules are built from it rather than read from the disk.
    """
    plugin = NNGradePlugin(student, config, {p.resolve(): name for p, name in files.items()}, snapshot)
    # the folder the snapshot was read from (a private copy on a worker that received the suite by value)
    suites_root = snapshot.folder.parent if snapshot is not None else Path(__file__).parent.parent / "suites"
    # one pytest session per submission: no plugin the suites do not use (each costs its set-up
    # in every session), and no third-party plugin found through entry points
    unused = ("cacheprovider", "randomly", "xdist", "unraisableexception", "threadexception", "faulthandler",
              "logging", "junitxml", "pastebin", "nose", "doctest", "legacypath", "tmpdir", "monkeypatch",
              "recwarn", "stepwise", "setuponly", "setupplan", "debugging", "unittest", "python_path")
    args = [str(p) for p in files] + [
        "-q", "--assert=plain", "--import-mode=importlib", "--disable-plugin-autoload",
        *(arg for name in unused for arg in ("-p", f"no:{name}")), "--rootdir", str(suites_root),
        "-c", str(suites_root / "pytest.ini"), "--tb=no", "--no-header", "-W", "ignore",
    ]
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = pytest.main(args, plugins=[plugin])
    if code not in (0, 1):
        raise RuntimeError(f"the hidden suite could not run (pytest exit {int(code)}):\n{sink.getvalue()[-2000:]}")
    return plugin
