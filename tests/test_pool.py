"""The extra grading processes' start and end: no re-run of the caller's script, no fork server left
behind, and the suites loaded while the zygote starts."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder.cli.demo import make_course
from autograder.integrations import jobs as grading_jobs
from tests.conftest import ROOT

SCRIPT = textwrap.dedent("""
    import os, sys, time
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import forkserver, get_context

    sys.path.insert(0, {root!r})
    with open({marker!r}, "a") as f:  # a side effect of running this script
        f.write(f"{{os.getpid()}}\\n")

    if __name__ == "__main__":
        from autograder.integrations.pool import main_script_hidden, stop_fork_server

        hide = sys.argv[1] == "hide"
        ctx = get_context("forkserver")
        ctx.set_forkserver_preload(["os"])
        pool = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
        if hide:
            with main_script_hidden():
                first = pool.submit(os.getpid)
        else:
            first = pool.submit(os.getpid)
        child = first.result()
        assert sys.modules["__main__"].__file__ == __file__  # put back after the hand-over
        pool.shutdown()
        server = forkserver._forkserver._forkserver_pid
        stop_fork_server()
        deadline = time.time() + 10
        while time.time() < deadline:  # killed: a zombie until multiprocessing reaps it
            try:
                with open(f"/proc/{{server}}/stat") as stat:
                    if stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                        break
            except FileNotFoundError:
                break
            time.sleep(0.01)
        else:
            raise SystemExit("the fork server is still running")
        again = ProcessPoolExecutor(max_workers=1, mp_context=ctx)  # a new server starts when needed
        with main_script_hidden():
            later = again.submit(os.getpid)
        print(child, later.result(), forkserver._forkserver._forkserver_pid != server)
        again.shutdown()
""")


@pytest.mark.parametrize("mode", ["hide", "plain"])
def test_an_extra_process_does_not_run_the_caller_s_script(tmp_path, mode):
    """`nbgrader` and `nngrade` are scripts: multiprocessing would have each child run them again
    (importing nbgrader cost each extra grading process about 3 s). The plain case shows it does."""
    marker = tmp_path / "ran"
    script = tmp_path / "script.py"
    script.write_text(SCRIPT.format(root=str(ROOT), marker=str(marker)))
    proc = subprocess.run([sys.executable, str(script), mode], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    child, later, restarted = proc.stdout.split()
    runs = marker.read_text().split()
    if mode == "hide":
        assert runs == [runs[0]] and child not in runs and later not in runs
    else:
        assert child in runs and len(runs) >= 2  # the child ran the whole script again
    assert restarted == "True"


@pytest.mark.slow
def test_warm_loads_the_suites_while_the_zygote_starts(tmp_path, grader_config):
    """After warm, the suite's helpers are imported from the snapshot and the libraries its grader
    side imports inside functions (a4's scikit-learn digits) are already imported."""
    make_course(ROOT, tmp_path, ["a4_pytorch_loop"])
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from autograder.config import load_config
        from autograder.integrations import jobs
        config = load_config(__import__("pathlib").Path({str(tmp_path)!r}), isolation={grader_config.isolation!r})
        assert "sklearn.datasets" not in sys.modules
        jobs.warm(config, {str(tmp_path)!r}, ("numpy",), 1, ("a4_pytorch_loop",))
        asg = jobs.assignment_for({str(tmp_path)!r}, "a4_pytorch_loop")
        helper = sys.modules["autograder.suites.a4_pytorch_loop._reference"]
        print("sklearn.datasets" in sys.modules, helper.__nngrade_digest__ == asg.suite.digest)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          check=False, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split() == ["True", "True"]


def test_a_suite_that_cannot_load_is_left_to_grading(tmp_path, grader_config, monkeypatch):
    """warm never fails for a suite (grading reports it); it still raises when no zygote starts."""
    calls = []

    class Broken:
        def load_suites(self):
            calls.append("load")
            raise RuntimeError("broken suite")

    monkeypatch.setattr(grading_jobs, "assignment_for", lambda root, aid: Broken())
    monkeypatch.setattr("autograder.sandbox.zygote.shared_zygote", lambda *a, **k: calls.append("zygote"))
    grading_jobs.warm(grader_config, str(tmp_path), ("numpy",), 1, ("a1_perceptron",))
    assert sorted(calls) == ["load", "zygote"]

    def no_zygote(*a, **k):
        raise OSError("no zygote")

    monkeypatch.setattr("autograder.sandbox.zygote.shared_zygote", no_zygote)
    with pytest.raises(OSError, match="no zygote"):
        grading_jobs.warm(grader_config, str(tmp_path), ("numpy",), 1, ("a1_perceptron",))


def test_pool_module_is_where_the_fork_server_is_configured():
    """One place sets the fork server up (batch.LocalRun uses it)."""
    batch = (ROOT / "autograder" / "integrations" / "batch.py").read_text()
    assert "set_forkserver_preload" not in batch and "new_pool(" in batch
    assert Path(ROOT / "autograder" / "integrations" / "pool.py").is_file()
