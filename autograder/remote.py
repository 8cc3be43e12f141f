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
import select
import struct
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from autograder._runtime import codec
from autograder.config import GraderConfig
from autograder.errors import MissingName, NNGradeError, StudentCrashed, StudentError, StudentTimeout
from autograder.sandbox import Zygote

CRASH_REASON = "the process ended (exit(), os._exit, a signal, or a memory or CPU limit)"


@dataclass
class CellRun:
    """What one notebook cell did in the student process (display only; never graded)."""

    index: int
    outputs: list[Any] = field(default_factory=list)
    status: str = "ok"  # ok | error | timeout | crashed | skipped
    seconds: float = 0.0


class _Process:
    """One student process and its socket."""

    def __init__(self, zygote: Zygote, settings: dict[str, Any]) -> None:
        self.zygote = zygote
        self.pids, self.status, self.sock = zygote.spawn(settings)
        self.alive = True
        self.last_frame_size = 0
        hello = self.recv(30.0, "starting your notebook")
        if hello[0] != "hello":
            self.kill()
            raise StudentCrashed("starting your notebook", "the process sent an unexpected greeting")

    def send(self, tree: Any) -> None:
        try:
            self.sock.sendall(codec.dumps(tree))
        except OSError:
            self.kill()
            raise StudentCrashed("the grader's request", CRASH_REASON) from None

    def recv(self, timeout: float, where: str) -> Any:
        deadline = time.monotonic() + timeout
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

    # --- lifecycle -----------------------------------------------------------
    def boot(self) -> None:
        """Start a process and run the notebook in it (skipping cells that hung or crashed before)."""
        while True:
            if self._gen > self._config.max_restarts:
                self._gave_up = True
                raise StudentCrashed("your notebook", f"it needed more than {self._config.max_restarts} "
                                     "fresh processes; the remaining checks were not run")
            self._gen += 1
            if self._gen > 1:
                self.restarts += 1
            try:
                proc = _Process(self._zygote_source(), self._config.student_settings())
            except NNGradeError as exc:  # no process could be started for this attempt
                self.notes.append(f"starting a student process failed: {exc}")
                continue
            self.isolation_status = proc.status
            order = [i for i, _ in self._cells if i not in self._skip]
            k, in_cell = 0, False
            current: int | None = order[0] if order else None
            now = time.monotonic()
            notebook_deadline = now + self._config.notebook_timeout
            cell_deadline = now + self._config.cell_timeout
            try:
                proc.send(("run", [(i, s) for i, s in self._cells if i not in self._skip]))
                while True:
                    # absolute deadlines: frames that keep arriving do not extend them
                    deadline = min(cell_deadline, notebook_deadline)
                    timeout = max(0.01, deadline - time.monotonic())
                    where = f"cell {current}" if current is not None else "your notebook"
                    msg = proc.recv(timeout, where)
                    kind = msg[0] if isinstance(msg, tuple) and msg else None
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
                    proc.send(("helpers", self._helpers))
                    reply = proc.recv(30.0, "loading the grader's helpers")
                    if reply[0] != "ok":
                        raise StudentCrashed("loading the grader's helpers", str(reply[1:])[:200])
            except (StudentTimeout, StudentCrashed) as exc:
                proc.kill()
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
            self._proc = proc
            return

    def _record(self, index: int, outputs: Any, seconds: float) -> None:
        """Keep what a cell displayed, checked and capped here (the student's own caps are not trusted)."""
        if index in self.cell_runs:
            return
        from autograder.cell_outputs import keep

        kept = keep(outputs, self._config.output_kb * 1024)
        status = "error" if any(o[0] == "error" for o in kept) else "ok"
        self.cell_runs[index] = CellRun(index, kept, status, seconds)

    def _live(self) -> _Process:
        if self._gave_up:
            raise StudentCrashed("your notebook", "it needed too many fresh processes; this check was not run")
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
    def _request(self, request: Any, where: str, timeout: float | None = None) -> Any:
        proc = self._live()
        proc.send(request)
        try:
            reply = proc.recv(timeout or self._call_timeout, where)
        except (StudentTimeout, StudentCrashed) as exc:
            self.notes.append(f"{where}: {exc}")
            raise
        if not isinstance(reply, tuple) or len(reply) < 2:
            raise StudentError("InvalidValue", "the process sent a malformed reply", where)
        kind = reply[0]
        if kind == "ok":
            try:
                return self._decode(reply[1], proc.last_frame_size)
            except codec.CodecError as exc:
                raise StudentError("InvalidValue", f"the value could not be received safely ({exc})",
                                   where) from None
        if kind == "missing":
            raise MissingName(str(reply[1]))
        if kind == "err" and len(reply) >= 3:
            raise StudentError(str(reply[1])[:100], str(reply[2])[:500], where)
        raise StudentError("InvalidValue", str(reply[1])[:300], where)

    def _decode(self, node: Any, frame_size: int) -> Any:
        gen = self._gen

        def resolve(hnode: Any) -> Handle:
            if len(hnode) < 2 or type(hnode[1]) is not int:
                raise codec.CodecError("malformed handle")
            return Handle(self, ("h", hnode[1]), (), str(hnode[2])[:100] if len(hnode) > 2 else "", gen)

        def device_map(device: str) -> str:
            if device.startswith("cuda"):
                try:
                    import torch

                    return device if torch.cuda.is_available() else "cpu"
                except ImportError:
                    return "cpu"
            return device

        return codec.decode(node, resolve, device_map, budget=codec.Budget(frame_size))

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
        pinned = self._request(("pin", self._ref(handle)), f"`{handle._describe()}`")
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

    def has(self, name: str) -> bool:
        """Whether the notebook defines ``name``."""
        self._live()
        return bool(self._request(("has", name), f"`{name}`"))

    def send(self, value: Any) -> Handle:
        """Copy ``value`` into the student process; a handle to the copy."""
        self._live()
        return self._request(("send", self._encode(value)), "sending a value")  # type: ignore[no-any-return]

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

