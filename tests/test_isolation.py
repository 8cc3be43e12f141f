"""Each isolation level does what docs/security.md says, and auto picks the strongest."""

from __future__ import annotations

import pytest

from autograder import sandbox
from autograder.assignment import Assignment, prepare
from autograder.remote import Submission
from autograder.errors import NNGradeError
from autograder.sandbox import IsolationWarning, Zygote, detect_level
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
