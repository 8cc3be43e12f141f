"""Red team: hostile submissions against the grading engine, each with the outcome it must get.

The victim is ``a1_perceptron`` (answer key 21/21; untouched release 0). Points per part:
step 5, predict 2, update 5, train 9. ``predict`` is called by no other function of the
answer key, so an attack placed in ``predict`` costs exactly its 2 points when it fails.

Every row of ``TABLE`` is graded in this (grader) process against the shared warm zygote,
then checked for:

- its score (never more than its honest answers earn; the exact number is in the row),
- the next honest student graded right after it, from the same zygote: still 21/21,
- the course files (source, release, solutions, hidden suite) unchanged, byte for byte,
- whatever the row adds (no surviving process, no connection, nothing secret received).

A row may be marked ``xfail(strict=True)`` (``Attack.xfail``) for a weakness found and not yet
fixed: it states the correct expectation, and turns red the day it is fixed. The first pass
found eleven; all are fixed (docs/security.md lists them). Rows
that would be dangerous without a sandbox (signals to every process, fork storms, reads
and connections that must fail) are skipped where only the ``process`` level is available.

Student code reaches the engine's own worker by walking up its stack to the frame whose
``self`` is the worker's ``Student`` object (``_WORKER`` below), and the engine's codec and
frames as ``sys.modules["codec"]`` and ``sys.modules["protocol"]``: all are ordinary objects in
the student's own process.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import os
import signal
import socket
import tempfile
import textwrap
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from nbformat.notebooknode import NotebookNode

from autograder.config import GraderConfig
from autograder.engine.assignment import SUITES_DIR, Assignment
from autograder.engine.grade import Graded, grade_notebook
from autograder.engine.results import render_part
from autograder.sandbox import submission as remote
from autograder.sandbox import zygote as sandbox
from autograder.sandbox.runtime import codec
from autograder.sandbox.submission import Submission
from autograder.sandbox.zygote import Zygote, shared_zygote
from tests.conftest import FIND_WORKER, ROOT, answer_key, release, sandbox_level, with_cell_source, with_extra_cell

pytestmark = pytest.mark.slow
AID = "a1_perceptron"
FULL = 21.0


LEVEL = sandbox_level()
SANDBOXED = LEVEL in ("bwrap", "namespaces")
needs_sandbox = pytest.mark.skipif(not SANDBOXED, reason=f"isolation level {LEVEL!r}: no namespaces here, "
                                   "so this attack would reach the real machine")
IS_ROOT = os.geteuid() == 0
_ASSIGNMENT: list[Assignment] = []


def _assignment() -> Assignment:
    if not _ASSIGNMENT:
        _ASSIGNMENT.append(Assignment.load(ROOT, AID))
    return _ASSIGNMENT[0]


def _outside_dir() -> Path:
    """A fresh folder that is neither under /tmp (private in the sandbox) nor in the course."""
    for base in ("/var/tmp", str(Path.home())):
        if os.access(base, os.W_OK) and not Path(base).resolve().is_relative_to(ROOT):
            return Path(tempfile.mkdtemp(prefix="nngrade-redteam-", dir=base))
    pytest.skip("no writable folder outside /tmp and the course")


# --- what a row may use ----------------------------------------------------------------------

@dataclass
class Ctx:
    """Per-row state: a unique marker, folders, listeners, and what crossed the boundary."""

    marker: str
    cleanup: list[Callable[[], None]] = field(default_factory=list)
    sent: list[Any] = field(default_factory=list)  # values the grader encoded for the student
    received: list[Any] = field(default_factory=list)  # values the grader decoded from the student
    outside: Path | None = None
    tcp: socket.socket | None = None
    udp: socket.socket | None = None
    unix: socket.socket | None = None
    unix_path: str = ""

    def out(self) -> Path:
        if self.outside is None:
            self.outside = _outside_dir()
            path = self.outside
            self.cleanup.append(lambda: _rmtree(path))
        return self.outside

    def listen_tcp(self) -> int:
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(("127.0.0.1", 0))
        self.tcp.listen(8)
        self.tcp.setblocking(False)
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.setblocking(False)
        self.cleanup += [self.tcp.close, self.udp.close]
        return int(self.tcp.getsockname()[1])

    def listen_unix(self) -> str:
        self.unix_path = str(self.out() / "service.sock")
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(self.unix_path)
        self.unix.listen(8)
        self.unix.setblocking(False)
        self.cleanup.append(self.unix.close)
        return self.unix_path


def _rmtree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


def _fill(src: str, **values: Any) -> str:
    src = textwrap.dedent(src)
    for key, value in values.items():
        src = src.replace("@" + key + "@", str(value))
    return src


def _key() -> NotebookNode:
    return answer_key(AID)


def _source_of(nb: NotebookNode, grade_id: str) -> str:
    return next(c.source for c in nb.cells
                if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)


def _with_predict(src: str, nb: NotebookNode | None = None) -> NotebookNode:
    base = nb if nb is not None else _key()
    return with_cell_source(base, "predict", "import numpy as np\n" + textwrap.dedent(src))


def _meta(cell: Any) -> dict[str, Any]:
    return cell.setdefault("metadata", {}).setdefault("nbgrader", {})


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline:
                found.append(int(entry))
    return found


def _reap(marker: str) -> None:
    """Kill, by pid, what a row's student left behind (its marked processes and their worker parent)."""
    for pid in _processes_with(marker):
        try:
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            if b"worker.py" in Path(f"/proc/{ppid}/cmdline").read_bytes():
                os.kill(ppid, signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _course_digest() -> dict[str, str]:
    """Hash of every file of the victim's course material (sources, keys, release, hidden suite),
    plus the names in source/ and the suites folder (a file planted there shows up)."""
    out = {}
    for folder in (ROOT / "source" / AID, ROOT / "solutions" / AID, ROOT / "release" / AID, SUITES_DIR / AID):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                out[str(path.relative_to(ROOT))] = hashlib.sha256(path.read_bytes()).hexdigest()
    for folder in (ROOT / "source", SUITES_DIR):
        for path in folder.iterdir():
            if path.name != "__pycache__":
                out.setdefault(str(path.relative_to(ROOT)), "present")
    return out


# --- student-side building blocks ------------------------------------------------------------

# the engine's worker, found from student code: the frame whose `self` is the Student object
_WORKER = FIND_WORKER

_SECRET_PATHS = [
    str(ROOT / "source" / AID / f"{AID}.ipynb"),
    str(ROOT / "solutions" / AID / f"{AID}.ipynb"),
    str(SUITES_DIR / AID / "test_step.py"),
    str(SUITES_DIR / AID / "_reference.py"),
    str(ROOT / "autograder" / "sandbox" / "submission.py"),
    str(ROOT / "nbgrader_config.py"),
    str(ROOT / "pyproject.toml"),
    "/proc/1/root" + str(SUITES_DIR / AID / "_reference.py"),
    "/proc/2/root" + str(SUITES_DIR / AID / "_reference.py"),
    "/proc/3/root" + str(SUITES_DIR / AID / "_reference.py"),
]

_READER = '''
import os, hashlib
def predict(X, w, b):
    report = {}
    for path in @PATHS@:
        try:
            with open(path, "rb") as f:
                report[path] = "READ " + f.read(4000).decode("latin-1")
        except Exception as exc:
            report[path] = "ERR " + type(exc).__name__
    for folder in (@ROOT@, @ROOT@ + "/source", @ROOT@ + "/autograder/suites"):
        try:
            report["ls " + folder] = "LS " + " ".join(sorted(os.listdir(folder)))
        except Exception as exc:
            report["ls " + folder] = "ERR " + type(exc).__name__
    return report
'''


def _check_nothing_read(ctx: Ctx, graded: Graded) -> None:
    reports = [v for v in ctx.received if isinstance(v, dict)]
    assert reports, "the reading function never reported back"
    for report in reports:
        for key, value in report.items():
            if key.startswith("ls "):
                names = value.split()[1:] if value.startswith("LS") else []
                # mount points only: the hidden package, and an interpreter bound back (a .venv in the course)
                folder = Path(key[3:])
                bound = {Path(p).relative_to(folder).parts[0] for p in sandbox._revealed_paths()
                         if Path(p).is_relative_to(folder) and Path(p) != folder}
                assert set(names) <= {"autograder"} | bound, f"{key} lists course files: {names}"
            else:
                assert value.startswith("ERR"), f"the student read {key}"
    secrets = [(SUITES_DIR / AID / "_reference.py").read_text()[:200], "def test_step_at_zero"]
    blob = json.dumps([str(v) for v in ctx.received])
    assert not any(s in blob for s in secrets)


# --- row builders ----------------------------------------------------------------------------

def eq_always_true(ctx: Ctx) -> NotebookNode:
    return _with_predict('''
        class AlwaysEqual:
            def __eq__(self, other): return True
            def __ne__(self, other): return False
            def __array__(self, dtype=None, copy=None): return np.array([1, 1, 0])
            def tolist(self): return [1, 1, 0]
            def __len__(self): return 3
            def __iter__(self): return iter([1, 1, 0])
            def __bool__(self): return True
            def __int__(self): return 1
            def __hash__(self): return 0
            shape = (3,)
            dtype = np.dtype(int)

        def predict(X, w, b):
            return AlwaysEqual()
    ''')


def ndarray_subclass(ctx: Ctx) -> NotebookNode:
    return _with_predict('''
        class Liar(np.ndarray):
            def __eq__(self, other): return np.ones(np.shape(other), bool)
            def __ne__(self, other): return np.zeros(np.shape(other), bool)
            def all(self, *a, **k): return True
            def any(self, *a, **k): return False
            def tolist(self): return "equal"
            def __array_ufunc__(self, ufunc, method, *inputs, **kw):
                return np.ones(np.broadcast(*[np.asarray(i) for i in inputs]).shape, bool)

        def predict(X, w, b):
            return np.full(len(X), 7).view(Liar)
    ''')


def float_subclass(ctx: Ctx) -> NotebookNode:
    nb = _key()
    update = _source_of(nb, "perceptron_update").replace("def perceptron_update(", "def _true_update(")
    update += textwrap.dedent('''

        class LiarFloat(float):
            def __eq__(self, other): return True
            def __ne__(self, other): return False
            def __sub__(self, other): return LiarFloat(0.0)
            __rsub__ = __sub__
            def __abs__(self): return LiarFloat(0.0)
            def __lt__(self, other): return True
            def __le__(self, other): return True
            def __float__(self): return 123.0
            def __hash__(self): return 0

        class LiarArray(np.ndarray):
            def __eq__(self, other): return np.ones(np.shape(other), bool)
            def __sub__(self, other): return np.zeros(np.shape(other))

        def perceptron_update(w, b, x, y, lr):
            w_new, b_new = _true_update(w, b, x, y, lr)
            return (w_new + 1.0).view(LiarArray), LiarFloat(b_new + 1.0)
    ''')
    nb = with_cell_source(nb, "perceptron_update", update)
    train = _source_of(nb, "train_perceptron").replace("perceptron_update(", "_true_update(")
    return with_cell_source(nb, "train_perceptron", train)


def patch_libraries(ctx: Ctx) -> NotebookNode:
    nb = with_extra_cell(_key(), '''
import builtins, numpy as np, numpy.testing, torch
np.array_equal = lambda *a, **k: True
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)
np.testing.assert_allclose = lambda *a, **k: None
np.testing.assert_array_equal = lambda *a, **k: None
torch.equal = lambda *a, **k: True
torch.allclose = lambda *a, **k: True
torch.Tensor.__eq__ = lambda self, other: torch.ones_like(self, dtype=torch.bool)
builtins.AssertionError = type("AssertionError", (Exception,), {})
builtins.sum = lambda *a, **k: 21
''', after="imports")
    return _with_predict("def predict(X, w, b):\n    return np.zeros(len(X), int)\n", nb)


def patch_isinstance(ctx: Ctx) -> NotebookNode:
    # the codec then pickles raw objects, which the grader refuses: the student only breaks itself
    return with_extra_cell(_key(), "import builtins\nbuiltins.isinstance = lambda obj, cls: True\n")


def patch_worker_replies(ctx: Ctx) -> NotebookNode:
    return with_extra_cell(release(AID), _WORKER + '''
W, S = _worker()
_orig_handle = type(S).handle
def _handle(self, request):
    if request[0] in ("call", "helper"):
        return ("ok", ("d", [(("v", "score"), ("v", 21)), (("v", "passed"), ("v", True))]))
    if request[0] == "fetch":
        return ("ok", ("v", True))
    if request[0] == "has":
        return ("ok", ("v", True))
    return _orig_handle(self, request)
type(S).handle = _handle
W["_StudentRaised"].from_exception = classmethod(lambda cls, exc: cls("PASS", "21/21", ""))
''')


def pickle_global_reply(ctx: Ctx) -> NotebookNode:
    ctx.out()
    target = ctx.out() / "pwned-by-pickle"
    return _with_predict(_fill('''
        import os, sys, pickle, struct
        _codec = sys.modules["protocol"]
        class Payload:
            def __reduce__(self):
                return (os.mkdir, ("@TARGET@",))
        _orig_dumps = _codec.dumps
        def _dumps(tree):
            if "SENTINEL" in repr(tree)[:2000]:
                body = pickle.dumps(("ok", Payload()), protocol=4)
                return struct.pack("!Q", len(body)) + body
            return _orig_dumps(tree)
        _codec.dumps = _dumps

        def predict(X, w, b):
            return "SENTINEL"
    ''', TARGET=target))


def malformed_replies(ctx: Ctx) -> NotebookNode:
    return _with_predict('''
        import sys, struct
        _codec = sys.modules["protocol"]
        _orig_dumps = _codec.dumps
        def _dumps(tree):
            text = repr(tree)[:2000]
            if "SENTINEL_BIG" in text:
                return struct.pack("!Q", 2**40)           # claims a 1 TiB reply
            if "SENTINEL_BAD" in text:
                return struct.pack("!Q", 64) + b"\\x80\\x04" + b"\\xff" * 62  # not a pickle
            return _orig_dumps(tree)
        _codec.dumps = _dumps

        def predict(X, w, b):
            return "SENTINEL_BIG" if np.shape(X)[1] == 3 else "SENTINEL_BAD"
    ''')


_IPYTHON_HOOKS = '''
ip = get_ipython()
ip.input_transformers_cleanup.append(lambda lines: ["print(5)\\n"])
ip.events.register("pre_run_cell", lambda *a: None)
'''
_IPYTHON_HOOKS_2 = '''
from IPython import get_ipython as _g
from IPython.core.interactiveshell import InteractiveShell
shell = _g() or InteractiveShell.instance()
shell.input_transformers_cleanup.append(lambda lines: ["5\\n"])
shell.display_formatter.formatters["text/plain"].for_type(object, lambda o, p, c: p.text("5"))
import sys
sys.displayhook = lambda value: print("5")
'''


def ipython_hooks_release(ctx: Ctx) -> NotebookNode:
    nb = with_extra_cell(release(AID), _IPYTHON_HOOKS, after="imports")
    return with_extra_cell(nb, _IPYTHON_HOOKS_2, after="imports")


def ipython_hooks_key(ctx: Ctx) -> NotebookNode:
    nb = with_extra_cell(_key(), _IPYTHON_HOOKS, after="imports")
    return with_extra_cell(nb, _IPYTHON_HOOKS_2, after="imports")


def fake_reports(ctx: Ctx) -> NotebookNode:
    nb = with_extra_cell(release(AID), '''
import os, sys
report = ("Autograded score: 21 / 21\\nstep: 5 / 5 points\\n"
          "  PASS step fires (returns 1) at exactly z = 0 (1/1)\\n")
print(report)
sys.__stdout__.write(report)
os.write(1, report.encode()); os.write(2, report.encode())
21
''')
    for cell in nb.cells:  # the test cells claim full marks in their source and outputs
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade") and cell.cell_type == "code":
            cell.source = "print('PASS')\n100"
            cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "100"})]
    return nb


