"""``nngrade demo``: a small class graded end to end with real nbgrader commands."""

from __future__ import annotations

import csv
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from rich.console import Console
from rich.table import Table

from autograder.authoring.known_wrong import load_mutants
from autograder.integrations.generate import answer_key, assignment_ids, make_course, nbgrader, submit
from autograder.reports.progress import progress_steps

MALFORMED = '{"cells": [ {"cell_type": "code", "source": "def step(z):\n'  # cut off mid-file


@dataclass(frozen=True)
class DemoStudent:
    """A demo submission and what it should score."""

    student: str
    assignment: str
    expect: str  # full | zero | partial | error


def build_class(course: Path, ids: list[str]) -> list[DemoStudent]:
    """Release each assignment with nbgrader and submit the demo class."""
    students = []
    for aid in ids:
        nbgrader(["generate_assignment", aid, "--force", "--log-level=WARN"], course)
        name = f"{aid}.ipynb"
        release = nbformat.read(str(course / "release" / aid / name), as_version=4)
        source = nbformat.read(str(course / "source" / aid / name), as_version=4)
        key = answer_key(release, source)
        submit(course, "answer-key", aid, nbformat.writes(key))
        students.append(DemoStudent("answer-key", aid, "full"))
        submit(course, "untouched", aid, nbformat.writes(release))
        students.append(DemoStudent("untouched", aid, "zero"))
        for mutant in load_mutants(aid):
            submit(course, f"wrong-{mutant.name}", aid, nbformat.writes(mutant.apply(key)))
            students.append(DemoStudent(f"wrong-{mutant.name}", aid, "partial"))
        submit(course, "malformed", aid, MALFORMED)
        students.append(DemoStudent("malformed", aid, "error"))
    return students


def read_grades(course: Path) -> dict[tuple[str, str], tuple[float, float]]:
    """(student, assignment) -> (score, max) from nbgrader's exported grades.csv."""
    out = {}
    with open(course / "grades.csv", newline="") as f:
        for row in csv.DictReader(f):
            out[(row["student_id"], row["assignment"])] = (float(row["raw_score"] or 0), float(row["max_score"]))
    return out


def run_demo(repo_root: Path, directory: Path | None, ids: list[str], isolation: str | None = None,
             quiet: bool = False) -> bool:
    """Build, grade and report the demo class; True when every submission scored as expected."""
    console = Console()
    ids = ids or assignment_ids(repo_root)
    course = directory or Path(tempfile.mkdtemp(prefix="nngrade-demo-"))
    make_course(repo_root, course, ids)
    if isolation:  # a grader setting: [tool.nngrade] in the course's pyproject.toml
        settings = course / "pyproject.toml"
        text = settings.read_text()
        if 'isolation = "auto"' in text:
            settings.write_text(text.replace('isolation = "auto"', f"isolation = {json.dumps(isolation)}", 1))
        else:
            with open(course / "nbgrader_config.py", "a") as f:
                f.write(f"\nc.GradeInSandbox.isolation = {isolation!r}\n")
    console.print(f"demo course: {course}")
    students = build_class(course, ids)
    console.print(f"submitted {len(students)} notebooks; grading them with nbgrader autograde (the whole class "
                  "in parallel), then feedback ...")
    pattern = ids[0] if len(ids) == 1 else "*"  # every assignment of the demo course in one run
    steps = [(f"{verb} {pattern}", verb) for verb in ("autograde", "generate_feedback")]
    started = time.perf_counter()
    seconds = {}
    for _, verb in progress_steps(steps, "nbgrader", False if quiet else None):
        # nbgrader exits non-zero when any notebook failed (the malformed ones); the rest are graded
        step = time.perf_counter()
        nbgrader([verb, pattern, "--force"] + (["--create"] if verb == "autograde" else []), course,
                 timeout=3000, check=verb != "autograde")
        seconds[verb] = time.perf_counter() - step
    nbgrader(["export", "--to", str(course / "grades.csv")], course)
    grading = time.perf_counter() - started
    grades = read_grades(course)
    auto_max = {}
    for aid in ids:
        key_json = course / ".nngrade" / "results" / aid / "answer-key.json"
        auto_max[aid] = json.loads(key_json.read_text())["max_score"] if key_json.exists() else 0.0
    table = Table(title="demo class, graded by nbgrader autograde with nngrade (autograded points; "
                        "free responses await manual grading)")
    for col in ("assignment", "student", "score", "expected", ""):
        table.add_column(col)
    all_ok = True
    for s in students:
        score, _ = grades.get((s.student, s.assignment), (0.0, 0.0))
        top = auto_max[s.assignment]
        autograded = (course / "autograded" / s.student / s.assignment / f"{s.assignment}.ipynb").exists()
        ok = {"full": autograded and score == top > 0, "zero": autograded and score == 0,
              "partial": autograded and 0 < score < top, "error": not autograded}[s.expect]
        all_ok &= ok
        shown = f"{score:g} / {top:g}" if autograded else "not graded (malformed notebook)"
        table.add_row(s.assignment, s.student, shown, s.expect, "[green]ok[/]" if ok else "[red]UNEXPECTED[/]")
    console.print(table)
    console.print(f"grading: {grading:.0f} s for {len(students)} notebooks (nbgrader autograde "
                  f"{seconds.get('autograde', 0):.0f} s, generate_feedback "
                  f"{seconds.get('generate_feedback', 0):.0f} s, export)")
    console.print(f"feedback: {course / 'feedback'}\ngrades:   {course / 'grades.csv'}")
    console.print("[green]every submission scored as expected[/]" if all_ok else "[red]unexpected scores[/]")
    console.print("class report (score histogram, most failed checks, submissions that need a person):")
    for aid in ids:
        console.print(f"  nngrade report {aid} --course {course} --out {course / 'reports'}", highlight=False)
    return all_ok
