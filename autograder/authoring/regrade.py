"""``nngrade regrade``: grade a class again after a suite or a setting changed, and show who moves.

The class is graded afresh with :func:`autograder.integrations.batch.grade_batch` (which never reads the
result cache) and each new result is compared, check by check, with the result the last
grading left in ``.nngrade/results/<id>/``. Nothing is written unless the regrade is applied:
then the old results are copied to ``.nngrade/regrades/<timestamp>/before/`` (with the
gradebook file beside them), the new ones replace them, and ``nbgrader autograde --force``
records the new scores in the gradebook (it finds every new result in the cache that the batch
filled, so it grades nothing again). ``changes.json`` in the same folder is the audit record:
who changed, every changed check with its old and new points, the settings and the suite digest.

What a dry run writes: only the result cache (``.nngrade/cache``), whose entries are keyed by
the exact submission, suite, settings and engine, and are read as a grade only for that exact
combination.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from autograder.config import GraderConfig
from autograder.engine.assignment import Assignment
from autograder.engine.cache import RESULTS_DIR, save_result
from autograder.engine.grade import GRADER
from autograder.engine.results import CheckResult, SubmissionResult
from autograder.integrations.batch import BatchItem, find_submissions, grade_batch
from autograder.reports.class_inputs import load_results

REGRADES_DIR = ".nngrade/regrades"


@dataclass(frozen=True)
class CheckChange:
    """One check (one parametrized case) whose points differ between two gradings.

    Attributes:
        check: ``<part>::<test function>`` plus ``[case]`` for a parametrized case.
        title: the check's title (the new one; the old one when the check is gone).
        old, new: points earned (None: the check did not exist in that grading).
        old_max, new_max: the check's points at most (0 when it did not exist).
        old_message, new_message: why it failed ("" when it passed).
    """

    check: str
    title: str
    old: float | None
    new: float | None
    old_max: float
    new_max: float
    old_message: str = ""
    new_message: str = ""


@dataclass(frozen=True)
class StudentChange:
    """A student whose score moves, and the checks that move it."""

    student: str
    old_score: float | None  # None: never graded before
    new_score: float
    old_max: float | None
    new_max: float
    checks: tuple[CheckChange, ...]


@dataclass
class RegradePlan:
    """A regraded class and how it differs from the results on disk.

    Attributes:
        assignment: the assignment id.
        items: the new gradings, in student order.
        previous: the results found on disk before regrading (student -> result).
        changes: students whose score changes (or who had no result before), in student order.
        failed: (student, reason) for submissions the grader could not grade this time (their
            old result stays as it is, also when the regrade is applied).
        max_changes: (old, new) maximum of the assignment when the checks' points changed.
    """

    assignment: str
    items: list[BatchItem]
    previous: dict[str, SubmissionResult]
    changes: list[StudentChange] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    max_changes: tuple[float, float] | None = None

    @property
    def unchanged(self) -> int:
        moved = {c.student for c in self.changes} | {s for s, _ in self.failed}
        return sum(it.job.student not in moved for it in self.items)


def _case_id(c: CheckResult) -> str:
    return c.check_id + (f"[{c.case}]" if c.case else "")


def _checks(result: SubmissionResult) -> dict[str, CheckResult]:
    return {_case_id(c): c for p in result.parts for c in p.checks}


def compare_results(old: SubmissionResult | None, new: SubmissionResult) -> StudentChange | None:
    """The change of one student's score between two gradings; None when the score stays the same.

    The checks listed are those whose points earned differ (a check that exists in one grading
    only counts as 0 points in the other). A check whose maximum changed while the student
    earned 0 in both gradings does not move the score and is not listed.
    """
    if old is not None and abs(old.score - new.score) < 1e-9:
        before, after = _checks(old), _checks(new)
        if all(abs((before[k].points if k in before else 0.0) - (after[k].points if k in after else 0.0)) < 1e-9
               for k in set(before) | set(after)):
            return None
    if old is None:  # never graded before: the new score, no checks to compare
        return StudentChange(new.student, None, new.score, None, new.max_score, ())
    before, after = _checks(old), _checks(new)
    changed = []
    for key in list(after) + [k for k in before if k not in after]:
        b, a = before.get(key), after.get(key)
        old_pts = b.points if b is not None else None
        new_pts = a.points if a is not None else None
        if abs((old_pts or 0.0) - (new_pts or 0.0)) < 1e-9:
            continue
        ref = a or b
        assert ref is not None
        changed.append(CheckChange(key, ref.title, old_pts, new_pts, b.max_points if b else 0.0,
                                   a.max_points if a else 0.0, b.message if b else "", a.message if a else ""))
    return StudentChange(new.student, old.score, new.score, old.max_score, new.max_score, tuple(changed))


def _pts(x: float | None, top: float | None = None) -> str:
    if x is None:
        return "-"
    return f"{x:g}" + (f"/{top:g}" if top is not None else "")


def print_plan(plan: RegradePlan, console: object = None) -> None:
    """Every student whose score changes, old and new per check (a rich table), then a summary line."""
    from rich.console import Console
    from rich.table import Table

    out = console if isinstance(console, Console) else Console()
    if plan.max_changes:
        out.print(f"the assignment's autograded maximum changes: {plan.max_changes[0]:g} -> {plan.max_changes[1]:g}")
    if plan.changes:
        table = Table(title=f"{plan.assignment}: {len(plan.changes)} student(s) whose score changes")
        table.add_column("student", no_wrap=True)
        table.add_column("score", justify="right", no_wrap=True)
        table.add_column("check", overflow="fold", min_width=20)
        table.add_column("old", justify="right", no_wrap=True)
        table.add_column("new", justify="right", no_wrap=True)
        table.add_column("why (new)", max_width=40)
        for change in plan.changes:
            score = f"{_pts(change.old_score)} -> {_pts(change.new_score)}"
            if not change.checks:
                note = "no earlier result" if change.old_score is None else ""
                table.add_row(change.student, score, note, "", "", "", end_section=True)
                continue
            for i, c in enumerate(change.checks):
                table.add_row(change.student if i == 0 else "", score if i == 0 else "", c.check,
                              _pts(c.old, c.old_max if c.old is not None else None),
                              _pts(c.new, c.new_max if c.new is not None else None),
                              c.new_message.splitlines()[0] if c.new_message else ("passed" if c.new else ""),
                              end_section=i == len(change.checks) - 1)
        out.print(table)
    for student, reason in plan.failed:
        out.print(f"[red]not regraded[/] {student}: {reason} (the old result stays)")
    out.print(f"{len(plan.changes)} changed, {plan.unchanged} unchanged, {len(plan.failed)} not regraded "
              f"({len(plan.items)} submissions)")


def plan_regrade(course_root: Path, assignment_id: str, config: GraderConfig, *, workers: int = 1,
                 backend: str = "local", scheduler: str | None = None,
                 on_done: Callable[[BatchItem], None] | None = None) -> RegradePlan:
    """Grade every submission again (no cached result is reused) and compare with the saved results.

    Raises:
        NNGradeError: no submissions, an unknown assignment, or a suite that ``nngrade validate``
            has not proved (nobody is graded then).
    """
    jobs = find_submissions(course_root, assignment_id)
    previous = {s: r for s, (r, _) in load_results(course_root, assignment_id).items()}
    items = grade_batch(course_root, config, jobs, workers=workers, backend=backend, scheduler=scheduler,
                        on_done=on_done)
    plan = RegradePlan(assignment_id, items, previous)
    old_maxes = {r.max_score for r in previous.values() if not r.error}
    for item in items:
        graded = item.graded
        if graded.cause == GRADER:
            plan.failed.append((item.job.student, graded.result.error or "a grader or machine failure"))
            continue
        change = compare_results(previous.get(item.job.student), graded.result)
        if change is not None:
            plan.changes.append(change)
    new_maxes = {it.graded.result.max_score for it in items if it.graded.cause != GRADER}
    if len(old_maxes) == 1 and len(new_maxes) == 1 and old_maxes != new_maxes:
        plan.max_changes = (old_maxes.pop(), new_maxes.pop())
    return plan


def apply_regrade(course_root: Path, plan: RegradePlan, config: GraderConfig, *, gradebook: bool = True,
                  now: datetime | None = None) -> Path:
    """Write the plan: keep the old results, save the new ones, record the gradebook.

    Returns:
        The folder ``.nngrade/regrades/<timestamp>/`` holding ``before/`` (the old results and
        gradebook), ``after/`` (the new results) and ``changes.json``.
    """
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S.%fZ")
    folder = course_root / REGRADES_DIR / plan.assignment / stamp
    before, after = folder / "before", folder / "after"
    before.mkdir(parents=True)
    after.mkdir()
    results = course_root / RESULTS_DIR / plan.assignment
    if results.is_dir():
        for path in sorted(results.glob("*.json")):
            shutil.copy2(path, before / path.name)
    book = course_root / "gradebook.db"
    if gradebook and book.is_file():
        shutil.copy2(book, before / "gradebook.db")
    failed = {s for s, _ in plan.failed}
    for item in plan.items:
        if item.job.student in failed:
            continue  # not the student's result: the old one stays
        saved = save_result(course_root, item.graded)
        if saved is not None:
            shutil.copy2(saved, after / saved.name)
    asg = Assignment.load(course_root, plan.assignment)
    record = {
        "assignment": plan.assignment,
        "when": stamp,
        "suite_digest": asg.suite.digest,
        "settings": {k: v for k, v in asdict(config).items() if k != "jobs"},
        "max_score": {"old": plan.max_changes[0], "new": plan.max_changes[1]} if plan.max_changes else None,
        "changes": [asdict(c) for c in plan.changes],
        "not_regraded": [{"student": s, "reason": r} for s, r in plan.failed],
        "unchanged": plan.unchanged,
    }
    (folder / "changes.json").write_text(json.dumps(record, indent=2, default=str))
    if gradebook:
        from autograder.integrations.generate import nbgrader

        started = time.perf_counter()
        proc = nbgrader(["autograde", plan.assignment, "--force", "--create"], course_root, timeout=3600,
                        check=False)
        (folder / "nbgrader_autograde.log").write_text(
            f"exit {proc.returncode} after {time.perf_counter() - started:.1f} s\n{proc.stdout}\n{proc.stderr}")
    return folder


def gradebook_mismatches(course_root: Path, plan: RegradePlan) -> list[str]:
    """Students whose autograded points in the gradebook are not the regrade's (empty when all agree)."""
    from nbgrader.api import Gradebook, MissingEntry

    book = course_root / "gradebook.db"
    if not book.is_file():
        return [item.job.student for item in plan.items]
    failed = {s for s, _ in plan.failed}
    out = []
    with Gradebook(f"sqlite:///{book.resolve()}") as gb:
        for item in plan.items:
            student = item.job.student
            if student in failed or item.graded.result.error:
                continue
            try:
                sub = gb.find_submission(plan.assignment, student)
            except MissingEntry:
                out.append(student)
                continue
            auto = {g.name: float(g.auto_score or 0.0) for nb in sub.notebooks for g in nb.grades}
            for part in item.graded.result.parts:
                if abs(auto.get(part.grade_id, -1.0) - part.score) > 1e-9:
                    out.append(student)
                    break
    return out
