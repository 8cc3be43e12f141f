"""The grader's view of a submission: a remote object backed by a sandboxed process.

:class:`Submission` is what the hidden suites receive as the ``student``
fixture. It starts a student process from the warm zygote
(:mod:`~autograder.sandbox.process`), runs the notebook's cells there
(:mod:`~autograder.sandbox.notebook_run`), and turns attribute access and calls into
requests (:mod:`~autograder.sandbox.calls`). Results come back as values (see
:mod:`autograder.sandbox.runtime.codec`) or as :class:`Handle` objects for things that
must stay in the student process.

The restart policy lives here: a cell that hangs or kills its process is skipped and
the notebook is run again in a fresh process without it; a check whose call hangs or
crashes fails alone, and the next call gets a fresh process. Every restart is counted
and reported.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

from autograder.codes import Note, NoteCode
from autograder.config import GraderConfig
from autograder.errors import GraderFault, GradingDeadline, StudentCrashed, StudentTimeout
from autograder.sandbox.calls import (
    Handle,
    Violation,
    decode_value,
    encode_value,
    global_handle,
    protocol_crash,
    read_reply,
)
from autograder.sandbox.cells import defining_cells
from autograder.sandbox.notebook_run import CellLoop, CellRun, record_cell, skip_cell
from autograder.sandbox.process import StudentProcess
from autograder.sandbox.runtime import protocol
from autograder.sandbox.zygote import Zygote

__all__ = ["CellRun", "Handle", "Submission"]

START_ATTEMPTS = 3  # tries to start a student process (each may use a fresh zygote) before it is the grader's fault
HELPERS_TIMEOUT = 30.0  # seconds for the assignment's student_helpers.py to load


class Submission:
    """The submission as the hidden suites see it (the ``student`` fixture).

    Args:
        cells: ``(cell index, source)`` of the code cells to run, in order.
        zygote: where student processes come from.
        config: limits and timeouts.
        helpers: source of the assignment's ``student_helpers.py``, if any.
    """

    def __init__(self, cells: list[tuple[int, str]], zygote: Zygote | Callable[[], Zygote],
                 config: GraderConfig, helpers: str | None = None,
                 solution_cells: list[str] | None = None) -> None:
        self._cells = cells
        # a callable gives a live zygote each time (a stopped one is replaced between attempts)
        self._zygote_source = zygote if callable(zygote) else (lambda: zygote)
        self._config = config
        self._helpers = helpers
        self._solution_cells = solution_cells or []
        self._proc: StudentProcess | None = None
        self._gen = 0
        self._skip: set[int] = set()
        self._call_timeout = config.call_timeout
        self.restarts = 0
        self.notes: list[Note] = []
        self.cell_runs: dict[int, CellRun] = {}
        self.isolation_status = ""
        self._gave_up = False
        # the notebook's grading as a whole: every wait is cut to what is left of it
        self._deadline = time.monotonic() + config.grading_timeout
        self.faults: list[str] = []  # failures of the grader or the machine (never the student's)

    def _remaining(self) -> float:
        return self._deadline - time.monotonic()

    def _expired(self, where: str) -> GradingDeadline:
        self._gave_up = True
        return GradingDeadline(where, self._config.grading_timeout)

    def _fault(self, what: str) -> GraderFault:
        self.faults.append(what)
        return GraderFault(what)

    def _start(self) -> StudentProcess:
        """A fresh student process; after START_ATTEMPTS failures, the grader's fault."""
        problem = ""
        for attempt in range(START_ATTEMPTS):
            try:
                return StudentProcess(self._zygote_source(), self._config.student_settings())
            except Exception as exc:  # no process could be started (zygote gone, no pids left, ...)
                problem = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
                time.sleep(0.2 * (attempt + 1))
        raise self._fault(f"no student process could be started ({problem})")

    def _zygote_died(self, proc: StudentProcess) -> GraderFault | None:
        try:
            alive = proc.zygote.alive()
        except Exception:
            alive = False
        return None if alive else self._fault("the sandbox's zygote process stopped during grading")

    # --- lifecycle -----------------------------------------------------------
    def boot(self) -> None:
        """Start a process and run the notebook in it (skipping cells that hung or crashed before).

        Whatever goes wrong, a process that is not handed on is killed here.
        """
        limit = self._config.output_kb * 1024
        while True:
            if self._remaining() <= 0:
                raise self._expired("your notebook")
            if self._gen > self._config.max_restarts:
                self._gave_up = True
                raise StudentCrashed("your notebook", f"it hung or crashed more than {self._config.max_restarts} "
                                     "times; the remaining checks were not run")
            proc = self._start()
            self._gen += 1
            if self._gen > 1:
                self.restarts += 1
            self.isolation_status = proc.status
            loop = CellLoop(proc, [(i, s) for i, s in self._cells if i not in self._skip], self._config,
                            self._deadline)
            try:
                loop.run(lambda index, outputs, seconds: record_cell(self.cell_runs, index, outputs, seconds, limit))
                if self._helpers:
                    self._load_helpers(proc)
            except (StudentTimeout, StudentCrashed) as exc:
                proc.kill()
                fault = self._zygote_died(proc)
                if fault is not None:
                    raise fault from None
                if self._remaining() <= 0:
                    raise self._expired(loop.where()) from None
                if loop.current is None:
                    raise
                self._skip.add(loop.current)
                self.notes.append(skip_cell(self.cell_runs, loop.current, exc))
                continue
            except BaseException:
                proc.kill()  # never leave a live process behind, whatever went wrong
                raise
            self._proc = proc
            return

    def _load_helpers(self, proc: StudentProcess) -> None:
        """Run the assignment's student_helpers.py in the student process; any reply but ``OK`` ends it."""
        where = "loading the grader's helpers"
        proc.send((protocol.HELPERS, self._helpers))
        reply = proc.recv(max(0.01, min(HELPERS_TIMEOUT, self._remaining())), where)
        if type(reply) is not tuple or len(reply) != 2 or type(reply[0]) is not str:
            proc.kill()
            raise protocol_crash(where, "a reply that is not a (kind, value) pair")
        if reply[0] != protocol.OK:
            proc.kill()
            raise StudentCrashed(where, "the grader's helpers could not be loaded in your process "
                                 "(did your notebook replace a builtin?)")

    def _live(self) -> StudentProcess:
        if self._remaining() <= 0:
            self.close()
            raise self._expired("your notebook")
        if self._gave_up:
            raise StudentCrashed("your notebook", "it hung or crashed too many times; this check was not run")
        if self._proc is None or not self._proc.alive:
            self._proc = None
            self.boot()
        assert self._proc is not None
        return self._proc

    def close(self) -> None:
        """Kill the student process."""
        if self._proc is not None:
            self._proc.kill()
            self._proc = None

    # --- requests ------------------------------------------------------------
    def _request(self, request: Any, where: str, timeout: float | None = None, expect: str = "") -> Any:
        """Send one request and take its reply, within the call's limit and the notebook's deadline.

        Any reply of the wrong shape (or a value of the wrong kind where ``expect`` names one:
        ``handle`` or ``bool``) is a protocol violation: the process is killed and this check
        fails with one line; the next call starts a fresh process.
        """
        proc = self._live()
        limit = timeout or self._call_timeout
        wait = min(limit, self._remaining())
        if wait <= 0:
            self.close()
            raise self._expired(where)
        proc.send(request)
        try:
            reply = proc.recv(wait, where)
        except (StudentTimeout, StudentCrashed) as exc:
            fault = self._zygote_died(proc)
            if fault is not None:
                raise fault from None
            if isinstance(exc, StudentTimeout) and wait < limit:
                raise self._expired(where) from None
            self.notes.append(Note(NoteCode.CALL_TIMED_OUT, f"{where} did not finish within {exc.seconds:g} s and "
                                   "was stopped") if isinstance(exc, StudentTimeout)
                              else Note(NoteCode.CALL_CRASHED, f"{where} stopped: {exc.reason}"))
            raise
        try:
            return read_reply(reply, request, where, limit, expect,
                              lambda node: self._decode(node, proc.last_frame_size, proc.last_deadline))
        except Violation as exc:
            proc.kill()
            self.notes.append(Note(NoteCode.PROTOCOL, f"{where}: the process broke the grader's protocol ({exc})"))
            raise protocol_crash(where, str(exc)) from None

    def _decode(self, node: Any, frame_size: int, deadline: float | None = None) -> Any:
        return decode_value(self, node, self._gen, frame_size, deadline)

    def _encode(self, value: Any) -> Any:
        return encode_value(value, self._pin)

    def _ref(self, handle: Handle) -> Any:
        if handle._root[0] == protocol.HANDLE and handle._gen != self._gen:
            raise StudentCrashed(handle._describe(), "this object was lost when your process was restarted")
        return (handle._root, list(handle._path))

    def _pin(self, handle: Handle) -> Any:
        if handle._root[0] == protocol.HANDLE and not handle._path:
            self._ref(handle)
            return handle._root
        pinned = self._request((protocol.PIN, self._ref(handle)), f"`{handle._describe()}`", expect="handle")
        return pinned._root

    def _call(self, handle: Handle, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        where = f"`{handle._describe()}`"
        ref = self._ref(handle)
        self._live()
        return self._request((protocol.CALL, ref, self._encode(list(args)), self._encode(dict(kwargs))), where)

    def _fetch(self, handle: Handle) -> Any:
        self._live()
        return self._request((protocol.FETCH, self._ref(handle)), f"`{handle._describe()}`")

    # --- the suite-facing API ------------------------------------------------
    def __getattr__(self, name: str) -> Handle:
        if name.startswith("_"):
            raise AttributeError(name)
        return global_handle(self, name)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the notebook's global function ``name``."""
        return self._call(global_handle(self, name), args, kwargs)

    def get(self, name: str) -> Any:
        """The value of the notebook's global ``name``."""
        return self._fetch(global_handle(self, name))

    @property
    def preloaded(self) -> tuple[str, ...]:
        """Modules the zygote imported before it forked this student (the grader's set-up, not the student's)."""
        return tuple(self._zygote_source().preloaded)

    def has(self, name: str) -> bool:
        """Whether the notebook defines ``name``."""
        self._live()
        return bool(self._request((protocol.HAS, name), f"`{name}`", expect="bool"))

    def send(self, value: Any) -> Handle:
        """Copy ``value`` into the student process; a handle to the copy."""
        self._live()
        return self._request((protocol.SEND, self._encode(value)), "sending a value",  # type: ignore[no-any-return]
                             expect="handle")

    def helper(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Run ``name`` from the assignment's ``student_helpers.py`` inside the student process."""
        self._live()
        return self._request((protocol.HELPER, name, self._encode(list(args)), self._encode(dict(kwargs))),
                             f"the grader's helper {name}")

    @contextlib.contextmanager
    def time_limit(self, seconds: float) -> Iterator[None]:
        """Calls inside this block may each run ``seconds``."""
        old = self._call_timeout
        self._call_timeout = float(seconds)
        try:
            yield
        finally:
            self._call_timeout = old

    def source(self, name: str) -> str:
        """Source of the cells that define ``name`` at top level ('' when none does).

        A cell is read as IPython reads it: a function defined under ``%%time`` counts.
        """
        return defining_cells([src for _, src in self._cells], name)

    def solution_sources(self) -> list[str]:
        """Sources of the notebook's solution cells (for static checks such as forbidden imports)."""
        return list(self._solution_cells)
