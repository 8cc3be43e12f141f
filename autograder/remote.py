"""The grader's view of a submission: a remote object backed by a sandboxed process.

:class:`Submission` is what the hidden suites receive as the ``student``
fixture. It starts a student process from the warm zygote, runs the notebook's
cells there, and turns attribute access and calls into requests. Results come
back as values (see :mod:`autograder._runtime.codec`) or as :class:`Handle`
objects for things that must stay in the student process.

A cell that hangs or kills its process is skipped and the notebook is run
again in a fresh process without it; a check whose call hangs or crashes fails
alone, and the next call gets a fresh process. Every restart is counted and
reported.
"""

from __future__ import annotations

import ast
import contextlib
import re
import select
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from autograder._runtime import codec
from autograder.config import GraderConfig
from autograder.errors import (
    GraderFault,
    GradingDeadline,
    MissingName,
    StudentCrashed,
    StudentError,
    StudentTimeout,
)
from autograder.sandbox import Zygote

CRASH_REASON = "the process ended (exit(), os._exit, a signal, or a memory or CPU limit)"
START_ATTEMPTS = 3  # tries to start a student process (each may use a fresh zygote) before it is the grader's fault
_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


class _Violation(Exception):
    """Something the student process sent breaks the protocol (its text is the grader's own words)."""


def _protocol(where: str, what: str) -> StudentCrashed:
    return StudentCrashed(where, f"the process broke the grader's protocol ({what}); it was stopped")


@dataclass
class CellRun:
    """What one notebook cell did in the student process (display only; never graded)."""

    index: int
    outputs: list[Any] = field(default_factory=list)
    status: str = "ok"  # ok | error | timeout | crashed | skipped
    seconds: float = 0.0


class _Process:
    """One student process and its socket.

    No student code has run when the greeting arrives, so a process that cannot be started,
    or greets wrongly, is the grader's or the machine's fault (:class:`GraderFault`); it is
    killed either way.
    """

    def __init__(self, zygote: Zygote, settings: dict[str, Any]) -> None:
        self.zygote = zygote
        self.pids, self.status, self.sock = zygote.spawn(settings)
        self.alive = True
        self.last_frame_size = 0
        self.last_deadline = 0.0
        try:
            hello = self.recv(30.0, "starting your notebook")
        except BaseException as exc:
            self.kill()
            raise GraderFault(f"a student process did not start ({type(exc).__name__})") from None
        if type(hello) is not tuple or len(hello) != 2 or hello[0] != "hello":
            self.kill()
            raise GraderFault("a student process sent an unexpected greeting")

    def send(self, tree: Any) -> None:
        try:
            self.sock.sendall(codec.dumps(tree))
        except OSError:
            self.kill()
            raise StudentCrashed("the grader's request", CRASH_REASON) from None

    def recv(self, timeout: float, where: str) -> Any:
        """One frame, read and unpickled within ``timeout`` (kept as ``last_deadline`` for decoding)."""
        deadline = time.monotonic() + timeout
        self.last_deadline = deadline
        head = self._read(8, deadline, where, timeout)
        (size,) = struct.unpack("!Q", head)
        if size > codec.MAX_FRAME:
            self.kill()
            raise StudentCrashed(where, "the process sent an oversized reply")
        body = self._read(size, deadline, where, timeout)
        self.last_frame_size = size
        try:
            return codec.loads(body)
        except codec.CodecError as exc:
            self.kill()
            raise StudentCrashed(where, f"the process sent a malformed reply ({exc})") from None

    def _read(self, n: int, deadline: float, where: str, timeout: float) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                self.kill()
                raise StudentTimeout(where, timeout)
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                continue
            try:
                chunk = self.sock.recv(min(n - len(buf), 1 << 20))
            except OSError:
                chunk = b""
            if not chunk:
                self.kill()
                raise StudentCrashed(where, CRASH_REASON)
            buf += chunk
        return bytes(buf)

    def kill(self) -> None:
        if self.alive:
            self.alive = False
            self.zygote.kill(self.pids)  # the student first: its PID namespace goes with it
            with contextlib.suppress(OSError):
                self.sock.close()


