"""One student process, as the grader holds it: started from the zygote, spoken to in frames.

Every wait has a deadline, and anything wrong on the socket (a hang, a closed socket, an
oversized or malformed frame) kills the process and becomes the student's error, in the
grader's own words: a violation ends that student only.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from autograder.errors import GraderFault, StudentCrashed, StudentTimeout
from autograder.sandbox.runtime import protocol
from autograder.sandbox.zygote import Zygote

CRASH_REASON = "the process ended (exit(), os._exit, a signal, or a memory or CPU limit)"
GREETING_TIMEOUT = 30.0  # seconds for a new student process to say hello


class StudentProcess:
    """One student process and its socket.

    No student code has run when the greeting arrives, so a process that cannot be started,
    or greets wrongly, is the grader's or the machine's fault (:class:`GraderFault`); it is
    killed either way.

    Attributes:
        pids: the student's pid, then its keeper's (what the zygote kills).
        status: the isolation status its keeper reported.
        alive: False once killed.
        last_frame_size: the size of the last frame received (what decoding it may cost).
        last_deadline: the deadline of the last receive (decoding must finish by then too).
    """

    def __init__(self, zygote: Zygote, settings: dict[str, Any]) -> None:
        self.zygote = zygote
        self.pids, self.status, self.sock = zygote.spawn(settings)
        self.alive = True
        self.last_frame_size = 0
        self.last_deadline = 0.0
        try:
            hello = self.recv(GREETING_TIMEOUT, "starting your notebook")
        except BaseException as exc:
            self.kill()
            raise GraderFault(f"a student process did not start ({type(exc).__name__})") from None
        if type(hello) is not tuple or len(hello) != 2 or hello[0] != protocol.HELLO:
            self.kill()
            raise GraderFault("a student process sent an unexpected greeting")

    def send(self, tree: Any) -> None:
        """Send one request; a process that cannot take it has crashed (and is killed)."""
        try:
            protocol.write_frame(self.sock, tree)
        except OSError:
            self.kill()
            raise StudentCrashed("the grader's request", CRASH_REASON) from None

    def recv(self, timeout: float, where: str) -> Any:
        """One frame, read and unpickled within ``timeout`` (kept as ``last_deadline`` for decoding).

        Raises:
            StudentTimeout: nothing complete arrived in time.
            StudentCrashed: the process ended, or sent an oversized or malformed frame.
        """
        deadline = time.monotonic() + timeout
        self.last_deadline = deadline
        try:
            tree, size = protocol.read_frame(self.sock, deadline)
        except TimeoutError:
            self.kill()
            raise StudentTimeout(where, timeout) from None
        except (EOFError, OSError):
            self.kill()
            raise StudentCrashed(where, CRASH_REASON) from None
        except protocol.FrameTooLarge:
            self.kill()
            raise StudentCrashed(where, "the process sent an oversized reply") from None
        except protocol.FrameError as exc:
            self.kill()
            raise StudentCrashed(where, f"the process sent a malformed reply ({exc})") from None
        self.last_frame_size = size
        return tree

    def kill(self) -> None:
        """Kill the process (the student first: its PID namespace goes with it) and close the socket."""
        if self.alive:
            self.alive = False
            self.zygote.kill(self.pids)
            with contextlib.suppress(OSError):
                self.sock.close()