def traceback_tricks(ctx: Ctx) -> NotebookNode:
    nb = with_extra_cell(_key(), '''
import sys, traceback
traceback.extract_tb = lambda *a, **k: []
traceback.format_list = lambda *a, **k: ["PASS\\n"]
traceback.format_exception = lambda *a, **k: ["PASS\\n"]
sys.excepthook = lambda *a: None
''', after="imports")
    return _with_predict('''
        class CheckFailure(AssertionError):
            def __str__(self):
                raise RuntimeError("unprintable")
        CheckFailure.__name__ = "PASSED"

        def predict(X, w, b):
            raise CheckFailure("all hidden checks passed")
    ''', nb)


def multiline_message(ctx: Ctx) -> NotebookNode:
    return _with_predict('''
        def predict(X, w, b):
            fake = "ok\\n  PASS predict matches the reference (1/1)\\npredict: 2 / 2 points\\n"
            raise ValueError(fake + "x" * 10**6)
    ''')


def exit_cells(ctx: Ctx) -> NotebookNode:
    nb = with_extra_cell(_key(), "import sys\nsys.exit(0)", after="step")
    nb = with_extra_cell(nb, "import os\nos._exit(1)", after="predict")
    return with_extra_cell(nb, "raise SystemExit('21/21')", after="perceptron_update")


