"""The extra local grading processes: a multiprocessing fork server and the pool it feeds.

A fork server that has imported the engine (and torch when the class needs it) but runs
nothing forks each extra grading process: forking the caller is unsafe once it has run torch,
and spawning would import everything again per process. Two costs of the standard machinery
are avoided here:

- multiprocessing has each child run the parent's ``__main__`` script again (as
  ``__mp_main__``, so that functions defined there can be unpickled) when it is a file. The
  script is ``nbgrader``'s or ``nngrade``'s console script, and every function a grading
  process runs belongs to this package; while work is handed over (which is when the pool
  starts its processes), :func:`main_script_hidden` hides ``__main__.__file__``.
- The fork server ends only when its parent has exited, then finalizes its own interpreter
  (torch included) while still holding the command's standard output: :func:`stop_fork_server`
  ends it with the command instead. multiprocessing starts a new one if it is needed again.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import forkserver, get_context

from autograder.config import GraderConfig
from autograder.integrations.jobs import warm

_LAUNCH = threading.Lock()


def new_pool(config: GraderConfig, course_root: str, preload: tuple[str, ...] | None, workers: int,
             extra: int, assignments: tuple[str, ...] = ()) -> ProcessPoolExecutor:
    """``extra`` grading processes, each warmed (zygote, suites) by :func:`jobs.warm` before any job."""
    ctx = get_context("forkserver")
    torch = any(m.startswith("torch") for m in (preload or ("torch",)))
    ctx.set_forkserver_preload(["autograder.integrations.batch", "numpy"] + (["torch"] if torch else []))
    return ProcessPoolExecutor(max_workers=extra, mp_context=ctx, initializer=warm,
                               initargs=(config, course_root, preload, workers, assignments))


@contextlib.contextmanager
def main_script_hidden() -> Iterator[None]:
    """While a job is handed to the pool: a process it starts does not run the caller's script again."""
    main = sys.modules.get("__main__")
    with _LAUNCH:
        path = None
        if main is not None and getattr(main, "__spec__", None) is None:  # a script, not `python -m`
            path = main.__dict__.pop("__file__", None)
        try:
            yield
        finally:
            if path is not None and main is not None:
                main.__file__ = path


def stop_fork_server() -> None:
    """End this process's multiprocessing fork server now, if it runs (it holds no state)."""
    server = getattr(forkserver, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    if isinstance(pid, int) and pid > 0:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


atexit.register(stop_fork_server)  # at the command's end; a process that started none has nothing to stop
