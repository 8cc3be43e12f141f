"""Child processes that must live as long as this process, started from a thread that does.

bubblewrap's ``--die-with-parent`` (``PR_SET_PDEATHSIG``) kills the sandbox when the *thread*
that forked it ends, not the process: a zygote started from a short-lived thread (an early
start, a warm-up beside loading the suites) was killed the moment that thread returned, and the
first submission graded then paid for a second zygote. :func:`start_lasting` runs the start on
one daemon thread per process that never returns, so a zygote dies with this process and only
then. After a fork, the child starts its own such thread when it first needs one.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")

_LOCK = threading.Lock()
_LAUNCHER: tuple[int, queue.SimpleQueue[tuple[Callable[[], object], Future[object]]]] | None = None


def _serve(requests: queue.SimpleQueue[tuple[Callable[[], object], Future[object]]]) -> None:
    while True:
        start, done = requests.get()
        try:
            done.set_result(start())
        except BaseException as exc:  # handed to the caller's thread
            done.set_exception(exc)


def start_lasting(start: Callable[[], T]) -> T:
    """Call ``start`` (which forks a child process) on this process's lasting thread; its result."""
    global _LAUNCHER
    with _LOCK:
        if _LAUNCHER is None or _LAUNCHER[0] != os.getpid():  # none yet, or inherited through a fork
            requests: queue.SimpleQueue[tuple[Callable[[], object], Future[object]]] = queue.SimpleQueue()
            threading.Thread(target=_serve, args=(requests,), name="nngrade-launcher", daemon=True).start()
            _LAUNCHER = (os.getpid(), requests)
        requests = _LAUNCHER[1]
    done: Future[object] = Future()
    requests.put((start, done))
    return done.result()  # type: ignore[return-value]
