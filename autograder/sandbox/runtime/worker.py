"""The student side's entry point and call server.

Run as ``python -I worker.py ZYGOTE_FD`` (by :mod:`autograder.sandbox.zygote`, possibly
inside bubblewrap): the zygote, its keepers and the confinement of each student process
are in ``spawn.py``; each student process then serves one submission here
(:class:`Student`): it runs the notebook's cells and answers the grader's calls over its
socket, in the frames and message names of ``protocol.py``. Nothing here decides a score:
the grader only takes values from this process.

Imports nothing from the ``autograder`` package (it is hidden from this process).
"""

from __future__ import annotations

import builtins
import io
import os
import re
import socket
import sys
import traceback
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves the script's folder out
import codec
import protocol
import spawn

MAX_TEXT = 64 * 1024
send = protocol.write_frame  # one frame to the grader


# --- the student process -----------------------------------------------------

class _CappedText(io.TextIOBase):
    """A text sink that keeps the first ``limit`` characters and counts the rest."""

    def __init__(self, limit: int) -> None:
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0
        self.limit = limit

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        s = str(s)
        room = self.limit - self.size
        if room > 0:
            self.parts.append(s[:room])
            self.size += min(room, len(s))
        self.dropped += max(0, len(s) - max(room, 0))
        return len(s)

    def text(self) -> str:
        out = "".join(self.parts)
        if self.dropped:
            out += f"\n[... {self.dropped} more characters of output were dropped]\n"
        return out


