"""How the class did per hidden check: failure counts and causes, and each submission's slowest check.

A failed check's cause is read from its :class:`~autograder.codes.Kind` (a stub's
``NotImplementedError`` is :attr:`~autograder.codes.Kind.NOT_ATTEMPTED`, decided by the engine).
"""

from __future__ import annotations

from collections import Counter

from autograder.codes import Kind
from autograder.engine.results import CheckResult, SubmissionResult
from autograder.reports.class_model import CAUSE_ORDER, CheckStats, SlowCheck

# the cause of a failed check, as the failure-rate chart groups them (ordered by CAUSE_ORDER)
CAUSES: dict[Kind, str] = {
    Kind.FAILED: "wrong result",
    Kind.STUDENT_ERROR: "raised an error",
    Kind.NOT_ATTEMPTED: "not attempted",
    Kind.MISSING: "missing function",
    Kind.TIMEOUT: "timed out or crashed",
    Kind.CRASHED: "timed out or crashed",
    Kind.GRADER_ERROR: "grader error",
}


def cause_of(check: CheckResult) -> str:
    """Why a check failed, in the failure-rate chart's words (a stub's NotImplementedError: not attempted)."""
    return CAUSES.get(check.kind, "grader error")


def check_stats(results: list[SubmissionResult]) -> tuple[CheckStats, ...]:
    """Per-check failure counts over the class, most failed first.

    A submission counts for a check when its suite ran that check; it failed the check
    when any parametrized case failed. Whole-part failures (``part::*``: a crash before
    the suite ran, a deleted cell) are left out here; they are flags.
    """
    order: dict[str, int] = {}
    info: dict[str, tuple[str, str]] = {}
    ran: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    causes: dict[str, Counter[str]] = {}
    messages: dict[str, Counter[tuple[int, str]]] = {}  # (cause rank, message): submissions
    for result in results:
        seen: dict[str, dict[tuple[int, str], None]] = {}
        for part in result.parts:
            for c in part.checks:
                if c.check_id.endswith("::*"):
                    continue
                order.setdefault(c.check_id, len(order))
                info.setdefault(c.check_id, (c.part, c.title))
                failures = seen.setdefault(c.check_id, {})
                if not c.passed:
                    failures[(CAUSE_ORDER.index(cause_of(c)), c.message.strip())] = None
        for check_id, failures in seen.items():
            ran[check_id] += 1
            if failures:
                failed[check_id] += 1
                causes.setdefault(check_id, Counter())[CAUSE_ORDER[min(failures)[0]]] += 1
                messages.setdefault(check_id, Counter()).update(failures.keys())
    common = {check_id: max(counts.items(), key=lambda item: (item[1], -item[0][0]))[0][1]
              for check_id, counts in messages.items()}
    stats = []
    for check_id in order:
        counts = causes.get(check_id, Counter())
        part_name, title = info[check_id]
        by_cause = tuple((c, counts[c]) for c in CAUSE_ORDER if counts[c])
        stats.append(CheckStats(check_id, part_name, title, ran[check_id], failed[check_id], by_cause,
                                common.get(check_id, "")))
    return tuple(sorted(stats, key=lambda s: (-s.rate, -s.failed, order[s.check_id])))


def slowest_check(result: SubmissionResult) -> SlowCheck | None:
    """The slowest check of a submission (its id with the case), None when it ran none."""
    checks = [c for p in result.parts for c in p.checks]
    if not checks:
        return None
    top = max(checks, key=lambda c: c.seconds)
    return SlowCheck(top.check_id + (f"[{top.case}]" if top.case else ""), top.title, top.seconds,
                     sum(c.seconds for c in checks))