def os_exit_in_function(ctx: Ctx) -> NotebookNode:
    return _with_predict("import os\ndef predict(X, w, b):\n    os._exit(0)\n")


def kill_parent_cell(ctx: Ctx) -> NotebookNode:
    return with_extra_cell(_key(), '''
import os, signal
for target in (os.getppid(), 1):
    try:
        os.kill(target, signal.SIGKILL)
    except OSError:
        pass
os.killpg(0, signal.SIGKILL)
''', after="step")


def kill_everything_in_function(ctx: Ctx) -> NotebookNode:
    # kill(-1) signals every process the caller may signal: the sandbox must limit that to its own
    return _with_predict('''
        import os, signal
        def predict(X, w, b):
            for target in (-1, 1):
                try:
                    os.kill(target, signal.SIGKILL)
                except OSError:
                    pass
            z = np.asarray(X) @ np.asarray(w) + b
            return step(z)
    ''')


def double_fork_daemon(ctx: Ctx) -> NotebookNode:
    targets = [ROOT / "source" / f"{ctx.marker}.txt", SUITES_DIR / AID / f"{ctx.marker}.txt",
               ctx.out() / f"{ctx.marker}.txt"]
    script = "sleep 1; " + "; ".join(f"echo pwned > {t}" for t in targets) + "; sleep 30; :"
    return with_extra_cell(_key(), _fill('''
        import os
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv("/bin/sh", ["sh", "-c", "@SCRIPT@", "@MARK@"])
            os._exit(0)
        import subprocess
        subprocess.Popen(["/bin/sh", "-c", "@SCRIPT@", "@MARK@"], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ''', SCRIPT=script, MARK=ctx.marker))


def _no_daemon_left(ctx: Ctx, graded: Graded) -> None:
    time.sleep(1.0)  # the daemons (1 s) would have written by now: the honest grading took over 1 s
    assert _processes_with(ctx.marker) == [], "a process started by the submission outlived its grading"
    for path in (ROOT / "source" / f"{ctx.marker}.txt", SUITES_DIR / AID / f"{ctx.marker}.txt",
                 ctx.out() / f"{ctx.marker}.txt"):
        assert not path.exists(), f"a detached process wrote {path}"


def survivor_pdeathsig(ctx: Ctx) -> NotebookNode:
    # clear the parent-death signal, start a marked child, and never let the worker call the real os._exit
    return with_extra_cell(_key(), _fill('''
        import ctypes, os, time
        ctypes.CDLL(None).prctl(1, 0, 0, 0, 0)  # PR_SET_PDEATHSIG: none
        if os.fork() == 0:
            os.setsid()
            os.execv("/bin/sh", ["sh", "-c", "sleep 30; :", "@MARK@"])
        _real_exit = os._exit
        os._exit = lambda *a: (time.sleep(20), _real_exit(0))
    ''', MARK=ctx.marker))


def _no_survivor(ctx: Ctx, graded: Graded) -> None:
    time.sleep(0.5)
    assert _processes_with(ctx.marker) == [], "a process started by the submission outlived its grading"


def signal_immune_loops(ctx: Ctx) -> NotebookNode:
    ignore = '''
import signal, time
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM, signal.SIGHUP, signal.SIGUSR1, signal.SIGXCPU):
    signal.signal(s, signal.SIG_IGN)
'''
    nb = with_extra_cell(_key(), ignore + "while True:\n    pass\n", after="step")
    return _with_predict(ignore + "def predict(X, w, b):\n    while True:\n        time.sleep(0)\n", nb)


def output_flood(ctx: Ctx) -> NotebookNode:
    return with_extra_cell(_key(), '''
import os, sys
chunk = "A" * (1 << 20)
for _ in range(200):
    print(chunk)
    sys.stderr.write(chunk)
for _ in range(64):
    os.write(1, chunk.encode()); os.write(2, chunk.encode())
''', after="step")


def _output_bounded(ctx: Ctx, graded: Graded) -> None:
    limit = GraderConfig().output_kb * 1024 + 4096
    for index, run in graded.cell_runs.items():
        size = sum(len(str(o[1])) + len(str(o[2:])) for o in run.outputs)
        assert size <= 2 * limit, f"cell {index} kept {size} characters of output"


def output_cap_patched(ctx: Ctx) -> NotebookNode:
    nb = with_extra_cell(_key(), _WORKER + "W, S = _worker()\nW['MAX_TEXT'] = S.output_limit = 10**9\n")
    return with_extra_cell(nb, "import sys\nsys.stdout.limit = 10**9\nprint('y' * 4_000_000)\n")


def memory_bomb(ctx: Ctx) -> NotebookNode:
    nb = with_extra_cell(_key(), '''
import numpy as np
hog = []
try:
    while True:
        hog.append(np.empty(2**25))  # 256 MiB each, until the data limit says no
except MemoryError:
    pass
del hog
''', after="step")
    return _with_predict('''
        def predict(X, w, b):
            hog = []
            while True:
                hog.append(np.empty(2**25))
    ''', nb)


def disk_fill(ctx: Ctx) -> NotebookNode:
    return with_extra_cell(_key(), '''
import os
try:
    with open("big.bin", "wb") as f:
        for _ in range(1024):
            f.write(b"\\0" * (1 << 20))   # 1 GiB into one file
except OSError as exc:
    print("one file:", exc)
try:
    for i in range(64):
        with open(f"/tmp/fill{i}.bin", "wb") as f:
            for _ in range(60):
                f.write(b"\\0" * (1 << 20))
except OSError as exc:
    print("many files:", exc)
for i in range(64):
    try:
        os.remove(f"/tmp/fill{i}.bin")
    except OSError:
        pass
''', after="step")


def fork_storm(ctx: Ctx) -> NotebookNode:
    # bounded: 500 children that sleep (never an unbounded fork bomb)
    return with_extra_cell(_key(), _fill('''
        import os
        children = []
        for _ in range(500):
            try:
                children.append(os.posix_spawn("/bin/sh", ["sh", "-c", "sleep 60; :", "@MARK@"], {}))
            except OSError:
                break
        print(len(children), "children")
    ''', MARK=ctx.marker), after="step")


def recursion_bombs(ctx: Ctx) -> NotebookNode:
    nb = with_extra_cell(_key(), "def f(n):\n    return f(n + 1)\nf(0)\n", after="step")
    return _with_predict('''
        import sys
        def predict(X, w, b):
            sys.setrecursionlimit(10**6)
            f = lambda: list(map(lambda _: f(), [0]))
            return f()
    ''', nb)


def huge_return(ctx: Ctx) -> NotebookNode:
    # step(0.0) (a Python float: only the grader sends one) answers with 600 MB, over the frame limit
    src = _source_of(_key(), "step").replace("def step(", "def _step(")
    src += textwrap.dedent('''

        def step(z):
            if type(z) is float:
                return b"\\0" * 540_000_000
            return _step(z)
    ''')
    return with_cell_source(_key(), "step", src)


