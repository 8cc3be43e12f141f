"""The student side: a warm zygote that forks one sandboxed process per submission.

Run as ``python -I worker.py ZYGOTE_FD`` (by :mod:`autograder.sandbox`, possibly
inside bubblewrap). The zygote imports the heavy libraries once, then waits on
its control socket. For each ``spawn`` request it receives a fresh socket
(SCM_RIGHTS) and forks:

    zygote -> keeper (new user, mount and PID namespaces where allowed)
           -> student (PID 1 of the new namespace; rlimits; private /tmp)

The student process runs the notebook's cells and answers the grader's calls
over that socket. Killing it (the zygote does, on the grader's request) ends
its whole PID namespace, so nothing it started survives. Nothing here decides
a score: the grader only takes values from this process.

Imports nothing from the ``autograder`` package (it is hidden from this process).
"""

from __future__ import annotations

import builtins
import io
import os
import re
import signal
import socket
import struct
import sys
import time
import traceback
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves the script's folder out
import codec  # noqa: E402
import confine  # noqa: E402

MAX_TEXT = 64 * 1024


# --- framing -----------------------------------------------------------------

def send(sock: socket.socket, tree: Any) -> None:
    sock.sendall(codec.dumps(tree))


def recv(sock: socket.socket) -> Any:
    head = _read_exact(sock, 8)
    (size,) = struct.unpack("!Q", head)
    if size > codec.MAX_FRAME:
        raise codec.CodecError("frame too large")
    return codec.loads(_read_exact(sock, size))


def _read_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


# --- zygote ------------------------------------------------------------------