class Student:
    """Runs cells and answers calls for one submission."""

    def __init__(self, sock: socket.socket, settings: dict[str, Any]) -> None:
        self.sock = sock
        self.settings = settings
        self.handles: dict[int, Any] = {}
        self.next_id = 1
        self.helpers: dict[str, Any] = {}
        import shell as ipyshell

        # IPython's shell, built in the zygote before the fork and never used there: it has run
        # nothing; its namespace is a fresh __main__ module (sys.modules["__main__"])
        self.shell = ipyshell.take()
        self.ns = self.shell.user_ns
        self.device = settings.get("device", "cpu")
        self.output_limit = int(settings.get("output_bytes", MAX_TEXT))

    # handles
    def _make_handle(self, obj: Any) -> Any:
        hid = self.next_id
        self.next_id += 1
        self.handles[hid] = obj
        return (protocol.HANDLE, hid, type(obj).__name__)

    def _resolve(self, node: Any) -> Any:
        hid = node[1]
        if hid not in self.handles:
            raise KeyError(f"unknown handle {hid}")
        return self.handles[hid]

    def _device_map(self, device: str) -> str:
        return device

    def encode(self, value: Any) -> Any:
        return codec.encode(value, self._make_handle)

    def decode(self, node: Any) -> Any:
        return codec.decode(node, self._resolve, self._device_map)

    def serve(self) -> None:
        send(self.sock, (protocol.HELLO, os.getpid()))
        while True:
            try:
                request, _ = protocol.read_frame(self.sock)
            except (EOFError, OSError, protocol.FrameError):
                return
            try:
                reply = self.handle(request)
            except _StudentRaised as exc:
                if exc.missing:
                    reply = (protocol.MISSING, exc.missing)
                else:
                    reply = (protocol.ERR, exc.type_name, exc.detail, exc.tb)
            except BaseException as exc:  # a fault in the request itself
                reply = (protocol.FAULT, f"{type(exc).__name__}: {exc}")
            try:
                send(self.sock, reply)
            except BaseException:
                reply = (protocol.FAULT, "the reply could not be encoded")
                send(self.sock, reply)

    def handle(self, request: Any) -> Any:
        op = request[0]
        if op == protocol.RUN:
            return self.run_cells(request[1])
        if op == protocol.HAS:
            return (protocol.OK, ("v", request[1] in self.ns))
        if op == protocol.CALL:
            target = self.resolve_ref(request[1])
            args = self.decode(request[2])
            kwargs = self.decode(request[3])
            result = self.guarded(lambda: target(*args, **kwargs))
            return (protocol.OK, self.encode(result))
        if op == protocol.FETCH:
            value = self.resolve_ref(request[1])
            if codec.is_standard_module(value):
                return (protocol.OK, codec.encode_module(value))
            return (protocol.OK, self.encode(value))
        if op == protocol.PIN:
            return (protocol.OK, self._make_handle(self.resolve_ref(request[1])))
        if op == protocol.SEND:
            value = self.decode(request[1])
            return (protocol.OK, self._make_handle(value))
        if op == protocol.HELPERS:
            namespace: dict[str, Any] = {"__name__": "nngrade_student_helpers", "__builtins__": builtins}
            exec(compile(request[1], "<student_helpers>", "exec"), namespace)
            self.helpers = namespace
            return (protocol.OK, ("v", None))
        if op == protocol.HELPER:
            fn = self.helpers.get(request[1])
            if fn is None:
                raise KeyError(f"no helper {request[1]}")
            args = self.decode(request[2])
            kwargs = self.decode(request[3])
            result = self.guarded(lambda: fn(*args, **kwargs))
            return (protocol.OK, self.encode(result))
        raise ValueError(f"unknown request {op!r}")

    def resolve_ref(self, ref: Any) -> Any:
        root, path = ref
        if root[0] == protocol.GLOBAL:
            name = root[1]
            if name not in self.ns:
                raise _StudentRaised("NameError", f"name '{name}' is not defined", "", missing=name)
            obj = self.ns[name]
        else:
            obj = self._resolve(root)
        for attr in path:
            obj = self.guarded(lambda o=obj, a=attr: getattr(o, a))
        return obj

    def guarded(self, fn: Any) -> Any:
        out = _CappedText(MAX_TEXT)
        old = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = out
        try:
            return fn()
        except _StudentRaised:
            raise
        except BaseException as exc:
            raise _StudentRaised.from_exception(exc) from None
        finally:
            sys.stdout, sys.stderr = old

    # cells
    def run_cells(self, cells: Any) -> Any:
        for index, source in cells:
            send(self.sock, (protocol.CELL_START, index))
            outputs = self.run_cell(int(index), str(source))
            send(self.sock, (protocol.CELL_DONE, index, outputs))
        return (protocol.OK, ("v", None))

    def run_cell(self, index: int, source: str) -> list[Any]:
        """Run one cell with IPython's InteractiveShell, as Jupyter would; what it displayed, capped.

        Nothing the cell does ends the notebook: errors, ``SystemExit``, ``exit()`` and
        ``KeyboardInterrupt`` become outputs and the next cell runs.
        """
        return self.shell.run(source, self.output_limit)


_CELL_NAME = re.compile(r'"?<ipython-input-(\d+)-[0-9a-f]+>"?')


class _StudentRaised(Exception):
    def __init__(self, type_name: str, detail: str, tb: str, missing: str | None = None) -> None:
        super().__init__(type_name)
        self.type_name = type_name
        self.detail = detail
        self.tb = tb
        self.missing = missing

    @classmethod
    def from_exception(cls, exc: BaseException) -> _StudentRaised:
        try:
            type_name = type(exc).__name__
            detail = str(exc)
        except BaseException:
            type_name, detail = "Exception", "(unprintable)"
        if isinstance(exc, SystemExit):
            detail = f"the code called exit({exc.code!r})"
        try:
            frames = [f for f in traceback.extract_tb(exc.__traceback__)
                      if f.filename.startswith(("<cell ", "<ipython-input-"))]
            tb = _CELL_NAME.sub(r"Cell In[\1]", "".join(traceback.format_list(frames[-5:])))
        except BaseException:
            tb = ""
        return cls(str(type_name)[:100], str(detail)[:500], tb[:4000])


def serve(sock: socket.socket, settings: dict[str, Any]) -> None:
    """What each student process does once confined: answer the grader until it hangs up."""
    Student(sock, settings).serve()


if __name__ == "__main__":
    spawn.zygote(int(sys.argv[1]), serve)