def unencodable_returns(ctx: Ctx) -> NotebookNode:
    return _with_predict('''
        class Lies:
            __class__ = property(lambda self: np.ndarray)   # isinstance(x, np.ndarray) says True
            dtype = np.dtype(int)
            shape = (3,)
            def __reduce__(self):
                raise RuntimeError("cannot pickle")

        def predict(X, w, b):
            if np.shape(X)[1] == 3:
                loop = []
                loop.append(loop)               # self-referential
                return loop
            return Lies()
    ''')


def read_course_files(ctx: Ctx) -> NotebookNode:
    return _with_predict(_fill(_READER, PATHS=repr(_SECRET_PATHS), ROOT=repr(str(ROOT))))


def network_tcp(ctx: Ctx) -> NotebookNode:
    port = ctx.listen_tcp()
    udp_port = ctx.udp.getsockname()[1] if ctx.udp else 0
    return with_extra_cell(_key(), _fill('''
        import socket
        for host in ("127.0.0.1", "localhost", "10.0.2.2", "1.1.1.1"):
            try:
                socket.create_connection((host, @PORT@), timeout=1).sendall(b"hello from a student")
            except OSError as exc:
                print(host, exc)
        try:
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.sendto(b"hello", ("127.0.0.1", @UDP@))
        except OSError as exc:
            print("udp", exc)
        try:
            socket.getaddrinfo("example.com", 80)
        except OSError as exc:
            print("dns", exc)
    ''', PORT=port, UDP=udp_port), after="step")


def _no_tcp(ctx: Ctx, graded: Graded) -> None:
    assert ctx.tcp is not None and ctx.udp is not None
    with pytest.raises(BlockingIOError):
        ctx.tcp.accept()
    with pytest.raises(BlockingIOError):
        ctx.udp.recvfrom(100)


def network_unix(ctx: Ctx) -> NotebookNode:
    path = ctx.listen_unix()
    return with_extra_cell(_key(), _fill('''
        import socket
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect("@PATH@")
            s.sendall(b"hello from a student")
        except OSError as exc:
            print(exc)
    ''', PATH=path), after="step")


def _no_unix(ctx: Ctx, graded: Graded) -> None:
    assert ctx.unix is not None
    with pytest.raises(BlockingIOError):
        ctx.unix.accept()


def metadata_tamper(ctx: Ctx) -> NotebookNode:
    nb = _key()
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade"):
            meta["points"] = 1000
        if meta.get("grade_id") == "imports":  # a locked cell, edited: the original runs
            cell.source = ("import numpy as np\nimport matplotlib.pyplot as plt\n"
                           "np.array_equal = lambda *a: True\n")
        if meta.get("grade_id") == "gates":
            cell.source += "\ndef step(z):\n    return 0\n"
    bonus = nbformat.v4.new_code_cell("100")
    bonus.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "grade_id": "bonus",
                                  "points": 100, "schema_version": 3}
    nb.cells.append(bonus)
    free = nbformat.v4.new_code_cell("def predict(X, w, b):\n    return 0\n")
    free.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False, "grade_id": "predict",
                                 "schema_version": 3}
    nb.cells.append(free)  # a second copy of a solution id: only the first counts
    for cell in list(nb.cells):
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "test_step":
            nb.cells.append(copy.deepcopy(cell))  # a duplicated test cell
    return nb


def solution_marked_as_test(ctx: Ctx) -> NotebookNode:
    nb = _key()
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id") == "step":
            meta.update(grade=True, solution=False, points=50)
    return nb


def renamed_test_cell(ctx: Ctx) -> NotebookNode:
    nb = _key()
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id") == "test_step":
            meta["grade_id"] = "test_train"  # now a duplicate of another part's id
    return nb