def zygote(control_fd: int) -> None:
    """Import once, then fork a sandboxed student process per request."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    _seed_matplotlib_cache()
    preload = [m for m in os.environ.get("NNGRADE_PRELOAD", "").split(",") if m]
    for name in preload:
        try:
            __import__(name)
        except Exception:
            pass
    try:  # IPython's shell, imported and warmed before any fork; each student makes a fresh one
        import shell as ipyshell
        ipyshell.prepare()
    except Exception:
        pass
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    control = socket.socket(fileno=control_fd)
    # not dumpable: a student process (same uid) cannot open this zygote's or a keeper's /proc/<pid>/mem
    confine.libc().prctl(confine.PR_SET_DUMPABLE, 0, 0, 0, 0)
    send(control, ("ready", os.getpid(), sorted(m for m in preload if m in sys.modules)))
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(control, 1 << 16, 4)
        except OSError:
            os._exit(0)
        if not msg:
            os._exit(0)
        request = codec.loads(msg[8:])
        if request[0] == "spawn":
            settings = dict(request[1])
            read_end, write_end = os.pipe()
            pid = _fork_retrying()
            if pid == 0:
                control.close()
                os.close(read_end)
                _keeper(fds[0], settings, write_end)
            os.close(write_end)
            for fd in fds:
                os.close(fd)
            if pid < 0:
                os.close(read_end)
                send(control, ("spawned", -1, "failed:", "the process limit is reached (fork refused)"))
                continue
            with os.fdopen(read_end, "rb") as pipe:
                line = pipe.readline().decode().strip()
            kind, _, value = line.partition(" ")
            send(control, ("spawned", pid, kind, value))
        elif request[0] == "kill":
            pids = [int(p) for p in request[1] if int(p) > 0]  # never 0 or -1 (process groups, everyone)
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            _wait_gone(pids)
            send(control, ("killed",))
        elif request[0] == "exit":
            os._exit(0)


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
        time.sleep(0.01)


def _keeper(sock_fd: int, settings: dict[str, Any], report_fd: int) -> None:
    """Between zygote and student: enter namespaces, fork the student, wait for it.

    Reports one line on ``report_fd``: ``"<isolation status> <student pid>"`` once the student
    has confined itself, or ``"failed: <why>"``.
    """
    try:
        status = confine.enter_keeper_namespaces(settings) if settings.get("namespaces") else "off"
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(report_fd)
            os.close(ready_r)
            _student_main(sock_fd, settings, ready_w)
        os.close(ready_w)
        with os.fdopen(ready_r, "rb") as ready:
            word = ready.readline().decode(errors="replace").strip()
        if word != "confined":
            os.kill(pid, signal.SIGKILL)
            os.write(report_fd, f"failed: {word or 'the student process ended while confining itself'}\n".encode())
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
        try:
            os.write(report_fd, f"failed: {type(exc).__name__}: {exc}\n".encode())
        except OSError:
            pass
    os._exit(0)


def _student_main(sock_fd: int, settings: dict[str, Any], ready_fd: int) -> None:
    try:
        try:
            if settings.get("namespaces"):
                confine.confine_student(settings)
            else:
                confine.libc().prctl(confine.PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                os.setsid()
            except OSError:
                pass
            work = "/tmp/work"
            os.makedirs(work, exist_ok=True)
            os.chdir(work)
            devnull = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            keep = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": work, "TMPDIR": "/tmp",
                    "USER": "student", "LOGNAME": "student", "MPLBACKEND": "Agg",
                    "MPLCONFIGDIR": work + "/.config/matplotlib",
                    "OMP_NUM_THREADS": str(settings.get("threads", 1)), "PYTHONHASHSEED": "0"}
            os.environ.clear()
            os.environ.update(keep)
            torch = sys.modules.get("torch")
            if torch is not None:
                torch.set_num_threads(int(settings.get("threads", 1)))
            confine.set_limits(settings)
        except BaseException as exc:
            os.write(ready_fd, f"{type(exc).__name__}: {exc}\n".encode()[:500])
            os._exit(3)
        os.write(ready_fd, b"confined\n")
        os.close(ready_fd)
        sock = socket.socket(fileno=sock_fd)
        Student(sock, settings).serve()
    except BaseException:
        pass
    os._exit(0)


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
        return ("h", hid, type(obj).__name__)

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
        send(self.sock, ("hello", os.getpid()))
        while True:
            try:
                request = recv(self.sock)
            except (EOFError, OSError, codec.CodecError):
                return
            try:
                reply = self.handle(request)
            except _StudentRaised as exc:
                if exc.missing:
                    reply = ("missing", exc.missing)
                else:
                    reply = ("err", exc.type_name, exc.detail, exc.tb)
            except BaseException as exc:  # a fault in the request itself
                reply = ("fault", f"{type(exc).__name__}: {exc}")
            try:
                send(self.sock, reply)
            except BaseException:
                reply = ("fault", "the reply could not be encoded")
                send(self.sock, reply)

    def handle(self, request: Any) -> Any:
        op = request[0]
        if op == "run":
            return self.run_cells(request[1])
        if op == "has":
            return ("ok", ("v", request[1] in self.ns))
        if op == "call":
            target = self.resolve_ref(request[1])
            args = self.decode(request[2])
            kwargs = self.decode(request[3])
            result = self.guarded(lambda: target(*args, **kwargs))
            return ("ok", self.encode(result))
        if op == "fetch":
            value = self.resolve_ref(request[1])
            if codec.is_standard_module(value):
                return ("ok", codec.encode_module(value))
            return ("ok", self.encode(value))
        if op == "pin":
            return ("ok", self._make_handle(self.resolve_ref(request[1])))
        if op == "send":
            value = self.decode(request[1])
            return ("ok", self._make_handle(value))
        if op == "helpers":
            namespace: dict[str, Any] = {"__name__": "nngrade_student_helpers", "__builtins__": builtins}
            exec(compile(request[1], "<student_helpers>", "exec"), namespace)
            self.helpers = namespace
            return ("ok", ("v", None))
        if op == "helper":
            fn = self.helpers.get(request[1])
            if fn is None:
                raise KeyError(f"no helper {request[1]}")
            args = self.decode(request[2])
            kwargs = self.decode(request[3])
            result = self.guarded(lambda: fn(*args, **kwargs))
            return ("ok", self.encode(result))
        raise ValueError(f"unknown request {op!r}")

    def resolve_ref(self, ref: Any) -> Any:
        root, path = ref
        if root[0] == "g":
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
            send(self.sock, ("cell_start", index))
            outputs = self.run_cell(int(index), str(source))
            send(self.sock, ("cell_done", index, outputs))
        return ("ok", ("v", None))

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
    def from_exception(cls, exc: BaseException) -> "_StudentRaised":
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


if __name__ == "__main__":
    zygote(int(sys.argv[1]))
