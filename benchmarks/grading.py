"""Grade one class with plain nbgrader and with nngrade (jobs 1, jobs 2, Dask), in one run.

Usage:
    python benchmarks/grading.py [--per-assignment 40] [--assignments a1_perceptron,...] [--markdown FILE]

The class: for each assignment, ``--per-assignment`` submissions cycling through the
answer key, the untouched release and every known-wrong submission. Four timings:

- plain nbgrader: ``nbgrader autograde`` with nbgrader's default pipeline (each notebook
  executed in a fresh kernel; its test cells run their visible asserts, so plain nbgrader
  does *less* checking work here than with real hidden asserts: the comparison favours it);
- nngrade --jobs 1, --jobs 2 (local processes) and Dask (a local cluster of 2 workers),
  each from cold (worker start-up and imports included), isolation as detected.

Per-notebook overhead is a submission's grading time minus the time its own cells and its
checks took (what remains: forking the sandboxed process, pytest, transfers). Peak memory
is the largest RSS a grading worker process reached.
"""

from __future__ import annotations

import argparse
import os
import platform
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

from autograder.batch import BatchItem, Job, grade_batch  # noqa: E402
from autograder.config import load_config  # noqa: E402
from autograder.demo import make_course, submit  # noqa: E402
from autograder.generate import answer_key, assignment_ids, nbgrader  # noqa: E402
from autograder.mutants import load_mutants  # noqa: E402
from autograder.sandbox import close_all, detect_level  # noqa: E402

PLAIN_CONFIG = 'c = get_config()\nc.CourseDirectory.course_id = "bench"\nc.CourseDirectory.root = "."\n'


def build_class(course: Path, ids: list[str], per: int) -> list[Job]:
    jobs = []
    for aid in ids:
        nbgrader(["generate_assignment", aid, "--force", "--log-level=WARN"], course)
        name = f"{aid}.ipynb"
        release = nbformat.read(str(course / "release" / aid / name), as_version=4)
        key = answer_key(release, nbformat.read(str(course / "source" / aid / name), as_version=4))
        pool = [("key", key), ("release", release)] + [(m.name, m.apply(key)) for m in load_mutants(ROOT, aid)]
        for i in range(per):
            label, nb = pool[i % len(pool)]
            student = f"s{i:03d}-{label}"
            text = nbformat.writes(nb)
            submit(course, student, aid, text)
            jobs.append(Job(student, aid, text))
    return jobs


def time_plain(course: Path, ids: list[str]) -> float:
    plain = course.parent / "plain"
    shutil.copytree(course, plain, ignore=shutil.ignore_patterns("autograded", "feedback", ".nngrade"))
    (plain / "nbgrader_config.py").write_text(PLAIN_CONFIG)
    started = time.perf_counter()
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    for aid in ids:
        subprocess.run([sys.executable, "-m", "nbgrader", "autograde", aid, "--force", "--create"],
                       cwd=plain, capture_output=True, text=True, timeout=7200, env=env)
    return time.perf_counter() - started


def time_nngrade(course: Path, jobs: list[Job], workers: int, backend: str) -> tuple[float, list[BatchItem]]:
    config = load_config(course, jobs=workers)
    close_all()  # every run starts cold: no zygote left from the previous one
    started = time.perf_counter()
    items = grade_batch(course, config, jobs, workers=workers, backend=backend)
    return time.perf_counter() - started, items


def overhead(item: BatchItem) -> float:
    res = item.graded.result
    own = sum(r.seconds for r in item.graded.cell_runs.values())
    checks = sum(c.seconds for p in res.parts for c in p.checks)
    return max(0.0, item.seconds - own - checks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-assignment", type=int, default=40)
    parser.add_argument("--assignments", default="")
    parser.add_argument("--markdown", default="", help="also write the table to this file (markdown)")
    args = parser.parse_args()
    ids = [a for a in args.assignments.split(",") if a] or assignment_ids(ROOT)
    with tempfile.TemporaryDirectory(prefix="nngrade-bench-") as tmp:
        course = Path(tmp) / "course"
        make_course(ROOT, course, ids)
        jobs = build_class(course, ids, args.per_assignment)
        n = len(jobs)
        print(f"class: {n} notebooks ({args.per_assignment} per assignment: {', '.join(ids)})", flush=True)
        rows = []
        plain = time_plain(course, ids)
        rows.append(("plain nbgrader autograde", plain, None))
        print(f"plain nbgrader: {plain:.1f} s", flush=True)
        results = {}
        for label, workers, backend in (("nngrade --jobs 1", 1, "local"), ("nngrade --jobs 2", 2, "local"),
                                        ("nngrade Dask local, 2 workers", 2, "dask")):
            seconds, items = time_nngrade(course, jobs, workers, backend)
            results[label] = items
            rows.append((label, seconds, items))
            print(f"{label}: {seconds:.1f} s", flush=True)
        base = {it.job.student + it.job.assignment: (it.graded.result.score, sorted(it.graded.result.failed_checks()))
                for it in results["nngrade --jobs 1"]}
        same = all({it.job.student + it.job.assignment: (it.graded.result.score,
                    sorted(it.graded.result.failed_checks())) for it in items} == base
                   for items in results.values())
    j1 = rows[1][1]
    lines = [
        f"machine: {platform.node()} ({platform.machine()}, {_cores()} cores, Python {platform.python_version()}), "
        f"isolation {detect_level('auto')}, {n} notebooks",
        "",
        "| run | wall s | notebooks/s | vs plain nbgrader | vs jobs 1 | median s/notebook | median overhead s | peak worker RSS MiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, seconds, items in rows:
        rate = n / seconds
        if items is None:
            lines.append(f"| {label} | {seconds:.1f} | {rate:.2f} | 1.00x | | {seconds / n:.2f} (mean) | | |")
            continue
        med = statistics.median(it.seconds for it in items)
        over = statistics.median(overhead(it) for it in items)
        rss = max(it.peak_rss_mb for it in items)
        lines.append(f"| {label} | {seconds:.1f} | {rate:.2f} | {plain / seconds:.2f}x | {j1 / seconds:.2f}x | "
                     f"{med:.2f} | {over:.3f} | {rss:.0f} |")
    lines += ["", f"identical scores and failed checks across the nngrade runs: {'yes' if same else 'NO'}"]
    print("\n".join(lines))
    if args.markdown:
        Path(args.markdown).write_text("\n".join(lines) + "\n")


def _cores() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    main()