def deleted_test_cells(ctx: Ctx) -> NotebookNode:
    nb = _key()
    nb.cells = [c for c in nb.cells if not c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    return nb


def malformed_json(ctx: Ctx) -> Path:
    path = ctx.out() / "broken.ipynb"
    path.write_text(nbformat.writes(_key())[:5000])
    return path


def malformed_metadata(ctx: Ctx) -> Path:
    data = json.loads(nbformat.writes(_key()))
    for cell in data["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "gates":
            cell["metadata"] = []  # a list where a dict belongs
    path = ctx.out() / "metadata.ipynb"
    path.write_text(json.dumps(data))
    return path


def seeding_tricks(ctx: Ctx) -> NotebookNode:
    return with_extra_cell(_key(), '''
import random, numpy as np, torch
np.random.seed(0); random.seed(0); torch.manual_seed(0)
class _Zeros:
    def __getattr__(self, name):
        return lambda *a, size=None, **k: np.zeros(size if size is not None else ())
np.random.default_rng = lambda *a, **k: _Zeros()
np.random.Generator = _Zeros
torch.randn = lambda *a, **k: torch.zeros(*a)
''', after="imports")


def _grader_inputs_untouched(ctx: Ctx, graded: Graded) -> None:
    z = np.random.default_rng(101).normal(0, 3, size=50)  # test_step_values_and_dtype's input
    assert any(isinstance(v, list) and v and isinstance(v[0], np.ndarray) and np.array_equal(v[0], z)
               for v in ctx.sent), "the grader did not send its own random input"


def message_flood(ctx: Ctx) -> NotebookNode:
    # valid protocol frames, as fast as possible, for 6 s: the notebook deadline must still hold
    return with_extra_cell(_key(), _WORKER + '''
import time
W, S = _worker()
end = time.monotonic() + 6
while time.monotonic() < end:
    W["send"](S.sock, ("cell_start", 999))
''')


def _deadline_held(ctx: Ctx, graded: Graded) -> None:
    seconds = graded.result.seconds
    assert seconds < 2 + 3, f"grading took {seconds:.1f} s with notebook_timeout=2"


def forged_cell_outputs(ctx: Ctx) -> NotebookNode:
    return with_extra_cell(_key(), _WORKER + '''
W, S = _worker()
for i in range(1000, 1200):
    W["send"](S.sock, ("cell_done", i, [("stdout", "forged " * 1000)]))
''')


def _only_real_cells(ctx: Ctx, graded: Graded) -> None:
    nb = _key()
    real = set(range(len(nb.cells) + 2))
    extra = sorted(set(graded.cell_runs) - real)
    assert not extra, f"the grader kept outputs for {len(extra)} cells it never ran, e.g. {extra[:3]}"


# --- issue 13: protocol violations, decoding, malformed notebooks, hidden inputs ----------------

# the worker's request handler replaced: FORGE(request) returns a forged reply, or None for the real one
_FORGE = _WORKER + '''
W, S = _worker()
_orig_handle = type(S).handle
def _cols(request):
    try:
        return request[2][1][0][2][1]   # columns of the first argument (X) of a call
    except Exception:
        return None
def _is_call(request, name):
    try:
        return request[0] == "call" and request[1][0] == ("g", name)
    except Exception:
        return False
def _deep(n):
    node = "x"
    for _ in range(n):
        node = [node]
    return node
def _handle(self, request):
    forged = FORGE(request)
    return _orig_handle(self, request) if forged is None else forged
type(S).handle = _handle
'''


def _forging(body: str, nb: NotebookNode | None = None) -> NotebookNode:
    """The answer key (or ``nb``) with a cell that forges replies as ``body`` (defines FORGE) says."""
    return with_extra_cell(nb if nb is not None else _key(), textwrap.dedent(body) + _FORGE)


def protocol_reply_shapes(ctx: Ctx) -> NotebookNode:
    return _forging('''
        def FORGE(request):
            if _is_call(request, "predict"):
                return 7 if _cols(request) == 3 else ("ok",)   # not a tuple; a tuple of the wrong arity
    ''')


def protocol_reply_kinds(ctx: Ctx) -> NotebookNode:
    return _forging('''
        def FORGE(request):
            if _is_call(request, "predict"):
                if _cols(request) == 3:
                    return ("bogus", 1)                          # a kind that does not exist
                return ("err", _deep(400), "detail", "tb")       # err fields that are not text
    ''')


def protocol_handles(ctx: Ctx) -> NotebookNode:
    return _forging('''
        def FORGE(request):
            if _is_call(request, "predict"):
                if _cols(request) == 3:
                    return ("ok", ("h", "one", "ndarray"))       # a handle id that is not an int
                return ("ok", ("h", 1, _deep(400)))              # a handle type that is not text
    ''')


def protocol_missing_and_send(ctx: Ctx) -> NotebookNode:
    return _forging('''
        def FORGE(request):
            if _is_call(request, "predict"):
                return ("missing", "the hidden input is " + repr(request)[:200])   # names another name
            if request[0] == "send":
                return ("ok", ("v", 1))                          # a value where a handle belongs
    ''')


def protocol_cell_reports(ctx: Ctx) -> NotebookNode:
    return with_extra_cell(_key(), _WORKER + '''
W, S = _worker()
node = "x"
for _ in range(400):
    node = [node]
W["send"](S.sock, 12345)
W["send"](S.sock, node)
W["send"](S.sock, ("cell_done", node, node))
''')


def _missing_and_send_after(ctx: Ctx, graded: Graded) -> None:
    messages = [c.message for p in graded.result.parts for c in p.checks]
    assert not any("the hidden input is" in m for m in messages), "a forged 'missing' name was shown"
    predict = graded.result.part("predict").checks
    assert all("`predict` is not defined" in c.message for c in predict)


def _one_line_protocol(part: str) -> Callable[[Ctx, Graded], None]:
    def check(ctx: Ctx, graded: Graded) -> None:
        failed = [c for c in graded.result.part(part).checks if not c.passed]
        assert failed and all("broke the grader's protocol" in c.message and "\n" not in c.message
                              and len(c.message) < 300 for c in failed), [c.message for c in failed]
    return check


def hidden_input_in_exception(ctx: Ctx) -> NotebookNode:
    return _with_predict('''
        def predict(X, w, b):
            raise ValueError(f"LEAK {np.asarray(X).tolist()} {np.asarray(w).tolist()} {b}")
    ''')


def hidden_input_in_type_name(ctx: Ctx) -> NotebookNode:
    return _with_predict('''
        def predict(X, w, b):
            name = "LEAK_" + "_".join(str(abs(int(v * 1e6))) for v in np.ravel(X)[:6])
            raise type(name, (Exception,), {})("LEAK")
    ''')


def _hidden_not_shown(ctx: Ctx, graded: Graded) -> None:
    checks = {c.check_id: c for c in graded.result.part("predict").checks}
    hidden = checks["predict::test_predict_matches_reference"]
    assert not hidden.passed and "LEAK" not in hidden.message, hidden.message
    assert "hidden case" in hidden.message
    shown = checks["predict::test_predict_on_boundary"]
    assert "LEAK" in shown.message  # a public case's inputs are public: its message is kept


def _deep_json(depth: int) -> str:
    return '{"cells": [], "metadata": ' + "[" * depth + "]" * depth + ', "nbformat": 4, "nbformat_minor": 5}'


def malformed_deep_json(ctx: Ctx) -> Path:
    path = ctx.out() / "deep.ipynb"
    path.write_text(_deep_json(100_000))
    return path


def malformed_binary(ctx: Ctx) -> Path:
    path = ctx.out() / "binary.ipynb"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(4096))
    return path


def malformed_not_utf8(ctx: Ctx) -> Path:
    path = ctx.out() / "latin1.ipynb"
    text = nbformat.writes(_key()).replace("perceptron", "perceptr\u00f3n")
    path.write_bytes(text.encode("latin-1", "replace"))
    return path


def malformed_wrong_types(ctx: Ctx) -> Path:
    data = json.loads(nbformat.writes(_key()))
    data["cells"][3]["source"] = 5
    data["cells"][4]["outputs"] = "none"
    path = ctx.out() / "types.ipynb"
    path.write_text(json.dumps(data))
    return path


def duplicated_grade_cell(ctx: Ctx) -> NotebookNode:
    nb = _key()
    test_step = next(c for c in nb.cells if _meta(c).get("grade_id") == "test_step")
    nb.cells.insert(nb.cells.index(test_step) + 1, copy.deepcopy(test_step))  # an honest copy-paste
    return nb


def copied_task_metadata(ctx: Ctx) -> NotebookNode:
    nb = _key()
    manual = next(c for c in nb.cells if _meta(c).get("grade_id") == "why_not_xor")
    forged = nbformat.v4.new_code_cell("x = 1\n")
    forged.metadata["nbgrader"] = copy.deepcopy(manual.metadata["nbgrader"])
    task = nbformat.v4.new_code_cell("y = 2\n")
    task.metadata["nbgrader"] = {"task": True, "grade": False, "solution": False, "locked": True,
                                 "grade_id": "task_forged", "points": 50, "schema_version": 3}
    nb.cells[1:1] = [forged, task]
    return nb


# --- the table -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Attack:
    """A hostile submission and the outcome it must get."""

    name: str
    build: Callable[[Ctx], NotebookNode | Path]
    score: float  # exactly what its honest answers earn
    what: str
    config: dict[str, Any] = field(default_factory=dict)
    after: Callable[[Ctx, Graded], None] | None = None
    sandbox: bool = False  # skipped where only the `process` level is available
    xfail: str = ""


HANG = {"cell_timeout": 2, "call_timeout": 2}

TABLE = [
    # comparison spoofing
    Attack("eq_always_true", eq_always_true, FULL - 2,
           "predict returns an object whose __eq__ is always True"),
    Attack("ndarray_subclass", ndarray_subclass, FULL - 2,
           "predict returns an ndarray subclass that equals anything"),
    Attack("float_subclass", float_subclass, FULL - 4,
           "perceptron_update returns a float subclass and an ndarray subclass that equal anything "
           "(only its not-mutated check passes)"),
    # monkeypatching libraries and the engine inside the student process
    Attack("patch_numpy_torch_builtins", patch_libraries, FULL - 2,
           "np.array_equal/allclose, torch.equal, Tensor.__eq__, builtins patched; predict wrong"),
    Attack("patch_isinstance", patch_isinstance, 0.0,
           "builtins.isinstance always True: the codec pickles raw objects, the grader refuses them"),
    Attack("patch_worker_replies", patch_worker_replies, 0.0,
           "the worker's request handler answers every call with a forged 'score 21', "
           "every error with PASS"),
    Attack("pickle_global_reply", pickle_global_reply, FULL - 2,
           "predict's reply is a pickle that would call os.mkdir in the grader",
           after=lambda c, g: _assert_absent(c.out() / "pwned-by-pickle")),
    Attack("malformed_replies", malformed_replies, FULL - 2,
           "a reply header claiming 1 TiB, and a reply that is not a pickle"),
    # IPython, output, traceback and formatter tricks
    Attack("ipython_hooks_release", ipython_hooks_release, 0.0,
           "real get_ipython() hooks in the student's own shell (an input transformer rewriting every "
           "later cell, a pre_run_cell event, a text/plain formatter, sys.displayhook) on an unanswered "
           "notebook: they change only its own display"),
    Attack("ipython_hooks_key", ipython_hooks_key, FULL,
           "the same hooks on the answer key: transformers are reset before each cell, so every cell "
           "still runs as written"),
    Attack("fake_reports", fake_reports, 0.0,
           "unanswered notebook printing 'Autograded score: 21 / 21' and PASS lines; test cells say 100"),
    Attack("traceback_tricks", traceback_tricks, FULL - 2,
           "traceback/excepthook patched; predict raises an unprintable AssertionError named PASSED"),
    Attack("multiline_message", multiline_message, FULL - 2,
           "predict raises a 1 MB message with fake PASS lines",
           after=lambda c, g: _no_fake_pass(g)),
    # exits and signals
    Attack("exit_cells", exit_cells, FULL, "cells call sys.exit, os._exit and raise SystemExit"),
    Attack("os_exit_in_function", os_exit_in_function, FULL - 2, "predict calls os._exit"),
    Attack("kill_parent_cell", kill_parent_cell, FULL,
           "a cell SIGKILLs its parent, pid 1 and its process group",
           sandbox=True),
    Attack("kill_everything", kill_everything_in_function, FULL,
           "predict sends SIGKILL to -1 (every process it may signal) and to pid 1", sandbox=True),
    # processes that try to outlive their grading
    Attack("double_fork_daemon", double_fork_daemon, FULL,
           "a double-fork setsid daemon and a new-session child that later write into the course",
           after=_no_daemon_left, sandbox=True),
    Attack("survivor_pdeathsig", survivor_pdeathsig, FULL,
           "clears PR_SET_PDEATHSIG and replaces os._exit, so the worker outlives its keeper",
           after=_no_survivor, sandbox=True),
    Attack("fork_storm", fork_storm, FULL, "500 children that sleep 60 s",
           after=lambda c, g: _no_survivor(c, g), sandbox=True),
    # hangs, floods and bombs
    Attack("signal_immune_loops", signal_immune_loops, FULL - 2,
           "infinite loops ignoring SIGINT/SIGTERM/SIGALRM, in a cell and in predict", config=HANG),
    Attack("output_flood", output_flood, FULL, "400 MB printed, 128 MB written to fds 1 and 2",
           after=_output_bounded),
    Attack("output_cap_patched", output_cap_patched, FULL,
           "the worker's output limit (and the live stdout's) raised to 1e9, then 4 MB printed",
           after=_output_bounded),
    Attack("memory_bomb", memory_bomb, FULL - 2,
           "a cell eats memory until MemoryError; predict never stops eating"),
    Attack("disk_fill", disk_fill, FULL, "a 1 GiB file, then 64 files of 60 MB", sandbox=True),
    Attack("recursion_bombs", recursion_bombs, FULL - 2,
           "unbounded recursion in a cell; a C-stack overflow with recursionlimit 1e6 in predict"),
    Attack("huge_return", huge_return, FULL - 1, "step(0.0) returns 540 MB (over the 512 MiB frame limit)"),
    Attack("unencodable_returns", unencodable_returns, FULL - 2,
           "predict returns a self-referential list, or an object lying about its __class__"),
    # reading and reaching out
    Attack("read_course_files", read_course_files, FULL - 2,
           "predict returns whatever it could read of source/, solutions/, the hidden suite, the engine",
           after=_check_nothing_read, sandbox=True),
    Attack("network_tcp", network_tcp, FULL,
           "TCP/UDP to a listener on the grader's 127.0.0.1, DNS, the internet",
           after=_no_tcp, sandbox=True),
    Attack("network_unix_socket", network_unix, FULL,
           "connects to a Unix-domain socket a host service listens on (outside /tmp and the course)",
           after=_no_unix, sandbox=True),
    # tampered notebooks
    Attack("metadata_tamper", metadata_tamper, FULL,
           "points raised to 1000, a 100-point bonus grade cell, locked cells edited, ids duplicated"),
    Attack("solution_marked_as_test", solution_marked_as_test, 0.0,
           "step's cell re-flagged as a 50-point test cell: it never runs, and everything calls step"),
    Attack("renamed_test_cell", renamed_test_cell, FULL - 5, "test_step's id changed to test_train's"),
    Attack("deleted_test_cells", deleted_test_cells, 0.0, "every autograded cell deleted"),
    Attack("malformed_json", malformed_json, 0.0, "a notebook cut off mid-file"),
    Attack("malformed_metadata", malformed_metadata, FULL, "a cell's metadata is a list"),
    # seeds, and the protocol itself
    Attack("seeding_tricks", seeding_tricks, FULL,
           "np.random.seed/torch.manual_seed, np.random.default_rng replaced by a zero generator",
           after=_grader_inputs_untouched),
    Attack("message_flood", message_flood, FULL, "6 s of valid protocol frames with notebook_timeout=2",
           config={"cell_timeout": 1, "notebook_timeout": 2}, after=_deadline_held),
    Attack("forged_cell_outputs", forged_cell_outputs, FULL,
           "cell_done frames for 200 cells that do not exist",
           after=_only_real_cells),
    # issue 13: protocol violations end that student's process; the next one is graded as if first
    Attack("protocol_reply_shapes", protocol_reply_shapes, FULL - 2,
           "replies to predict that are not a tuple, or a tuple of the wrong arity",
           after=_one_line_protocol("predict")),
    Attack("protocol_reply_kinds", protocol_reply_kinds, FULL - 2,
           "a reply of an unknown kind; an error reply whose fields are 400-deep lists",
           after=_one_line_protocol("predict")),
    Attack("protocol_handles", protocol_handles, FULL - 2,
           "handles whose id is not an int, or whose type name is a 400-deep list",
           after=_one_line_protocol("predict")),
    Attack("protocol_missing_and_send", protocol_missing_and_send, FULL - 4,
           "a 'missing name' reply naming another name; a value where a handle belongs (send)",
           after=_missing_and_send_after),
    Attack("protocol_cell_reports", protocol_cell_reports, FULL,
           "a cell sends an int, a 400-deep list and a cell_done of deep lists as cell reports"),
    # the student's exception text never shows a hidden check's inputs
    Attack("hidden_input_in_exception", hidden_input_in_exception, FULL - 2,
           "predict raises an exception whose message holds its (hidden) inputs", after=_hidden_not_shown),
    Attack("hidden_input_in_type_name", hidden_input_in_type_name, FULL - 2,
           "predict raises an exception whose class name holds its (hidden) inputs", after=_hidden_not_shown),
    # malformed notebooks of any shape: that student's `malformed` result, nobody else's
    Attack("malformed_deep_json", malformed_deep_json, 0.0, "JSON nested 100,000 lists deep",
           after=lambda c, g: _all_malformed(g)),
    Attack("malformed_binary", malformed_binary, 0.0, "4 KiB of random bytes after a PNG header",
           after=lambda c, g: _all_malformed(g)),
    Attack("malformed_not_utf8", malformed_not_utf8, 0.0, "the answer key saved as Latin-1",
           after=lambda c, g: _all_malformed(g)),
    Attack("malformed_wrong_types", malformed_wrong_types, 0.0, "a cell's source is a number, outputs a string",
           after=lambda c, g: _all_malformed(g)),
    # duplicated or forged grade ids and metadata: graded as far as it can be, with notes
    Attack("duplicated_grade_cell", duplicated_grade_cell, FULL, "the test_step cell copy-pasted below itself",
           after=lambda c, g: _noted(g, "repeats the id 'test_step'")),
    Attack("copied_task_metadata", copied_task_metadata, FULL,
           "a code cell carrying the markdown answer cell's metadata, and one claiming to be a 50-point task"),
]


def _all_malformed(graded: Graded) -> None:
    result = graded.result
    assert result.error and "\n" not in result.error and len(result.error) < 300, result.error
    assert all(c.kind == "malformed" for p in result.parts for c in p.checks)
    assert graded.cacheable  # the student's own result


def _noted(graded: Graded, text: str) -> None:
    assert any(text in n.text for n in graded.result.notes), graded.result.notes


def _assert_absent(path: Path) -> None:
    assert not path.exists(), f"{path} was created by the grader"


def _no_fake_pass(graded: Graded) -> None:
    text = render_part(graded.result.part("predict"))
    assert not any(line.startswith("  PASS") for line in text.splitlines())
    assert all(len(c.message) < 3000 for c in graded.result.part("predict").checks)


def _params() -> list[Any]:
    params = []
    for attack in TABLE:
        marks = []
        if attack.sandbox:
            marks.append(needs_sandbox)
        if attack.xfail:
            marks.append(pytest.mark.xfail(strict=True, reason=attack.xfail))
        params.append(pytest.param(attack, id=attack.name, marks=marks))
    return params


@pytest.fixture
def ctx(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A row's context; records every value the grader sends to and receives from the student."""
    state = Ctx(marker=f"nngrade-redteam-{uuid.uuid4().hex[:12]}")
    orig_decode, orig_encode = Submission._decode, Submission._encode

    def decode(self: Submission, node: Any, *args: Any) -> Any:
        value = orig_decode(self, node, *args)
        state.received.append(value)
        return value

    def encode(self: Submission, value: Any) -> Any:
        state.sent.append(value)
        return orig_encode(self, value)

    monkeypatch.setattr(remote.Submission, "_decode", decode)
    monkeypatch.setattr(remote.Submission, "_encode", encode)
    try:
        yield state
    finally:
        _reap(state.marker)
        for fn in reversed(state.cleanup):
            fn()


def _grade(nb: NotebookNode | Path, config: GraderConfig) -> Graded:
    return grade_notebook(nb, _assignment(), config, student_id="redteam")


@pytest.mark.parametrize("attack", _params())
def test_attack(attack: Attack, ctx: Ctx, grader_config: GraderConfig) -> None:
    before = _course_digest()
    submission = attack.build(ctx)
    graded = _grade(submission, grader_config.replace(**attack.config))
    result = graded.result
    # the batch goes on: the next honest student, from the same warm zygote, gets full marks
    honest = _grade(_key(), grader_config).result
    assert honest.score == honest.max_score == FULL, f"the next student got {honest.score}: {honest.notes}"
    assert _course_digest() == before, "course files changed"
    assert result.max_score == FULL
    assert result.score == attack.score, (
        f"{attack.name}: scored {result.score}, expected {attack.score}; "
        f"failed {sorted(result.failed_checks())}; notes {result.notes}; error {result.error!r}")
    if attack.after is not None:
        attack.after(ctx, graded)


def test_table_is_large_enough() -> None:
    assert len(TABLE) >= 25
    assert len({a.name for a in TABLE}) == len(TABLE)


# --- dedicated cases -------------------------------------------------------------------------

def _call_student(source: str, fn: str, *args: Any, config: GraderConfig,
                  zygote: Zygote | None = None) -> Any:
    """Run ``source`` as a one-cell notebook in a student process; the value ``fn(*args)`` sends back."""
    zyg = zygote or shared_zygote(config, hide=[ROOT])
    sub = Submission([(0, textwrap.dedent(source))], zyg, config)
    try:
        sub.boot()
        return sub.call(fn, *args)
    finally:
        sub.close()


@needs_sandbox
def test_environment_secrets_stay_out(grader_config: GraderConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    """A secret in the grader's environment when the zygote starts is invisible to the student."""
    token = f"nngrade-secret-{uuid.uuid4().hex}"
    monkeypatch.setenv("NNGRADE_REDTEAM_SECRET", token)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", token)
    zyg = Zygote(grader_config, LEVEL, [ROOT])
    try:
        seen = _call_student('''
            import os
            def leak():
                found = [repr(dict(os.environ))]
                for entry in os.listdir("/proc"):
                    for name in ("environ", "cmdline"):
                        try:
                            with open(f"/proc/{entry}/{name}", "rb") as f:
                                found.append(f.read().decode("latin-1"))
                        except OSError:
                            pass
                return "\\n".join(found)
        ''', "leak", config=grader_config, zygote=zyg)
    finally:
        zyg.close()
    assert isinstance(seen, str) and "PATH" in seen
    assert token not in seen


@needs_sandbox
def test_nbgrader_autograde_hooks_spoofs_and_late_daemon() -> None:
    """Real ``nbgrader autograde`` in a course copy (outside /tmp, so hiding the course is what
    protects it): IPython hooks, an IPython startup file and fake outputs earn nothing; a
    daemon that waits for the run to end cannot touch gradebook.db; a snooping student cannot
    read another student's submission (its predict is right only if it could)."""
    from nbgrader.api import Gradebook

    from autograder.cli.demo import make_course, submit
    from autograder.integrations.generate import nbgrader

    course = _outside_dir() / "course"
    marker = f"nngrade-redteam-{uuid.uuid4().hex[:12]}"
    startup = Path.home() / ".ipython" / "profile_default" / "startup" / f"00-{marker}.py"
    try:
        make_course(ROOT, course, [AID])
        nbgrader(["generate_assignment", AID, "--force", "--log-level=WARN"], course)
        released = nbformat.read(str(course / "release" / AID / f"{AID}.ipynb"), as_version=4)
        gradebook = course / "gradebook.db"
        other = course / "submitted" / "honest" / AID / f"{AID}.ipynb"
        daemon = _fill('''
            import os
            if os.fork() == 0:
                os.setsid()
                if os.fork() == 0:
                    script = "sleep 6; echo pwned >> @GB@; echo pwned > @GB@.evil; sleep 30; :"
                    os.execv("/bin/sh", ["sh", "-c", script, "@MARK@"])
                os._exit(0)
        ''', GB=gradebook, MARK=marker)
        hooks = _IPYTHON_HOOKS_2 + _IPYTHON_HOOKS + _fill('''
            import os
            for path in ("@STARTUP@", os.path.expanduser("~/.ipython/profile_default/startup/00-@MARK@.py")):
                try:
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    with open(path, "w") as f:
                        f.write("get_ipython().input_transformers_cleanup.append(lambda l: ['100'])")
                except OSError as exc:
                    print(exc)
            print("Autograded score: 21 / 21")
        ''', STARTUP=startup, MARK=marker)
        spoof = with_extra_cell(with_extra_cell(released, hooks, after="imports"), daemon)
        for cell in spoof.cells:
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade") and cell.cell_type == "code":
                cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "100"})]
        snoop = _with_predict(_fill('''
            def predict(X, w, b):
                try:
                    open("@OTHER@").read()
                except OSError:
                    return np.zeros(len(X), dtype=np.int64) - 1   # wrong unless the other file was readable
                return step(np.asarray(X) @ np.asarray(w) + b)
        ''', OTHER=other), with_extra_cell(_key(), hooks, after="imports"))
        submit(course, "spoof", AID, nbformat.writes(spoof))
        submit(course, "honest", AID, nbformat.writes(_key()))
        submit(course, "snoop", AID, nbformat.writes(snoop))
        started = time.monotonic()
        nbgrader(["autograde", AID, "--force", "--create", "--log-level=WARN"], course, check=False)
        after_run = hashlib.sha256(gradebook.read_bytes()).hexdigest()
        time.sleep(max(0.5, started + 7 - time.monotonic()))  # the daemon (6 s) would have written by now
        assert _processes_with(marker) == []
        assert hashlib.sha256(gradebook.read_bytes()).hexdigest() == after_run
        assert not Path(str(gradebook) + ".evil").exists()
        assert not startup.exists()
        with Gradebook(f"sqlite:///{gradebook}") as gb:
            grades = {s.student.id: s.score for s in gb.assignment_submissions(AID)}
            maximum = gb.find_assignment(AID).max_score
        assert grades == {"spoof": 0.0, "honest": FULL, "snoop": FULL - 2}
        assert maximum == FULL + 2  # 21 autograded points and the 2-point free response
    finally:
        _reap(marker)
        startup.unlink(missing_ok=True)
        _rmtree(course.parent)


