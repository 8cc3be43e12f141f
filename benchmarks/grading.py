"""Plain nbgrader vs the project's `nbgrader autograde`, `grade-batch --jobs 1/2` and Dask, on the same notebooks.

Usage:
    python benchmarks/grading.py [--quick] [--a1 20] [--mixed 80] [--markdown FILE]

Two classes, each graded from cold by every contender, one command per assignment, exactly as a
TA types it (each command is a fresh process: imports, start-up and gradebook included):

- ``a1 keys``: ``--a1`` answer keys of a1_perceptron;
- ``mixed``: ``--mixed`` submissions over the five assignments, cycling through the answer key,
  the untouched release and every known-wrong submission.

Every submission gets its own comment cell, so no two are alike and no result is reused from
another student. Contenders:

- plain nbgrader: ``nbgrader autograde`` with nbgrader's default pipeline (a fresh kernel per
  notebook runs its cells and the test cells as restored from the gradebook);
- the project's ``nbgrader autograde`` (the repository's ``nbgrader_config.py``: the class in
  parallel, ``[tool.nngrade] jobs``, default the machine's cores), result cache emptied first;
- ``nngrade grade-batch --no-gradebook`` with ``--jobs 1``, ``--jobs 2`` and ``--dask --jobs 2``.

*Overhead* per notebook is a submission's grading time minus the time its own cells and its
checks took (forking the sandboxed process, pytest, transfers), read from the result cache of the
project's ``nbgrader autograde`` run. Fixed costs are measured separately (``--fixed`` alone).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.authoring.known_wrong import load_mutants  # noqa: E402
from autograder.cli.demo import make_course, submit  # noqa: E402
from autograder.integrations.generate import answer_key, assignment_ids, nbgrader  # noqa: E402
from autograder.sandbox.zygote import detect_level  # noqa: E402

PLAIN_CONFIG = 'c = get_config()\nc.CourseDirectory.course_id = "bench"\nc.CourseDirectory.root = "."\n'
BIN = Path(sys.executable).parent
ENV = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def build_class(course: Path, plan: dict[str, int], keys_only: bool) -> list[tuple[str, str]]:
    """Release each assignment and submit the class; (assignment, student) pairs."""
    make_course(ROOT, course, list(plan))
    out = []
    for aid, count in plan.items():
        nbgrader(["generate_assignment", aid, "--force", "--log-level=WARN"], course)
        name = f"{aid}.ipynb"
        release = nbformat.read(str(course / "release" / aid / name), as_version=4)
        key = answer_key(release, nbformat.read(str(course / "source" / aid / name), as_version=4))
        pool = [("key", key)]
        if not keys_only:
            pool += [("release", release)] + [(m.name, m.apply(key)) for m in load_mutants(aid)]
        for i in range(count):
            label, nb = pool[i % len(pool)]
            nb = nbformat.reads(nbformat.writes(nb), as_version=4)
            nb.cells.append(nbformat.v4.new_code_cell(f"# submission {i} of {aid}"))  # no two alike
            student = f"s{i:03d}-{label}"
            submit(course, student, aid, nbformat.writes(nb))
            out.append((aid, student))
    return out


def _clean(course: Path) -> None:
    for name in ("autograded", ".nngrade"):
        shutil.rmtree(course / name, ignore_errors=True)


def _timed(argvs: list[list[str]], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    started = time.perf_counter()
    logs = []
    for argv in argvs:
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=7200, env=env or ENV,
                              check=False)
        logs.append(proc.stdout + proc.stderr)
    return time.perf_counter() - started, "\n".join(logs)


def time_plain(course: Path, ids: list[str]) -> float:
    plain = course.parent / "plain"
    shutil.rmtree(plain, ignore_errors=True)
    shutil.copytree(course, plain, ignore=shutil.ignore_patterns("autograded", "feedback", ".nngrade"))
    (plain / "nbgrader_config.py").write_text(PLAIN_CONFIG)
    seconds, _ = _timed([[str(BIN / "nbgrader"), "autograde", aid, "--force", "--create"] for aid in ids], plain)
    return seconds


def time_project_autograde(course: Path, ids: list[str]) -> tuple[float, str]:
    _clean(course)
    return _timed([[str(BIN / "nbgrader"), "autograde", aid, "--force", "--create"] for aid in ids], course)


def time_grade_batch(course: Path, ids: list[str], extra: list[str]) -> float:
    _clean(course)
    seconds, _ = _timed([[str(BIN / "nngrade"), "grade-batch", aid, "--no-gradebook", "--quiet", *extra,
                          "--course", str(course)] for aid in ids], course)
    return seconds


def cached_results(course: Path) -> dict[tuple[str, str], tuple[float, tuple[str, ...], float]]:
    """(assignment, student) -> (score, failed checks, overhead seconds) from the result cache."""
    out = {}
    for path in (course / ".nngrade" / "cache").glob("*/*.json"):
        data = json.loads(path.read_text())
        res = data["result"]
        checks = [c for p in res["parts"] for c in p["checks"]]
        own = sum(float(c["seconds"]) for c in data["cells"])
        spent = sum(float(c.get("seconds", 0)) for c in checks)
        failed = tuple(sorted(c["check_id"] for c in checks if not c["passed"]))
        out[(res["assignment"], res["student"])] = (float(res["score"]), failed,
                                                    max(0.0, float(res["seconds"]) - own - spent))
    return out


def bench_class(label: str, plan: dict[str, int], keys_only: bool, tmp: Path) -> list[str]:
    course = tmp / label.split()[0] / "course"
    students = build_class(course, plan, keys_only)
    ids = list(plan)
    n = len(students)
    print(f"\n{label}: {n} notebooks ({', '.join(f'{a} x{c}' for a, c in plan.items())})", flush=True)
    rows: list[tuple[str, float]] = []
    plain = time_plain(course, ids)
    rows.append(("plain nbgrader autograde", plain))
    print(f"  plain nbgrader: {plain:.1f} s", flush=True)
    project, log = time_project_autograde(course, ids)
    rows.append(("project nbgrader autograde", project))
    print(f"  project nbgrader autograde: {project:.1f} s", flush=True)
    reference = cached_results(course)
    overheads = [v[2] for v in reference.values()]
    procs = sorted(set(re.findall(r"(\d+) grading process", log)))
    cached, pass_log = _timed([[str(BIN / "nbgrader"), "autograde", aid, "--force"] for aid in ids], course)
    hits = sum(int(h) for h in re.findall(r"notebook\(s\) to autograde, (\d+) from the cache", pass_log))
    same = True
    for name, extra in (("grade-batch --jobs 1", ["--jobs", "1"]), ("grade-batch --jobs 2", ["--jobs", "2"]),
                        ("grade-batch --dask --jobs 2", ["--dask", "--jobs", "2"])):
        seconds = time_grade_batch(course, ids, extra)
        rows.append((name, seconds))
        got = {k: v[:2] for k, v in cached_results(course).items()}
        same &= got == {k: v[:2] for k, v in reference.items()}
        print(f"  {name}: {seconds:.1f} s", flush=True)
    lines = [f"### {label}: {n} notebooks", "",
             "| run | wall s | notebooks/s | vs plain nbgrader | vs grade-batch --jobs 1 |", "|---|---|---|---|---|"]
    j1 = dict(rows)["grade-batch --jobs 1"]
    for name, seconds in rows:
        lines.append(f"| {name} | {seconds:.1f} | {n / seconds:.2f} | {plain / seconds:.2f}x | {j1 / seconds:.2f}x |")
    lines += ["",
              (f"- project `nbgrader autograde`: {plain / project:.2f}x plain nbgrader "
              f"(grading processes: {', '.join(procs) or '1'}); median overhead per notebook "
              f"{statistics.median(overheads):.3f} s (beyond its own cells and checks; {len(overheads)} results)"),
              (f"- nbgrader pass alone (every result from the cache, {hits} of {n} hits): {cached:.1f} s, "
              f"{cached / n:.2f} s per notebook"),
              f"- identical scores and failed checks across the project's runs: {'yes' if same else 'NO'}"]
    return lines


def fixed_costs() -> list[str]:
    """Each fixed cost, measured in this (fresh) process."""
    from autograder.config import load_config
    from autograder.engine.assignment import Assignment
    from autograder.engine.grade import grade_notebook
    from autograder.integrations.batch import LocalRun
    from autograder.sandbox.zygote import Zygote, shared_zygote

    config = load_config(ROOT)
    level = detect_level(config.isolation)
    lines = ["### Fixed costs", "", "| cost | seconds |", "|---|---|"]
    sets = {}
    for aid in assignment_ids(ROOT):
        sets.setdefault(Assignment.load(ROOT, aid).preload(), aid)
    for preload, aid in sets.items():
        started = time.perf_counter()
        Zygote(config, level, [ROOT], preload).close()
        lines.append(f"| zygote start, preload {', '.join(preload)} ({aid}) | {time.perf_counter() - started:.2f} |")
    a1 = Assignment.load(ROOT, "a1_perceptron")
    run = LocalRun(ROOT, config, 2, a1.preload())
    started = time.perf_counter()
    run.start()
    while not run.ready_at and time.perf_counter() - started < 300:
        time.sleep(0.05)
    run.close()
    lines.append(f"| extra grading process: fork server, engine imports, its zygote (a1), until ready | "
                 f"{run.ready_at[0] if run.ready_at else float('nan'):.2f} |")
    import pytest

    files = [str(p.suite_file) for p in a1.parts]
    suites = str(a1.suite.folder.parent)
    args = files + [  # the flags plugin.run_suites passes
        "--collect-only", "-q", "--assert=plain", "--import-mode=importlib", "-p", "no:cacheprovider",
        "-p", "no:randomly", "-p", "no:xdist", "-p", "no:unraisableexception", "-p", "no:threadexception",
        "-p", "no:faulthandler", "-p", "no:logging", "-p", "no:junitxml", "-p", "no:pastebin", "-p", "no:nose",
        "-p", "no:doctest", "--rootdir", suites, "-c", suites + "/pytest.ini", "--no-header", "-W", "ignore"]
    times = []
    for _ in range(5):
        started = time.perf_counter()
        with open(os.devnull, "w") as sink:
            stdout, sys.stdout = sys.stdout, sink
            try:
                pytest.main(args)
            finally:
                sys.stdout = stdout
        times.append(time.perf_counter() - started)
    lines.append(f"| pytest start and collection of a1's suite (median of 5) | {statistics.median(times[1:]):.3f} |")
    shared_zygote(config, hide=[ROOT], preload=a1.preload())
    nb = nbformat.read(str(ROOT / "solutions" / "a1_perceptron" / "a1_perceptron.ipynb"), as_version=4)
    over = []
    for _ in range(6):
        started = time.perf_counter()
        graded = grade_notebook(nb, a1, config, student_id="bench")
        total = time.perf_counter() - started
        own = sum(r.seconds for r in graded.cell_runs.values())
        checks = sum(c.seconds for p in graded.result.parts for c in p.checks)
        over.append(total - own - checks)
    lines.append(f"| per-notebook overhead, a1 key in a warm process (median of 5 after the first) | "
                 f"{statistics.median(over[1:]):.3f} |")
    with tempfile.TemporaryDirectory() as tmp:
        course = Path(tmp) / "c"
        build_class(course, {"a1_perceptron": 1}, True)
        seconds, _ = _timed([[str(BIN / "nbgrader"), "autograde", "a1_perceptron", "--student", "nobody"]], course)
        lines.append(f"| `nbgrader autograde` start-up and exit, nothing to grade | {seconds:.2f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--a1", type=int, default=20, help="answer keys in the a1 class")
    parser.add_argument("--mixed", type=int, default=80, help="submissions in the mixed class (five assignments)")
    parser.add_argument("--quick", action="store_true", help="a small run: 6 a1 keys and a mixed class of 10")
    parser.add_argument("--fixed", action="store_true", help="only the fixed costs")
    parser.add_argument("--markdown", default="", help="also write the tables to this file (markdown)")
    args = parser.parse_args()
    if args.quick:
        args.a1, args.mixed = 6, 10
    ids = assignment_ids(ROOT)
    lines = [f"machine: {platform.node()} ({platform.machine()}, {len(os.sched_getaffinity(0))} cores, "
             f"Python {platform.python_version()}), isolation {detect_level('auto')}, "
             f"load average at start {os.getloadavg()[0]:.1f}", ""]
    if not args.fixed:
        with tempfile.TemporaryDirectory(prefix="nngrade-bench-") as tmp:
            lines += bench_class(f"a1 keys x{args.a1}", {"a1_perceptron": args.a1}, True, Path(tmp))
            per = {aid: args.mixed // len(ids) + (i < args.mixed % len(ids)) for i, aid in enumerate(ids)}
            if args.mixed:  # --mixed 0: the a1 class only
                lines += [""] + bench_class(f"mixed x{args.mixed}", per, False, Path(tmp))
        lines.append("")
    proc = subprocess.run([sys.executable, __file__, "--fixed-only"], capture_output=True, text=True,
                          check=False, env=ENV) if not args.fixed else None
    lines += proc.stdout.splitlines() if proc is not None else fixed_costs()
    if proc is not None and proc.returncode:
        lines.append(f"(fixed costs failed: {proc.stderr.strip().splitlines()[-1:]})")
    lines.append(f"\nload average at the end {os.getloadavg()[0]:.1f}")
    print("\n".join(lines))
    if args.markdown:
        Path(args.markdown).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--fixed-only"]:
        print("\n".join(fixed_costs()))
    else:
        main()
