"""The student side's process tree: the warm zygote, one keeper per student, the student itself.

Loaded by path in the sandbox (by ``worker.py``); imports nothing from the ``autograder``
package. The zygote imports the heavy libraries once, then waits on its control socket. For
each ``SPAWN`` request it receives a fresh socket (SCM_RIGHTS) and forks:

    zygote -> keeper (new user, mount and PID namespaces where allowed)
           -> student (PID 1 of the new namespace; rlimits; private /tmp)

The student then confines itself (``confine.py``), clears its environment and hands its
socket to the caller's ``serve`` (``worker.Student``). Killing it (the zygote does, on the
grader's request) ends its whole PID namespace, so nothing it started survives.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

import confine
import protocol

Serve = Callable[[socket.socket, dict[str, Any]], None]
SEARCH_PATH = "/usr/local/bin:/usr/bin:/bin"


def student_environment(settings: dict[str, Any]) -> dict[str, str]:
    """The whole environment of a student process (everything else is cleared)."""
    return {"PATH": SEARCH_PATH, "HOME": confine.WORK_DIR, "TMPDIR": "/tmp",
            "USER": "student", "LOGNAME": "student", "MPLBACKEND": "Agg",
            "MPLCONFIGDIR": confine.WORK_DIR + "/.config/matplotlib",
            "OMP_NUM_THREADS": str(settings.get("threads", 1)), "PYTHONHASHSEED": "0"}


# --- zygote ------------------------------------------------------------------

def zygote(control_fd: int, serve: Serve) -> None:
    """Import once, then fork a sandboxed student process per request; ``serve`` runs in each."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    _seed_matplotlib_cache()
    preload = [m for m in os.environ.get("NNGRADE_PRELOAD", "").split(",") if m]
    for name in preload:
        with contextlib.suppress(Exception):  # a module that fails to import is the student's to import
            __import__(name)
    try:  # IPython's shell, imported and warmed before any fork; each student makes a fresh one
        import shell as ipyshell
        ipyshell.prepare()
    except Exception:
        pass
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    control = socket.socket(fileno=control_fd)
    # not dumpable: a student process (same uid) cannot open this zygote's or a keeper's /proc/<pid>/mem
    confine.libc().prctl(confine.PR_SET_DUMPABLE, 0, 0, 0, 0)
    protocol.write_frame(control, (protocol.READY, os.getpid(), sorted(m for m in preload if m in sys.modules)))
    while True:
        fds: list[int] = []
        try:
            request, _ = protocol.read_frame(control, fds=fds)
        except (EOFError, OSError):
            os._exit(0)
        if request[0] == protocol.SPAWN:
            _spawn(control, dict(request[1]), fds, serve)
        elif request[0] == protocol.KILL:
            pids = [int(p) for p in request[1] if int(p) > 0]  # never 0 or -1 (process groups, everyone)
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            _wait_gone(pids)
            protocol.write_frame(control, (protocol.KILLED,))
        elif request[0] == protocol.EXIT:
            os._exit(0)


def _spawn(control: socket.socket, settings: dict[str, Any], fds: list[int], serve: Serve) -> None:
    """Fork a keeper for the student socket in ``fds``; answer ``SPAWNED`` with what it reports."""
    read_end, write_end = os.pipe()
    pid = _fork_retrying()
    if pid == 0:
        control.close()
        os.close(read_end)
        _keeper(fds[0], settings, write_end, serve)
    os.close(write_end)
    for fd in fds:
        os.close(fd)
    if pid < 0:
        os.close(read_end)
        protocol.write_frame(control, (protocol.SPAWNED, -1, protocol.FAILED,
                                       "the process limit is reached (fork refused)"))
        return
    with os.fdopen(read_end, "rb") as pipe:
        line = pipe.readline().decode().strip()
    kind, _, value = line.partition(" ")
    protocol.write_frame(control, (protocol.SPAWNED, pid, kind, value))