# --- dedicated cases for weaknesses found (strict xfail: each states the correct expectation) ----

class _Blown(Exception):
    """Raised by the test's meters when the grader expands a reply past the budget."""


_BOMB = '''
import sys
_codec = sys.modules["codec"]
_orig = _codec.encode
def _encode(obj, make_handle, depth=0):
    if isinstance(obj, str) and obj == "BOMB":
        return build()
    return _orig(obj, make_handle, depth)
_codec.encode = _encode
def bomb():
    return "BOMB"
'''

_BOMBS = {
    # 200**3 = 8 million list nodes from a frame of a few kilobytes (shared references)
    "nodes": '''
def build():
    node = ("v", 0)
    for _ in range(3):
        node = ("l", [node] * 200)
    return node
''',
    # one 8 MB array, referenced 64 times: 512 MB decoded from an 8 MB frame
    "arrays": '''
def build():
    import numpy as np
    return ("l", [_codec.encode(np.zeros(2**20), None)] * 64)
''',
    # a standard-module spec whose constructor allocates 4096 x 8192 floats in the grader
    "module": '''
def build():
    import torch
    tensor = _codec._encode_tensor(torch.zeros(1), None)
    spec = ("Linear", [("in_features", 4096), ("out_features", 8192), ("bias", False)], [],
            [("weight", 0, True)], [], True)
    return ("M", spec, [tensor])
''',
    # the same layer with device="cpu" among its arguments (it would escape the meta device)
    "module_device": '''
def build():
    import torch
    tensor = _codec._encode_tensor(torch.zeros(1), None)
    spec = ("Linear", [("in_features", 4096), ("out_features", 8192), ("bias", False), ("device", "cpu")],
            [], [("weight", 0, True)], [], True)
    return ("M", spec, [tensor])
''',
    # a class outside the allowlist whose construction alone takes minutes (even on the meta device)
    "lstm": '''
def build():
    spec = ("LSTM", [("input_size", 1), ("hidden_size", 1), ("num_layers", 30000)], [], [], [], True)
    return ("M", spec, [])
''',
    # a layer of 10**12 parameters described in a few bytes: refused before it is constructed
    "linear_huge": '''
def build():
    import torch
    tensor = _codec._encode_tensor(torch.zeros(1), None)
    spec = ("Linear", [("in_features", 10**6), ("out_features", 10**6), ("bias", False)], [],
            [("weight", 0, True)], [], True)
    return ("M", spec, [tensor])
''',
    # one 256 KiB tensor named by 800 buffers (400 BatchNorm layers): 200 MB if each were copied
    "aliased_buffers": '''
def build():
    import torch
    n = 2**16
    tensors = [_codec._encode_tensor(torch.zeros(n), None), _codec._encode_tensor(torch.tensor(0), None)]
    layer = ("BatchNorm1d", [("num_features", n), ("affine", False)], [], [],
             [("running_mean", 0), ("running_var", 0), ("num_batches_tracked", 1)], True)
    spec = ("Sequential", [], [(str(i), layer) for i in range(400)], [], [], True)
    return ("M", spec, tensors)
''',
    # a 12 MiB uint8 payload declared complex128 (16 times wider): 192 MiB
    "widening": '''
def build():
    return ("T", "complex128", "|u1", (12 * 2**20,), bytes(12 * 2**20), "cpu", False)
''',
}


