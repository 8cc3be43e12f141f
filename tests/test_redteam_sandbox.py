"""Red team, sandbox classes: a student who has read ``_runtime/confine.py`` tries to undo it.

Each attack runs as student code in a real sandboxed student process (the shared warm zygote
at the machine's level), returns what it achieved as plain values, and is then followed by
the honest answer key from the same zygote, which must still get full marks. The course
files are hashed before and after. Classes: unmount/remount and namespace escapes, privileges
(capabilities, seccomp, user id), shared ``/tmp`` and writable binds, ``/proc``, suite
tampering, and grading as root.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest

from autograder.config import GraderConfig
from autograder.engine import integrity
from autograder.engine.assignment import Assignment, prepare
from autograder.engine.grade import grade_notebook
from autograder.sandbox.submission import Submission
from autograder.sandbox.zygote import shared_zygote
from tests.conftest import ROOT, answer_key, sandbox_level, with_extra_cell

AID = "a1_perceptron"
FULL = 21.0


LEVEL = sandbox_level()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(
    LEVEL == "process", reason="no sandbox on this machine: these attacks would reach the real machine")]
IS_ROOT = os.geteuid() == 0
_ASG: list[Assignment] = []


def _asg() -> Assignment:
    if not _ASG:
        _ASG.append(Assignment.load(ROOT, AID))
    return _ASG[0]


def _course_digest() -> str:
    h = hashlib.sha256()
    for folder in (ROOT / "source" / AID, ROOT / "release" / AID, ROOT / "solutions" / AID,
                   ROOT / "autograder" / "suites" / AID, ROOT / "autograder" / "sandbox" / "runtime"):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(str(path).encode() + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _run(attack_source: str, config: GraderConfig, *args: Any) -> Any:
    """Run the answer key plus ``attack_source`` (which defines ``attack``) and return ``attack(*args)``."""
    nb = with_extra_cell(answer_key(AID), textwrap.dedent(attack_source))
    sub = Submission(prepare(nb, _asg()).cells, shared_zygote(config, hide=[ROOT]), config)
    try:
        sub.boot()
        return sub.call("attack", *args)
    finally:
        sub.close()


def _honest_next(config: GraderConfig) -> None:
    saved = os.environ.get("PYTEST_CURRENT_TEST")  # the grader's own pytest run clears it
    try:
        result = grade_notebook(answer_key(AID), _asg(), config).result
    finally:
        if saved is not None:
            os.environ["PYTEST_CURRENT_TEST"] = saved
    assert result.score == FULL, f"the next student got {result.score}: {result.notes}"


def _sandboxed_levels() -> list[Any]:
    from autograder.sandbox import zygote as sandbox

    return [pytest.param(level, marks=pytest.mark.skipif(not works(), reason=f"{level} is not available here"))
            for level, works in (("bwrap", sandbox._bwrap_works), ("namespaces", sandbox._unshare_works))]


@pytest.fixture(params=_sandboxed_levels())
def cfg(request: pytest.FixtureRequest, grader_config: GraderConfig) -> Any:
    """Both sandboxed levels must hold against every attack (they run the same confinement)."""
    config = grader_config.replace(isolation=request.param)
    before = _course_digest()
    yield config
    _honest_next(config)
    assert _course_digest() == before, "course files changed"


LIBC = '''
import ctypes, os, errno
libc = ctypes.CDLL(None, use_errno=True)
def call(fn, *args):
    r = fn(*args)
    return "ok" if r == 0 else errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))
'''


def test_unmount_remount_and_namespace_escapes_all_fail(cfg: GraderConfig) -> None:
    """Every way to change the mount table, or to get a namespace where it could, is refused."""
    suite_file = str(_asg().part("step").suite_file)
    out = _run(LIBC + '''
def attack(suite_file, course):
    r = {}
    for target in ("/tmp", "/proc", "/root", "/home", course, "/"):
        r["umount " + target] = call(libc.umount2, target.encode(), 2)  # MNT_DETACH
    r["remount / rw"] = call(libc.mount, None, b"/", None, 32 | 4096, None)
    r["mount tmpfs"] = call(libc.mount, b"tmpfs", b"/tmp/work", b"tmpfs", 0, None)
    r["bind course"] = call(libc.mount, course.encode(), b"/tmp/work", None, 4096, None)
    r["unshare user"] = call(libc.unshare, 0x10000000)
    r["unshare mount"] = call(libc.unshare, 0x00020000)
    r["setns"] = call(libc.setns, 0, 0)
    r["pivot_root"] = call(libc.syscall, 155, b"/tmp", b"/tmp/work")
    r["chroot"] = call(libc.chroot, b"/tmp")
    r["clone newuser"] = "ok" if libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0) >= 0 else \\
        errno.errorcode.get(ctypes.get_errno())
    r["ptrace"] = call(libc.ptrace, 16, 1, 0, 0)  # PTRACE_ATTACH to pid 1
    r["bpf"] = "ok" if libc.syscall(321, 0, 0, 0) >= 0 else errno.errorcode.get(ctypes.get_errno())
    r["keyctl"] = "ok" if libc.syscall(250, 0, 0, 0) >= 0 else errno.errorcode.get(ctypes.get_errno())
    r["open_tree"] = "ok" if libc.syscall(428, -100, b"/", 1) >= 0 else errno.errorcode.get(ctypes.get_errno())
    r["fsopen"] = "ok" if libc.syscall(430, b"tmpfs", 0) >= 0 else errno.errorcode.get(ctypes.get_errno())
    import resource
    try:
        resource.setrlimit(resource.RLIMIT_CPU, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
        r["raise limit"] = "ok"
    except (ValueError, OSError) as e:
        r["raise limit"] = type(e).__name__
    try:
        with open(suite_file, "a") as f:
            f.write("\\n# pwned\\n")
        r["write suite"] = "ok"
    except OSError as e:
        r["write suite"] = errno.errorcode.get(e.errno, str(e.errno))
    return r
''', cfg, suite_file, str(ROOT))
    succeeded = {k: v for k, v in out.items() if v == "ok"}
    assert not succeeded, f"these escapes worked: {succeeded}"
    assert out["umount /tmp"] == out["remount / rw"] == out["unshare user"] == "EPERM"


def test_no_capability_no_new_privileges_and_a_filter(cfg: GraderConfig) -> None:
    status = _run('''
def attack():
    with open("/proc/self/status") as f:
        rows = dict(line.rstrip("\\n").split(":\\t", 1) for line in f if ":\\t" in line)
    with open("/proc/self/uid_map") as f:
        rows["uid_map"] = f.read().split()
    return rows
''', cfg)
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[key], 16) == 0, f"{key} = {status[key]}"
    assert status["NoNewPrivs"] == "1"
    assert status["Seccomp"] == "2"
    inner, outer, count = status["uid_map"]
    assert inner != "0" and count == "1"
    if IS_ROOT:
        # grading as root: the student is an unprivileged user id of the machine, not root mapped
        assert outer == str(cfg.student_uid) != "0"


@pytest.mark.skipif(not IS_ROOT, reason="the unprivileged user id is used when the grader is root")
def test_grading_as_root_the_student_cannot_use_roots_files(cfg: GraderConfig) -> None:
    """A folder the student can see (not hidden) but that only root may read or write."""
    try:
        outside = Path(tempfile.mkdtemp(prefix="nngrade-redteam-", dir=ROOT.parent))
    except OSError:
        pytest.skip("no writable folder beside the course")
    try:
        os.chmod(outside, 0o700)
        (outside / "secret").write_text("root only")
        os.chmod(outside / "secret", 0o600)
        open_dir = outside.parent / (outside.name + "-open")
        open_dir.mkdir(mode=0o755)
        (open_dir / "owned-by-root").write_text("x")
        os.chmod(open_dir / "owned-by-root", 0o644)
        out = _run(LIBC + '''
def attack(secret, owned):
    r = {}
    try:
        r["read secret"] = open(secret).read()
    except OSError as e:
        r["read secret"] = errno.errorcode.get(e.errno)
    try:
        open(owned, "a").write("pwned")
        r["write root's file"] = "ok"
    except OSError as e:
        r["write root's file"] = errno.errorcode.get(e.errno)
    return r
''', cfg, str(outside / "secret"), str(open_dir / "owned-by-root"))
        assert out["read secret"] in ("EACCES", "ENOENT"), out
        assert out["write root's file"] in ("EACCES", "EROFS", "ENOENT"), out
        assert (open_dir / "owned-by-root").read_text() == "x"
    finally:
        shutil.rmtree(outside, ignore_errors=True)
        shutil.rmtree(outside.parent / (outside.name + "-open"), ignore_errors=True)


def test_tmp_is_private_capped_and_gone(cfg: GraderConfig) -> None:
    marker = f"nngrade-{uuid.uuid4().hex[:8]}"
    first = _run('''
import os
def attack(marker):
    r = {}
    for folder in ("/tmp", "/tmp/work", "/dev/shm"):
        with open(os.path.join(folder, marker), "w") as f:
            f.write("left for the next student")
    written = 0
    try:
        with open("/tmp/big", "wb") as f:
            for _ in range(1024):  # up to 1 GiB, in 1 MiB steps
                f.write(b"x" * 2**20)
                written += 1
    except OSError as e:
        r["stopped"] = e.strerror
    r["written_mb"] = written
    return r
''', cfg.replace(file_size_mb=4096), marker)
    assert first["written_mb"] <= cfg.tmp_mb, first
    second = _run('''
import os
def attack(marker):
    seen = {}
    for folder in ("/tmp", "/tmp/work", "/dev/shm"):
        seen[folder] = sorted(os.listdir(folder))
    return seen
''', cfg, marker)
    for folder, names in second.items():
        assert marker not in names and "big" not in names, f"{folder} of the next student holds {names}"
    # nothing of it reached the grader's own /tmp either
    assert not any(marker in p.name for p in Path(tempfile.gettempdir()).iterdir())


def test_only_the_private_tmp_is_writable(cfg: GraderConfig) -> None:
    """No host path is bound writable: every mount but /tmp, /dev/shm and /proc is read-only."""
    out = _run('''
import os
def attack():
    writable, tried = [], {}
    with open("/proc/self/mountinfo") as f:
        rows = [line.split() for line in f]
    top = {row[4]: row[5].split(",") for row in rows}
    for point, options in top.items():
        if "rw" in options:
            writable.append(point)
        probe = os.path.join(point, ".nngrade-probe")
        try:
            with open(probe, "w") as f:
                f.write("x")
            os.remove(probe)
            tried[point] = "wrote"
        except OSError:
            pass
    return writable, tried
''', cfg)
    writable, wrote = out
    allowed = {"/tmp", "/dev/shm", "/proc"}
    assert set(writable) <= allowed, f"mounted writable: {sorted(set(writable) - allowed)}"
    assert set(wrote) <= {"/tmp", "/dev/shm"}, f"could write into {sorted(wrote)}"


def test_proc_shows_only_the_student_and_unmounting_reveals_nothing(cfg: GraderConfig) -> None:
    out = _run(LIBC + '''
import subprocess, sys
def attack():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    cmdlines = [open(f"/proc/{p}/cmdline", "rb").read().replace(b"\\0", b" ").decode()[:200] for p in pids]
    r = {"pids": pids, "me": os.getpid(), "child": child.pid, "cmdlines": cmdlines,
         "umount": call(libc.umount2, b"/proc", 2)}
    r["after"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    child.kill()
    return r
''', cfg)
    assert out["me"] == 1
    assert set(out["pids"]) <= {1, out["child"]}, out
    assert out["umount"] == "EPERM" and out["after"] == out["pids"]
    # its own command line is the zygote's (it is a fork of it); bubblewrap's is nowhere to be seen
    assert not any("bwrap" in c for c in out["cmdlines"]), out["cmdlines"]


def test_suites_are_read_and_pinned_before_the_student_runs(tmp_path: Path) -> None:
    """A suite changed on disk after it was read never grades anyone; an unrecorded one refuses."""
    suites = tmp_path / "suites"
    shutil.copytree(integrity.SUITES_DIR / AID, suites / AID)
    snap = integrity.SuiteSnapshot.read(AID, suites)
    lock = tmp_path / "digests.json"
    with pytest.raises(integrity.SuitesChanged, match="nngrade validate"):
        integrity.verify(snap, lock)  # never validated
    integrity.record_digest(snap, lock)
    integrity.verify(snap, lock)
    test_step = suites / AID / "test_step.py"
    original = test_step.read_bytes()
    test_step.write_bytes(original + b"\ndef test_free_points():\n    pass\n")
    with pytest.raises(integrity.SuitesChanged, match="changed on disk"):
        snap.check_disk()
    # the module the grader builds is the one that was read, whatever the disk now says
    module = snap.module(test_step)
    assert not hasattr(module, "test_free_points")
    fresh = integrity.SuiteSnapshot.read(AID, suites)
    with pytest.raises(integrity.SuitesChanged, match="not the one"):
        integrity.verify(fresh, lock)


def test_grading_refuses_when_the_suites_do_not_match(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                      grader_config: GraderConfig) -> None:
    lock = tmp_path / "digests.json"
    lock.write_text(json.dumps({AID: "0" * 64}))
    monkeypatch.setattr(integrity, "LOCK_FILE", lock)
    monkeypatch.setattr(integrity.verify, "__defaults__", (lock,))
    spawned: list[Any] = []
    monkeypatch.setattr(Submission, "boot", lambda self: spawned.append(self))
    with pytest.raises(integrity.SuitesChanged, match="nngrade validate"):
        grade_notebook(answer_key(AID), _asg(), grader_config)
    assert not spawned, "a student process was started before the suites were checked"
