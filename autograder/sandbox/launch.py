"""Child processes that must live as long as this process, started from a thread that does.

bubblewrap's ``--die-with-parent`` (``PR_SET_PDEATHSIG``) kills the sandbox when the *thread*
that forked it ends, not the process: a zygote started from a short-lived thread (an early
start, a warm-up beside loading the suites) was killed the moment that thread returned, and the
first submission graded then paid for a second zygote. :func:`start_lasting` runs the start on
one thread per process (a one-thread ``ThreadPoolExecutor``, idle between starts, joined only
when the interpreter exits), so a zygote dies with this process and only then. After a fork,
the child makes its own such thread when it first needs one (the executor it inherited has none).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")

_LOCK = threading.Lock()
_LAUNCHER: tuple[int, ThreadPoolExecutor] | None = None  # (the process it belongs to, its one thread)


def start_lasting(start: Callable[[], T]) -> T:
    """Call ``start`` (which forks a child process) on this process's lasting thread; its result."""
    global _LAUNCHER
    with _LOCK:
        if _LAUNCHER is None or _LAUNCHER[0] != os.getpid():  # none yet, or inherited through a fork
            _LAUNCHER = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="nngrade-launcher"))
        launcher = _LAUNCHER[1]
    return launcher.submit(start).result()