def _seed_matplotlib_cache() -> None:
    """Copy the font cache the grader prepared (read-only) into this zygote's own config folder."""
    seed, target = os.environ.get("NNGRADE_MPL_SEED", ""), os.environ.get("MPLCONFIGDIR", "")
    if not seed or not target or not os.path.isdir(seed):
        return
    try:
        os.makedirs(target, exist_ok=True)
        for name in os.listdir(seed):
            if name.endswith(".json"):
                with open(os.path.join(seed, name), "rb") as src, open(os.path.join(target, name), "wb") as dst:
                    dst.write(src.read())
    except OSError:
        pass  # matplotlib then builds its cache itself (slower, same result)


def _fork_retrying() -> int:
    """fork(), retried for a while when the process limit is momentarily reached; -1 if it stays so."""
    for attempt in range(50):
        try:
            return os.fork()
        except BlockingIOError:
            time.sleep(0.02 * (attempt + 1))
    return -1


def _wait_gone(pids: list[int], timeout: float = 3.0) -> None:
    """Wait until killed processes have really gone (their slots free again), up to ``timeout``."""
    deadline = time.monotonic() + timeout
    pause = 0.0005  # a killed process is usually gone within a millisecond: poll fast, then back off
    while time.monotonic() < deadline:
        alive = False
        for pid in pids:
            try:
                os.kill(pid, 0)
                alive = True
            except (ProcessLookupError, PermissionError):
                pass
        if not alive:
            return
        time.sleep(pause)
        pause = min(0.01, pause * 2)


# --- keeper and student --------------------------------------------------------

def _keeper(sock_fd: int, settings: dict[str, Any], report_fd: int, serve: Serve) -> None:
    """Between zygote and student: enter namespaces, fork the student, wait for it.

    Reports one line on ``report_fd``: ``"<isolation status> <student pid>"`` once the student
    has confined itself, or ``FAILED + " <why>"``.
    """
    try:
        status = protocol.ISOLATION_OFF
        if settings.get("namespaces"):
            confine.enter_keeper_namespaces(settings)
            status = protocol.ISOLATION_ON
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(report_fd)
            os.close(ready_r)
            _student_main(sock_fd, settings, ready_w, serve)
        os.close(ready_w)
        with os.fdopen(ready_r, "rb") as ready:
            word = ready.readline().decode(errors="replace").strip()
        if word != protocol.CONFINED:
            os.kill(pid, signal.SIGKILL)
            why = word or "the student process ended while confining itself"
            os.write(report_fd, f"{protocol.FAILED} {why}\n".encode())
        else:
            os.write(report_fd, f"{status} {pid}\n".encode())
        os.close(report_fd)
        os.close(sock_fd)
        while True:
            try:
                os.waitpid(pid, 0)
                break
            except ChildProcessError:
                break
            except InterruptedError:
                continue
    except BaseException as exc:  # report and vanish
        with contextlib.suppress(OSError):
            os.write(report_fd, f"{protocol.FAILED} {type(exc).__name__}: {exc}\n".encode())
    os._exit(0)


def _student_main(sock_fd: int, settings: dict[str, Any], ready_fd: int, serve: Serve) -> None:
    """Confine this process, say ``CONFINED`` on ``ready_fd`` (or why not), then ``serve``."""
    try:
        try:
            if settings.get("namespaces"):
                confine.confine_student(settings)
            else:
                confine.libc().prctl(confine.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            with contextlib.suppress(OSError):
                os.setsid()
            os.makedirs(confine.WORK_DIR, exist_ok=True)
            os.chdir(confine.WORK_DIR)
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os.environ.clear()
            os.environ.update(student_environment(settings))
            torch = sys.modules.get("torch")
            if torch is not None:
                torch.set_num_threads(int(settings.get("threads", 1)))
            confine.set_limits(settings)
        except BaseException as exc:
            os.write(ready_fd, f"{type(exc).__name__}: {exc}\n".encode()[:500])
            os._exit(3)
        os.write(ready_fd, f"{protocol.CONFINED}\n".encode())
        os.close(ready_fd)
        serve(socket.socket(fileno=sock_fd), settings)
    except BaseException:
        pass
    os._exit(0)