class Handle:
    """A value that stays in the student process: call it, take attributes, or ``fetch()`` it."""

    __slots__ = ("_sub", "_root", "_path", "_type", "_gen")

    def __init__(self, sub: "Submission", root: Any, path: tuple[str, ...], type_name: str, gen: int) -> None:
        self._sub = sub
        self._root = root
        self._path = path
        self._type = type_name
        self._gen = gen

    def __getattr__(self, name: str) -> "Handle":
        if name.startswith("__"):
            raise AttributeError(name)
        return Handle(self._sub, self._root, self._path + (name,), "", self._gen)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._sub._call(self, args, kwargs)

    def fetch(self) -> Any:
        """The remote value itself (standard torch modules are rebuilt from their spec)."""
        return self._sub._fetch(self)

    def _describe(self) -> str:
        base = self._root[1] if self._root[0] == "g" else (self._type or "object")
        return ".".join((str(base),) + self._path)

    def __repr__(self) -> str:
        return f"<student {self._describe()}>"

    def __bool__(self) -> bool:
        raise TypeError("a student-side object has no truth value here; fetch() it first")


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
        self._proc: _Process | None = None
        self._gen = 0
        self._skip: set[int] = set()
        self._call_timeout = config.call_timeout
        self.restarts = 0
        self.notes: list[str] = []
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

    def _start(self) -> "_Process":
        """A fresh student process; after START_ATTEMPTS failures, the grader's fault."""
        problem = ""
        for attempt in range(START_ATTEMPTS):
            try:
                return _Process(self._zygote_source(), self._config.student_settings())
            except Exception as exc:  # no process could be started (zygote gone, no pids left, ...)
                problem = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
                time.sleep(0.2 * (attempt + 1))
        raise self._fault(f"no student process could be started ({problem})")

    def _zygote_died(self, proc: "_Process") -> GraderFault | None:
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
            order = [i for i, _ in self._cells if i not in self._skip]
            k, in_cell = 0, False
            current: int | None = order[0] if order else None
            now = time.monotonic()
            notebook_deadline = min(now + self._config.notebook_timeout, self._deadline)
            cell_deadline = now + self._config.cell_timeout
            try:
                proc.send(("run", [(i, s) for i, s in self._cells if i not in self._skip]))
                while True:
                    # absolute deadlines: frames that keep arriving do not extend them
                    deadline = min(cell_deadline, notebook_deadline)
                    timeout = max(0.01, deadline - time.monotonic())
                    where = f"cell {current}" if current is not None else "your notebook"
                    msg = proc.recv(timeout, where)
                    kind = msg[0] if type(msg) is tuple and msg else None
                    index = msg[1] if kind in ("cell_start", "cell_done") and len(msg) > 1 else None
                    if kind == "cell_start" and not in_cell and k < len(order) and index == order[k]:
                        in_cell, cell_started = True, time.monotonic()
                        cell_deadline = cell_started + self._config.cell_timeout
                    elif kind == "cell_done" and in_cell and index == order[k] and len(msg) == 3:
                        self._record(order[k], msg[2], time.monotonic() - cell_started)
                        in_cell, k = False, k + 1
                        current = order[k] if k < len(order) else None
                        cell_deadline = time.monotonic() + self._config.cell_timeout
                    elif kind == "ok" and k == len(order):
                        break
                    else:
                        proc.kill()
                        raise StudentCrashed(where, "the process sent something the grader did not ask for")
                if self._helpers:
                    self._load_helpers(proc)
            except (StudentTimeout, StudentCrashed) as exc:
                proc.kill()
                fault = self._zygote_died(proc)
                if fault is not None:
                    raise fault from None
                if self._remaining() <= 0:
                    raise self._expired(f"cell {current}" if current is not None else "your notebook") from None
                if current is None:
                    raise
                self._skip.add(current)
                status = "timeout" if isinstance(exc, StudentTimeout) else "crashed"
                run = self.cell_runs.setdefault(current, CellRun(current))
                run.status = status
                run.outputs = [("error", "Timeout" if status == "timeout" else "ProcessDied",
                                str(exc) + "; this cell was skipped at grading", "")]
                what = (f"ran past {exc.seconds:g} s" if isinstance(exc, StudentTimeout)
                        else "ended the process")
                self.notes.append(f"cell {current} {what}; it was skipped and the notebook re-run without it")
                continue
            except BaseException:
                proc.kill()  # never leave a live process behind, whatever went wrong
                raise
            self._proc = proc
            return

    def _load_helpers(self, proc: "_Process") -> None:
        """Run the assignment's student_helpers.py in the student process; any reply but ``ok`` ends it."""
        where = "loading the grader's helpers"
        proc.send(("helpers", self._helpers))
        reply = proc.recv(max(0.01, min(30.0, self._remaining())), where)
        if type(reply) is not tuple or len(reply) != 2 or type(reply[0]) is not str:
            proc.kill()
            raise _protocol(where, "a reply that is not a (kind, value) pair")
        if reply[0] != "ok":
            proc.kill()
            raise StudentCrashed(where, "the grader's helpers could not be loaded in your process "
                                 "(did your notebook replace a builtin?)")

    def _record(self, index: int, outputs: Any, seconds: float) -> None:
        """Keep what a cell displayed, checked and capped here (the student's own caps are not trusted)."""
        if index in self.cell_runs:
            return
        from autograder.cell_outputs import keep

        kept = keep(outputs, self._config.output_kb * 1024)
        status = "error" if any(o[0] == "error" for o in kept) else "ok"
        self.cell_runs[index] = CellRun(index, kept, status, seconds)

    def _live(self) -> _Process:
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
            self.notes.append(f"{where} did not finish within {exc.seconds:g} s and was stopped"
                              if isinstance(exc, StudentTimeout) else f"{where} stopped: {exc.reason}")
            raise
        try:
            return self._reply(proc, reply, request, where, limit, expect)
        except _Violation as exc:
            proc.kill()
            self.notes.append(f"{where}: the process broke the grader's protocol ({exc})")
            raise _protocol(where, str(exc)) from None

    def _reply(self, proc: _Process, reply: Any, request: Any, where: str, limit: float, expect: str) -> Any:
        """The value in ``reply``, or the student's error; ``_Violation`` for anything malformed."""
        if type(reply) is not tuple or not reply or type(reply[0]) is not str:
            raise _Violation("a reply that is not a (kind, ...) tuple")
        kind = reply[0]
        texts = all(type(x) is str for x in reply[1:])
        if kind == "ok" and len(reply) == 2:
            try:
                value = self._decode(reply[1], proc.last_frame_size, proc.last_deadline)
            except codec.DecodeTimeout:
                raise StudentTimeout(where, limit) from None
            except _Violation:
                raise
            except codec.CodecError as exc:
                raise StudentError("InvalidValue", f"the value could not be received safely ({exc})",
                                   where) from None
            except Exception as exc:  # anything the checks above missed is still the value's fault
                raise StudentError("InvalidValue", "the value could not be received safely "
                                   f"({type(exc).__name__})", where) from None
            if expect == "handle" and not isinstance(value, Handle):
                raise _Violation("a value where the grader expected a handle")
            if expect == "bool" and type(value) is not bool:
                raise _Violation("a non-boolean answer to a yes/no request")
            return value
        if kind == "missing" and len(reply) == 2 and texts:
            name = self._asked_name(request)
            if name is None:
                raise _Violation("a 'missing name' reply to a request that names none")
            raise MissingName(name)
        if kind == "err" and len(reply) == 4 and texts:
            raise StudentError(reply[1][:100], reply[2][:500], where)
        if kind == "fault" and len(reply) == 2 and texts:
            raise StudentError("InvalidValue", reply[1][:300], where)
        raise _Violation(f"an unexpected {kind[:20]!r} reply" if kind in ("ok", "missing", "err", "fault")
                         else "a reply of an unknown kind")

    @staticmethod
    def _asked_name(request: Any) -> str | None:
        """The notebook global a request looks up (what a 'missing' reply may be about), if any."""
        if request[0] in ("call", "fetch", "pin"):
            root = request[1][0]
            return str(root[1]) if root[0] == "g" else None
        return None

    def _decode(self, node: Any, frame_size: int, deadline: float | None = None) -> Any:
        gen = self._gen

        def resolve(hnode: Any) -> Handle:
            if (type(hnode) is not tuple or len(hnode) != 3 or type(hnode[1]) is not int or hnode[1] < 0
                    or type(hnode[2]) is not str):
                raise _Violation("a malformed handle")
            type_name = hnode[2] if _SAFE_NAME.fullmatch(hnode[2]) else "object"
            return Handle(self, ("h", hnode[1]), (), type_name, gen)

        def device_map(device: str) -> str:
            if device.startswith("cuda"):
                try:
                    import torch

                    return device if torch.cuda.is_available() else "cpu"
                except ImportError:
                    return "cpu"
            return device

        return codec.decode(node, resolve, device_map, budget=codec.Budget(frame_size, deadline))

    def _encode(self, value: Any) -> Any:
        def make_handle(obj: Any) -> Any:
            if isinstance(obj, Handle):
                return self._pin(obj)
            if codec.is_standard_module(obj):
                return codec.encode_module(obj)
            raise codec.CodecError(f"the grader cannot send a {type(obj).__name__}")

        return codec.encode(value, make_handle)

    def _ref(self, handle: Handle) -> Any:
        if handle._root[0] == "h" and handle._gen != self._gen:
            raise StudentCrashed(handle._describe(), "this object was lost when your process was restarted")
        return (handle._root, list(handle._path))

    def _pin(self, handle: Handle) -> Any:
        if handle._root[0] == "h" and not handle._path:
            self._ref(handle)
            return handle._root
        pinned = self._request(("pin", self._ref(handle)), f"`{handle._describe()}`", expect="handle")
        return pinned._root

    def _call(self, handle: Handle, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        where = f"`{handle._describe()}`"
        ref = self._ref(handle)
        self._live()
        return self._request(("call", ref, self._encode(list(args)), self._encode(dict(kwargs))), where)

    def _fetch(self, handle: Handle) -> Any:
        self._live()
        return self._request(("fetch", self._ref(handle)), f"`{handle._describe()}`")

    # --- the suite-facing API ------------------------------------------------
    def __getattr__(self, name: str) -> Handle:
        if name.startswith("_"):
            raise AttributeError(name)
        return Handle(self, ("g", name), (), "", 0)

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the notebook's global function ``name``."""
        return self._call(Handle(self, ("g", name), (), "", 0), args, kwargs)

    def get(self, name: str) -> Any:
        """The value of the notebook's global ``name``."""
        return self._fetch(Handle(self, ("g", name), (), "", 0))

    @property
    def preloaded(self) -> tuple[str, ...]:
        """Modules the zygote imported before it forked this student (the grader's set-up, not the student's)."""
        return tuple(self._zygote_source().preloaded)

    def has(self, name: str) -> bool:
        """Whether the notebook defines ``name``."""
        self._live()
        return bool(self._request(("has", name), f"`{name}`", expect="bool"))

    def send(self, value: Any) -> Handle:
        """Copy ``value`` into the student process; a handle to the copy."""
        self._live()
        return self._request(("send", self._encode(value)), "sending a value",  # type: ignore[no-any-return]
                             expect="handle")

    def helper(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Run ``name`` from the assignment's ``student_helpers.py`` inside the student process."""
        self._live()
        return self._request(("helper", name, self._encode(list(args)), self._encode(dict(kwargs))),
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
        found = []
        for _, src in self._cells:
            try:
                tree = ast.parse(_strip(src))
            except SyntaxError:
                continue
            for node in tree.body:
                names = _defined(node)
                if name in names:
                    found.append(src)
                    break
        return "\n\n".join(found)

    def solution_sources(self) -> list[str]:
        """Sources of the notebook's solution cells (for static checks such as forbidden imports)."""
        return list(self._solution_cells)


def _strip(src: str) -> str:
    """The cell as the Python IPython runs (magics included, see :mod:`autograder.cells`)."""
    from autograder.cells import python_source

    return python_source(src)


def _defined(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, ast.Assign):
        return {t.id for t in node.targets if isinstance(t, ast.Name)}
    if isinstance(node, (ast.AnnAssign, ast.AugAssign)) and isinstance(node.target, ast.Name):
        return {node.target.id}
    return set()

