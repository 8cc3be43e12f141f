"""Isolation levels, and the warm zygote that student processes are forked from.

Levels, strongest first (``auto`` picks the strongest that works here):

- ``bwrap``: the zygote runs under bubblewrap (read-only root, no network, its
  own PID namespace, course files, the package and submissions hidden behind
  empty tmpfs); each student process then gets its own user, mount, PID and
  network namespaces with a private ``/tmp``.
- ``namespaces``: no bubblewrap; each student process unshares user, mount,
  PID and network namespaces itself, remounts the root read-only and hides the
  same paths.
- ``process``: plain processes in their own session, with rlimits only. Used
  only when asked for by name (``auto`` never picks it); every result says so: a
  hostile submission can read course files and may leave processes behind.

At both sandboxed levels each student process is then confined the same way
(``runtime/confine.py``): locked mounts, no capabilities, ``no_new_privs``, a
seccomp filter, and, when the grader is root, an unprivileged user id.

The zygote knows no course: which modules it imports before forking is the caller's
list (the engine passes ``Assignment.preload()``; :data:`autograder.config.DEFAULT_PRELOAD`
when none is given). The grader process's own environment is never changed here; what
the zygote and its students see is the environment given to them (:func:`zygote_environment`).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

from autograder.config import DEFAULT_PRELOAD, GraderConfig
from autograder.errors import NNGradeError
from autograder.sandbox.launch import start_lasting
from autograder.sandbox.runtime import confine, protocol

RUNTIME_DIR = Path(__file__).parent / "runtime"
LEVELS = ("bwrap", "namespaces", "process")
# what the probe for the namespaces level unshares (as a keeper does, less the cheap ones)
_PROBE_FLAGS = confine.CLONE_NEWUSER | confine.CLONE_NEWNS | confine.CLONE_NEWPID | confine.CLONE_NEWNET


class IsolationWarning(UserWarning):
    """Grading runs with weaker isolation than asked for."""


@functools.cache
def _bwrap_works() -> bool:
    exe = shutil.which("bwrap")
    if not exe:
        return False
    try:
        proc = subprocess.run([exe, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                               "--unshare-all", "--die-with-parent", "true"],
                              check=False, capture_output=True, timeout=10)
        return proc.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@functools.cache
def _unshare_works() -> bool:
    code = ("import ctypes,os,sys;l=ctypes.CDLL(None,use_errno=True);"
            f"sys.exit(0 if l.unshare({_PROBE_FLAGS:#x})==0 else 1)")
    try:
        return subprocess.run([sys.executable, "-c", code], check=False, capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def detect_level(requested: str = "auto") -> str:
    """The isolation level to use: ``requested``, or the strongest sandboxed one for ``auto``.

    ``auto`` never falls back to ``process``: without bubblewrap and user namespaces it is an
    error, and ``process`` must be asked for by name.
    """
    if requested not in ("auto",) + LEVELS:
        raise NNGradeError(f"unknown isolation level {requested!r}; use auto, " + ", ".join(LEVELS))
    available = [lvl for lvl, ok in (("bwrap", _bwrap_works()), ("namespaces", _unshare_works()),
                                     ("process", True)) if ok]
    if requested == "auto":
        if available[0] == "process":
            raise NNGradeError("no sandbox is available here (no bubblewrap, no user namespaces): install "
                               "bubblewrap (apt-get install -y bubblewrap), or set isolation = \"process\" "
                               "to grade without one (trusted notebooks only)")
        return available[0]
    if requested == "process":
        warnings.warn("isolation = process: student code runs as a plain process (rlimits only), "
                      "with the grader's user id and view of the machine", IsolationWarning, stacklevel=2)
    if requested not in available:
        raise NNGradeError(f"isolation level {requested!r} is not available on this machine "
                           f"(available: {', '.join(available)})")
    return requested


# Folders a student never needs and that commonly hold other people's data or live sockets
# (/run holds docker, dbus and database sockets; connect() needs no write access).
SYSTEM_HIDDEN = ("/home", "/root", "/run", "/var", "/srv", "/mnt", "/media", "/opt")
MASKED_FILES = ("/etc/shadow", "/etc/gshadow", "/etc/sudoers")


def _hidden_paths(config: GraderConfig, extra: list[Path]) -> list[str]:
    paths = {Path(__file__).resolve().parents[1], *[p.resolve() for p in extra]}
    paths.update(Path(p).resolve() for p in config.hide_paths)
    paths.update(Path(p) for p in SYSTEM_HIDDEN)
    return sorted(str(p) for p in paths if p.is_dir())


def _grader_is_root() -> bool:
    return os.geteuid() == 0


def matplotlib_seed() -> Path | None:
    """A folder holding matplotlib's font cache, built here (trusted) once; the zygote copies it.

    Nothing the sandbox can write is ever read back by a later run: the zygote gets a copy.
    """
    try:
        import matplotlib
        from matplotlib import font_manager  # noqa: F401  (builds or loads the grader's cache)
    except ImportError:
        return None
    cache = Path(matplotlib.get_cachedir())
    return cache if any(cache.glob("fontlist-*.json")) else None


def _revealed_paths() -> list[str]:
    """What the interpreter needs even when it lives under a hidden folder."""
    paths = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve(),
             Path(sys.executable).resolve().parent.parent}
    return sorted(str(p) for p in paths)


def mount_plan(hide: list[str], reveal: list[str]) -> list[tuple[str, str]]:
    """Hide and reveal operations, shallow paths first (a hide before a reveal at the same depth).

    So a venv inside a hidden course is bound back, and a hidden package inside that venv
    is covered again.
    """
    ops = [("hide", p) for p in hide] + [("reveal", p) for p in reveal]
    ops += [("mask", p) for p in MASKED_FILES if os.path.isfile(p)]
    return sorted(ops, key=lambda op: (len(Path(op[1]).parts), op[0] != "hide", op[1]))


def zygote_environment(config: GraderConfig, preload: tuple[str, ...], runtime: str,
                       mpl_config: str) -> dict[str, str]:
    """The whole environment of the zygote (each student clears it for its own, see ``runtime/spawn.py``).

    Args:
        config: the grader's settings (threads).
        preload: modules the zygote imports before it forks.
        runtime: where the zygote finds the runtime files (and the font-cache seed, ``mpl``).
        mpl_config: the zygote's own matplotlib configuration folder.
    """
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "MPLBACKEND": "Agg", "HOME": "/tmp",
            "MPLCONFIGDIR": mpl_config, "PYTHONDONTWRITEBYTECODE": "1",
            "NNGRADE_MPL_SEED": runtime + "/mpl",
            "OMP_NUM_THREADS": str(config.threads), "NNGRADE_PRELOAD": ",".join(preload)}


class _PidsCgroup:
    """A pids cgroup (v1 or v2) that bounds the number of processes of one zygote and its students."""

    def __init__(self, limit: int) -> None:
        self.path: Path | None = None
        name = f"nngrade-{os.getpid()}-{id(self):x}"
        candidates = [Path("/sys/fs/cgroup/pids")]
        root = Path("/sys/fs/cgroup")
        if (root / "cgroup.subtree_control").exists() and "pids" in (root / "cgroup.subtree_control").read_text():
            candidates.append(root)
        for base in candidates:
            try:
                folder = base / name
                folder.mkdir()
                (folder / "pids.max").write_text(str(limit))
                self.path = folder
                break
            except OSError:
                continue

    def enter(self) -> None:
        """Move the calling process in (used between fork and exec of the zygote)."""
        if self.path is not None:
            (self.path / "cgroup.procs").write_text(str(os.getpid()))

    def remove(self) -> None:
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.rmdir()


class Zygote:
    """A warm process (libraries imported) that forks one sandboxed student process per request."""

    def __init__(self, config: GraderConfig, level: str, hide: list[Path] | None = None,
                 preload: tuple[str, ...] | None = None) -> None:
        preload = DEFAULT_PRELOAD if preload is None else preload
        self.config = config
        self.level = level
        self.dead = False
        self.lock = threading.Lock()
        self._tmp = tempfile.TemporaryDirectory(prefix="nngrade-runtime-")
        runtime = Path(self._tmp.name) / "rt"
        runtime.mkdir()
        seed = matplotlib_seed()
        if seed is not None:
            (runtime / "mpl").mkdir()
            for path in seed.glob("fontlist-*.json"):
                shutil.copy(path, runtime / "mpl" / path.name)
        for path in RUNTIME_DIR.glob("*.py"):  # the student side imports nothing from the package
            shutil.copy(path, runtime / path.name)
        self.hide = _hidden_paths(config, list(hide or []))
        self.reveal = _revealed_paths()
        self.mounts = mount_plan(self.hide, self.reveal)
        # process count: the students' limit plus the zygote, bubblewrap and a keeper
        self.cgroup = _PidsCgroup(config.max_processes + 8)
        self.cgroup_ok = self.cgroup.path is not None
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = zygote_environment(config, preload, str(runtime), str(Path(self._tmp.name) / "mpl"))
        argv = [sys.executable, "-I", "-B", str(runtime / "worker.py"), str(child.fileno())]
        if level == "bwrap":
            inner_rt = "/tmp/.nngrade-rt"
            env = zygote_environment(config, preload, inner_rt, "/tmp/.mpl")
            argv = self._bwrap_argv(runtime, inner_rt, env) + [
                sys.executable, "-I", "-B", inner_rt + "/worker.py", str(child.fileno())]
        # kept open for the zygote's life (its stderr; read back when it fails to start), closed in close()
        self._stderr = open(Path(self._tmp.name) / "zygote.log", "w+b")  # noqa: SIM115
        # from a thread that lasts as long as this process: bubblewrap dies with the thread that started it
        self.proc = start_lasting(lambda: subprocess.Popen(
            argv, pass_fds=[child.fileno()], env=env, cwd="/", stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self._stderr, start_new_session=True,
            preexec_fn=self.cgroup.enter))
        child.close()
        self.sock = parent
        self.sock.settimeout(120)
        try:
            reply = self._recv()
        except (EOFError, OSError, protocol.FrameError):
            self._stderr.seek(0)
            err = self._stderr.read().decode(errors="replace")[-500:]
            raise NNGradeError(f"the student-process zygote failed to start ({level}): {err.strip()}") from None
        if reply[0] != protocol.READY:
            raise NNGradeError("the student-process zygote sent an unexpected greeting")
        self.preloaded = tuple(reply[2])

    def _bwrap_argv(self, runtime: Path, inner_rt: str, env: dict[str, str]) -> list[str]:
        # as root, no user namespace for the zygote: it stays the real root (trusted code, never runs
        # a student's) so that each keeper can hand its student an unprivileged user id
        unshare = (["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                    "--cap-add", "ALL"] if _grader_is_root() else ["--unshare-all"])
        argv = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
                "--tmpfs", "/tmp", *unshare, "--die-with-parent", "--new-session", "--clearenv"]
        for key, value in env.items():
            argv += ["--setenv", key, value]
        for kind, path in self.mounts:
            argv += {"hide": ["--tmpfs", path], "reveal": ["--ro-bind", path, path],
                     "mask": ["--ro-bind", "/dev/null", path]}[kind]
        for dev in sorted(Path("/dev").glob("nvidia*")):
            argv += ["--dev-bind", str(dev), str(dev)]
        # nothing of the host is bound writable: the runtime (with the font-cache seed) is read-only
        argv += ["--ro-bind", str(runtime), inner_rt, "--chdir", "/"]
        return argv

    def _send(self, tree: Any, fds: list[int] | None = None) -> None:
        protocol.write_frame(self.sock, tree, fds)

    def _recv(self) -> Any:
        return protocol.read_frame(self.sock)[0]

    def spawn(self, settings: dict[str, Any]) -> tuple[list[int], str, socket.socket]:
        """Fork a student process; return (its pids to kill, student first; namespace status; socket)."""
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        # the keeper applies the whole mount plan at both levels (under bubblewrap again, over its
        # hides): its folders are made world-traversable, so an unprivileged student reaches the
        # interpreter bound back inside a hidden folder, and its private /tmp does not cover it
        settings = dict(settings, mounts=self.mounts,
                        namespaces=self.level in ("bwrap", "namespaces"),
                        readonly_root=True)  # under bubblewrap too: its /dev is a shared tmpfs
        with self.lock:
            try:
                self._send((protocol.SPAWN, list(settings.items())), [theirs.fileno()])
                theirs.close()
                reply = self._recv()
            except (OSError, EOFError, protocol.FrameError):
                self.dead = True
                theirs.close()
                mine.close()
                raise NNGradeError("the student-process zygote stopped; it is restarted for the next "
                                   "submission") from None
        _, keeper_pid, status, student_pid = reply
        if status.startswith(protocol.FAILED) or not str(student_pid).isdigit():
            if int(keeper_pid) > 0:
                self.kill([keeper_pid])
            mine.close()
            raise NNGradeError(f"could not start a sandboxed student process: {status} {student_pid}")
        return [int(student_pid), int(keeper_pid)], status, mine

    def kill(self, pids: list[int]) -> None:
        """Kill student processes (their PID namespaces go with them)."""
        with self.lock:
            try:
                self._send((protocol.KILL, [int(p) for p in pids if int(p) > 0]))
                self._recv()
            except (OSError, EOFError, protocol.FrameError):
                pass

    def close(self) -> None:
        """Stop the zygote (bubblewrap takes everything under it down)."""
        try:
            self.sock.close()
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(timeout=10)
            self._stderr.close()
            self.cgroup.remove()
            self._tmp.cleanup()

    def alive(self) -> bool:
        return not self.dead and self.proc.poll() is None


_POOL: dict[tuple[tuple[Any, ...], tuple[str, ...]], Zygote] = {}


def shared_zygote(config: GraderConfig, hide: list[Path] | None = None,
                  preload: tuple[str, ...] | None = None) -> Zygote:
    """A warm zygote for this configuration, started on first use and kept for the process.

    ``preload`` names the modules the zygote imports before forking (default: all the course's
    libraries); a live zygote that preloaded at least those is reused.
    """
    level = detect_level(config.isolation)
    wanted = tuple(sorted(set(DEFAULT_PRELOAD if preload is None else preload)))
    key = (level, config.threads, config.max_processes, tuple(sorted(str(p) for p in (hide or []))),
           tuple(config.hide_paths))
    for (pool_key, modules), zyg in list(_POOL.items()):
        if pool_key == key and set(wanted) <= set(modules):
            if zyg.alive():
                return zyg
            zyg.close()
            del _POOL[(pool_key, modules)]
    zyg = Zygote(config, level, hide, preload=wanted)
    _POOL[(key, wanted)] = zyg
    return zyg


def close_all() -> None:
    """Stop every zygote this process started."""
    while _POOL:
        _, zyg = _POOL.popitem()
        zyg.close()


atexit.register(close_all)
