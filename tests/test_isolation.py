"""Each isolation level does what docs/security.md says, and auto picks the strongest."""

from __future__ import annotations

import pytest

from autograder.engine.assignment import Assignment, prepare
from autograder.errors import NNGradeError
from autograder.sandbox import zygote as sandbox
from autograder.sandbox.submission import Submission
from autograder.sandbox.zygote import IsolationWarning, Zygote, detect_level
from tests.conftest import ROOT, answer_key, with_extra_cell

PROBE = '''
import os, socket
def probe(paths, target):
    out = {}
    for p in paths:
        try:
            out[p] = sorted(os.listdir(p))[:3]
        except OSError as e:
            out[p] = type(e).__name__
    try:
        with open(target, "w") as f:
            f.write("x")
        out["write"] = "wrote"
    except OSError as e:
        out["write"] = type(e).__name__
    try:
        socket.create_connection(("127.0.0.1", PORT), timeout=1).close()
        out["net"] = "connected"
    except OSError as e:
        out["net"] = type(e).__name__
    out["pid"] = os.getpid()
    out["env"] = sorted(os.environ)
    return out
'''


def _available():
    return [lvl for lvl, ok in (("bwrap", sandbox._bwrap_works()), ("namespaces", sandbox._unshare_works()),
                                ("process", True)) if ok]


@pytest.mark.slow
@pytest.mark.parametrize("level", ["bwrap", "namespaces", "process"])
def test_level_guarantees(level, grader_config, tmp_path, monkeypatch):
    if level not in _available():
        pytest.skip(f"{level} is not available on this machine")
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    monkeypatch.setenv("NNGRADE_TEST_SECRET", "hunter2")
    victim = tmp_path / "victim"
    victim.mkdir()
    asg = Assignment.load(ROOT, "a1_perceptron")
    nb = with_extra_cell(answer_key("a1_perceptron"), PROBE.replace("PORT", str(port)))
    config = grader_config.replace(isolation=level)
    zyg = Zygote(config, level, hide=[ROOT, tmp_path])
    try:
        sub = Submission(prepare(nb, asg).cells, zyg, config)
        sub.boot()
        out = sub.probe([str(ROOT / "source"), str(ROOT / "autograder" / "suites"), str(victim)],
                        str(victim / "planted"))
        sub.close()
    finally:
        zyg.close()
    try:
        listener.accept()
        connected = True
    except OSError:
        connected = False
    listener.close()
    assert out["env"] == sorted(["HOME", "LOGNAME", "MPLBACKEND", "MPLCONFIGDIR", "OMP_NUM_THREADS", "PATH",
                                 "PYTHONHASHSEED", "TMPDIR", "USER"])  # cleared: no secret of the grader's
    if level == "process":
        assert isinstance(out[str(ROOT / "source")], list)  # documented: no hiding at this level
        return
    for hidden in (ROOT / "source", ROOT / "autograder" / "suites", victim):
        assert out[str(hidden)] == "FileNotFoundError", out
    assert out["write"] in ("OSError", "FileNotFoundError", "PermissionError")
    assert not (victim / "planted").exists()
    assert out["net"] != "connected" and not connected
    assert out["pid"] == 1  # alone in its own PID namespace


def test_auto_prefers_the_strongest(monkeypatch):
    monkeypatch.setattr(sandbox, "_bwrap_works", lambda: True)
    monkeypatch.setattr(sandbox, "_unshare_works", lambda: True)
    assert detect_level("auto") == "bwrap"
    monkeypatch.setattr(sandbox, "_bwrap_works", lambda: False)
    assert detect_level("auto") == "namespaces"


def test_auto_never_falls_back_to_plain_processes(monkeypatch):
    monkeypatch.setattr(sandbox, "_bwrap_works", lambda: False)
    monkeypatch.setattr(sandbox, "_unshare_works", lambda: False)
    with pytest.raises(NNGradeError, match="no sandbox is available"):
        detect_level("auto")
    with pytest.raises(NNGradeError, match="not available"):
        detect_level("bwrap")
    with pytest.warns(IsolationWarning, match="plain process"):
        assert detect_level("process") == "process"  # only by name


def test_importing_the_sandbox_changes_nothing_in_the_graders_environment() -> None:
    """MPLBACKEND and the rest are given to the zygote and its students, never set in the grader."""
    import os
    import subprocess
    import sys

    code = ("import os; before = dict(os.environ)\n"
            "import autograder.sandbox.zygote, autograder.sandbox.submission\n"
            "changed = sorted(set(os.environ.items()) ^ set(before.items()))\n"
            "assert not changed, changed")
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-500:]


def test_the_zygote_preloads_what_it_is_given_and_nothing_of_the_course() -> None:
    """The sandbox knows no course: a zygote asked for NumPy alone imports no torch or matplotlib."""
    from autograder.config import load_config

    config = load_config(ROOT)
    zyg = Zygote(config, detect_level(config.isolation), [ROOT], preload=("numpy",))
    try:
        assert zyg.preloaded == ("numpy",)
        assert sandbox.zygote_environment(config, ("numpy",), "/rt", "/mpl")["NNGRADE_PRELOAD"] == "numpy"
        sub = Submission([(0, "import sys\nheavy = sorted(m for m in ('torch', 'matplotlib.pyplot', "
                              "'sklearn') if m in sys.modules)")], zyg, config)
        try:
            assert sub.get("heavy") == []
        finally:
            sub.close()
    finally:
        zyg.close()


def test_a_zygote_started_from_a_thread_that_ends_outlives_it() -> None:
    """bubblewrap dies with the thread that started it (--die-with-parent): a zygote started during
    an early start or a warm-up, on a thread that then returns, must still serve the submissions."""
    import threading
    import time

    from autograder.config import load_config

    config = load_config(ROOT)
    started: list[Zygote] = []
    thread = threading.Thread(target=lambda: started.append(
        Zygote(config, detect_level(config.isolation), [ROOT], preload=("numpy",))))
    thread.start()
    thread.join()
    zyg = started[0]
    try:
        time.sleep(0.5)  # the kill, when it came, came at once
        assert zyg.alive(), f"the zygote ended with the thread that started it (status {zyg.proc.poll()})"
        sub = Submission([(0, "x = 6 * 7")], zyg, config)
        try:
            assert sub.get("x") == 42
        finally:
            sub.close()
    finally:
        zyg.close()
