"""The grader <-> student-process protocol: every message name, and the frame format.

Used by both sides: the grader imports it as ``autograder.sandbox.runtime.protocol``; the
student side (``worker.py``, loaded by path in the sandbox) as ``protocol``. It imports the
standard library only.

A frame is an 8-byte big-endian length, then a pickle (protocol 4) of a tree of builtin
primitives. A frame longer than :data:`MAX_FRAME` is refused before it is read, and a body
is unpickled with an unpickler that refuses every global, so no frame can make the reader
import or call anything. Every message is a tuple whose first item is one of the names
below; what the fields of each mean is documented where it is built.

Three conversations use frames:

- grader -> zygote (control socket): ``(SPAWN, settings)`` with the student's socket passed
  along (SCM_RIGHTS), answered ``(SPAWNED, keeper_pid, status, student_pid)``;
  ``(KILL, pids)``, answered ``(KILLED,)``; ``(EXIT,)``. The zygote greets with
  ``(READY, pid, preloaded_modules)``.
- grader -> student: the student greets with ``(HELLO, pid)``; requests are ``RUN``,
  ``HAS``, ``CALL``, ``FETCH``, ``PIN``, ``SEND``, ``HELPERS``, ``HELPER``; while ``RUN``
  runs cells the student reports ``(CELL_START, index)`` and ``(CELL_DONE, index, outputs)``;
  every request ends with one reply: ``(OK, value)``, ``(ERR, type, detail, traceback)``,
  ``(MISSING, name)`` or ``(FAULT, text)``.
- keeper -> zygote, and student -> keeper: one line on a pipe (not a frame):
  ``CONFINED`` from a student that has confined itself, ``"<status> <student pid>"`` or
  ``FAILED + " <why>"`` from the keeper.
"""

from __future__ import annotations

import io
import pickle
import select
import socket
import struct
import time
from typing import Any

# --- zygote control ------------------------------------------------------------------------
READY = "ready"
SPAWN = "spawn"
SPAWNED = "spawned"
KILL = "kill"
KILLED = "killed"
EXIT = "exit"

# --- the keeper's and the student's one-line reports (pipes) ---------------------------------
CONFINED = "confined"
FAILED = "failed:"
ISOLATION_ON = "on"
ISOLATION_OFF = "off"

# --- grader -> student requests --------------------------------------------------------------
HELLO = "hello"
RUN = "run"
HAS = "has"
CALL = "call"
FETCH = "fetch"
PIN = "pin"
SEND = "send"
HELPERS = "helpers"
HELPER = "helper"
REQUESTS = frozenset({RUN, HAS, CALL, FETCH, PIN, SEND, HELPERS, HELPER})

# --- student -> grader -----------------------------------------------------------------------
CELL_START = "cell_start"
CELL_DONE = "cell_done"
OK = "ok"
ERR = "err"
MISSING = "missing"
FAULT = "fault"
REPLIES = frozenset({OK, ERR, MISSING, FAULT})

# --- references to student-side objects in requests: (root, attribute path) -------------------
GLOBAL = "g"  # root ("g", name): a global of the notebook
HANDLE = "h"  # root ("h", id): an object the student process keeps (the codec's handle node tag)

# --- frames ----------------------------------------------------------------------------------
HEADER = struct.Struct("!Q")
MAX_FRAME = 512 * 2**20  # bytes; a longer frame is refused before it is read
_CHUNK = 1 << 20


class FrameError(Exception):
    """A frame could not be read safely (too long, or not a plain pickle of primitives)."""


class FrameTooLarge(FrameError):
    """A frame's length is over :data:`MAX_FRAME`."""


class _NoGlobals(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise FrameError(f"refused global {module}.{name}")


def dumps(tree: Any) -> bytes:
    """One frame: the length, then the pickle of ``tree`` (builtin primitives only)."""
    body = pickle.dumps(tree, protocol=4)
    return HEADER.pack(len(body)) + body


def loads(body: bytes) -> Any:
    """The tree in a frame's body, refusing every global."""
    try:
        return _NoGlobals(io.BytesIO(body)).load()
    except FrameError:
        raise
    except Exception as exc:  # malformed frame
        raise FrameError(f"malformed frame: {type(exc).__name__}") from None


def write_frame(sock: socket.socket, tree: Any, fds: list[int] | None = None) -> None:
    """Send ``tree`` as one frame (with ``fds`` passed along it, SCM_RIGHTS, when given)."""
    data = dumps(tree)
    if fds:
        socket.send_fds(sock, [data], fds)
    else:
        sock.sendall(data)


def read_frame(sock: socket.socket, deadline: float | None = None,
               fds: list[int] | None = None) -> tuple[Any, int]:
    """Read one frame; ``(tree, body size)``.

    Args:
        sock: a connected stream socket.
        deadline: a ``time.monotonic()`` value by which the whole frame must have arrived
            (``TimeoutError`` past it); None waits as long as the socket does.
        fds: where file descriptors passed with the frame are collected (None: none expected).

    Raises:
        EOFError: the other side closed the socket (``OSError`` from the socket passes through).
        TimeoutError: the deadline passed.
        FrameTooLarge: the frame is longer than :data:`MAX_FRAME` (nothing of its body is read).
        FrameError: the body is not a plain pickle of primitives.
    """
    (size,) = HEADER.unpack(_read_exact(sock, HEADER.size, deadline, fds))
    if size > MAX_FRAME:
        raise FrameTooLarge("the frame is too large")
    return loads(_read_exact(sock, size, deadline, fds)), size


def _read_exact(sock: socket.socket, n: int, deadline: float | None, fds: list[int] | None) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            ready, _, _ = select.select([sock], [], [], left)
            if not ready:
                continue
        if fds is not None:
            chunk, got, _, _ = socket.recv_fds(sock, min(n - len(buf), _CHUNK), 4)
            fds.extend(got)
        else:
            chunk = sock.recv(min(n - len(buf), _CHUNK))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)