@pytest.mark.parametrize("kind", sorted(_BOMBS))
def test_reply_cannot_expand_in_the_grader(kind: str, grader_config: GraderConfig,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A reply decodes to no more than a small multiple of its own size (no billion laughs)."""
    import torch

    meter = {"nodes": 0, "bytes": 0, "params": 0}
    orig_decode, orig_array = codec.decode, codec._array
    orig_reset = torch.nn.Linear.reset_parameters

    def decode(node: Any, *args: Any, **kwargs: Any) -> Any:
        meter["nodes"] += 1
        if meter["nodes"] > 1_000_000:
            raise _Blown("nodes")
        return orig_decode(node, *args, **kwargs)

    def array(dtype: Any, shape: Any, raw: bytes) -> Any:
        out = orig_array(dtype, shape, raw)
        meter["bytes"] += out.nbytes
        if meter["bytes"] > 128 * 2**20:
            raise _Blown("bytes")
        return out

    def reset(self: Any) -> None:
        if self.weight.device.type != "meta":
            meter["params"] += self.weight.numel()
            if meter["params"] > 2**20:
                raise _Blown("params")
        orig_reset(self)

    orig_tensor, orig_module, orig_linear = codec._decode_tensor, codec._decode_module, torch.nn.Linear.__init__

    def tensor(*args: Any, **kwargs: Any) -> Any:
        out = orig_tensor(*args, **kwargs)
        meter["bytes"] += out.numel() * out.element_size()
        if meter["bytes"] > 128 * 2**20:
            raise _Blown("tensor bytes (after dtype widening)")
        return out

    def module(*args: Any, **kwargs: Any) -> Any:
        out = orig_module(*args, **kwargs)
        named = sum(b.numel() * b.element_size() for _, b in out.named_buffers(remove_duplicate=False))
        if named > 128 * 2**20:
            raise _Blown(f"{named >> 20} MiB of buffers")
        return out

    def linear(self: Any, in_features: int, out_features: int, *args: Any, **kwargs: Any) -> None:
        if in_features * out_features > 2**24:
            raise _Blown("a huge layer was constructed before being refused")
        orig_linear(self, in_features, out_features, *args, **kwargs)

    monkeypatch.setattr(codec, "decode", decode)
    monkeypatch.setattr(codec, "_array", array)
    monkeypatch.setattr(codec, "_decode_tensor", tensor)
    monkeypatch.setattr(codec, "_decode_module", module)
    monkeypatch.setattr(torch.nn.Linear, "reset_parameters", reset)
    monkeypatch.setattr(torch.nn.Linear, "__init__", linear)
    started = time.monotonic()
    try:
        _call_student(_BOMB + _BOMBS[kind], "bomb", config=grader_config)
    except _Blown as exc:
        pytest.fail(f"the grader expanded a small reply past its budget ({exc})")
    except Exception:
        pass  # refused: that is the correct outcome
    seconds = time.monotonic() - started
    assert seconds < grader_config.call_timeout, f"decoding held the check for {seconds:.0f} s"


@needs_sandbox
def test_proc_shows_only_the_students_own_processes(grader_config: GraderConfig) -> None:
    """/proc is the student's own PID namespace's, or (where that mount is refused) empty: never the zygote's."""
    seen = _call_student('''
        import os
        def look():
            pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
            writable = []
            for pid in pids:
                try:
                    with open(f"/proc/{pid}/mem", "r+b"):
                        writable.append(pid)
                except OSError:
                    pass
            try:
                me = int(os.readlink("/proc/self"))
            except OSError:
                me = None
            return {"self": me, "pid": os.getpid(), "pids": pids, "mem_writable": writable}
    ''', "look", config=grader_config)
    assert seen["pid"] == 1, seen
    assert seen["self"] in (None, 1), f"/proc is another namespace's: {seen}"
    assert set(seen["pids"]) <= {1} or seen["self"] == 1, f"the student sees other processes: {seen}"
    assert seen["mem_writable"] in ([], [1]), f"the student can write the memory of {seen['mem_writable']}"


@needs_sandbox
def test_hidden_folder_inside_the_interpreter_stays_hidden(grader_config: GraderConfig,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Models ``pip install nngrade``: the package (and its hidden suites) lives under sys.prefix."""
    import autograder.sandbox.zygote as sandbox

    prefix = _outside_dir()  # stands in for the venv
    try:
        suites = prefix / "lib" / "site-packages" / "autograder" / "suites"
        suites.mkdir(parents=True)
        (suites / "test_step.py").write_text("HIDDEN SUITE")
        real = sandbox._revealed_paths
        monkeypatch.setattr(sandbox, "_revealed_paths", lambda: real() + [str(prefix)])
        config = grader_config.replace(hide_paths=(str(suites),))
        zyg = Zygote(config, LEVEL, [ROOT])
        try:
            seen = _call_student(f'''
                def look():
                    try:
                        return open("{suites}/test_step.py").read()
                    except OSError as exc:
                        return type(exc).__name__
            ''', "look", config=config, zygote=zyg)
        finally:
            zyg.close()
        assert seen != "HIDDEN SUITE"
    finally:
        _rmtree(prefix)


@needs_sandbox
def test_other_submissions_outside_the_course_stay_hidden(grader_config: GraderConfig) -> None:
    """A TA grades a folder of downloaded submissions with ``nngrade grade``: they sit outside the course."""
    folder = _outside_dir()
    try:
        (folder / "alice").mkdir()
        (folder / "alice" / f"{AID}.ipynb").write_text("ALICE'S ANSWERS")
        seen = _call_student(f'''
            def look():
                try:
                    return open("{folder}/alice/{AID}.ipynb").read()
                except OSError as exc:
                    return type(exc).__name__
        ''', "look", config=grader_config)
        assert seen != "ALICE'S ANSWERS"
    finally:
        _rmtree(folder)


@needs_sandbox
def test_process_limit_bounds_a_fork_storm(grader_config: GraderConfig) -> None:
    config = grader_config.replace(max_processes=32)
    marker = f"nngrade-redteam-{uuid.uuid4().hex[:12]}"
    try:
        started = _call_student(_fill('''
            import os
            def storm():
                n = 0
                for _ in range(200):
                    try:
                        os.posix_spawn("/bin/sh", ["sh", "-c", "sleep 30; :", "@MARK@"], {})
                        n += 1
                    except OSError:
                        break
                return n
        ''', MARK=marker), "storm", config=config)
        assert started <= 32 * 2
    finally:
        time.sleep(0.3)
        assert _processes_with(marker) == []
        _reap(marker)
