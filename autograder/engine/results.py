"""Grading results as data, and their renderings (text, Gradescope JSON)."""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict, dataclass, field
from typing import Any

from autograder.codes import Kind, Note

# who sees a check (Gradescope's four settings; `@points(..., visibility=...)` in a suite)
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")


@dataclass(frozen=True)
class CheckResult:
    """One collected hidden test (one parametrized case)."""

    check_id: str  # "<part>::<test function>"
    case: str  # the parametrized case id, or ""
    part: str
    title: str
    points: float
    max_points: float
    passed: bool
    message: str = ""
    hint: str = ""
    seconds: float = 0.0
    kind: Kind = Kind.OK
    visibility: str = "visible"  # one of VISIBILITIES
    hint_after_due: bool = False  # the hint names the solution: shown only after the due date

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", Kind(self.kind))  # a plain string from a suite or a file

    def shows_detail(self, after_due: bool) -> bool:
        """Whether the student may read this check's message (else its title and score only)."""
        return self.visibility in ("visible", "after_published") or (
            self.visibility == "after_due_date" and after_due)

    def shown_hint(self, after_due: bool) -> str:
        """The hint the student may read now ("" when it names the solution and the due date is ahead)."""
        return "" if (self.hint_after_due and not after_due) or not self.shows_detail(after_due) else self.hint


@dataclass(frozen=True)
class PartResult:
    """The checks of one graded part (one nbgrader test cell)."""

    part: str
    grade_id: str
    max_score: float
    checks: tuple[CheckResult, ...]

    @property
    def score(self) -> float:
        return round(sum(c.points for c in self.checks), 6)


@dataclass(frozen=True)
class SubmissionResult:
    """Everything decided about one submission."""

    assignment: str
    student: str
    parts: tuple[PartResult, ...]
    isolation: str
    device: str
    seconds: float
    notes: tuple[Note, ...] = field(default_factory=tuple)
    error: str = ""  # set when the notebook could not be graded at all
    limits: str = ""  # the limits in force

    @property
    def score(self) -> float:
        return round(sum(p.score for p in self.parts), 6)

    @property
    def max_score(self) -> float:
        return round(sum(p.max_score for p in self.parts), 6)

    def attention(self) -> tuple[str, ...]:
        """Why a person should look at this submission, one line each (empty: nothing to look at).

        The error that stopped its grading, every graded part lost to a missing or altered
        graded cell (with its reason), and every note (edited locked cells, skipped cells,
        sanitized metadata, restarts).
        """
        out = [self.error] if self.error else []
        for part in self.parts:
            for check in part.checks:
                if check.kind == Kind.TAMPERED and check.message not in out:
                    out.append(check.message)
        out += [n.text for n in self.notes if n.text not in out]
        return tuple(out)

    @property
    def status(self) -> str:
        """``ok``, or the reasons of :meth:`attention` joined (for tables and logs)."""
        return "; ".join(self.attention()) or "ok"

    def failed_checks(self) -> set[str]:
        """Check ids with at least one failing case."""
        return {c.check_id for p in self.parts for c in p.checks if not c.passed}

    def part(self, name: str) -> PartResult:
        for p in self.parts:
            if p.part == name:
                return p
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["notes"] = [n.to_dict() for n in self.notes]
        data["score"] = self.score
        data["max_score"] = self.max_score
        return data

    def to_gradescope(self) -> dict[str, Any]:
        """Gradescope's results.json schema."""
        tests: list[dict[str, Any]] = []
        for part in self.parts:
            for c in part.checks:
                name = f"{part.part}: {c.title}" + (f" [{c.case}]" if c.case else "")
                hint = c.hint if c.hint and not c.hint_after_due else ""
                output = "" if c.passed else c.message + (f"\nHint: {hint}" if hint else "")
                tests.append({"name": name, "score": c.points, "max_score": c.max_points,
                              "output": output, "visibility": c.visibility, "tags": [c.check_id]})
                if c.hint and c.hint_after_due and not c.passed:  # Gradescope shows it after the due date
                    tests.append({"name": f"{name}: hint", "score": 0.0, "max_score": 0.0,
                                  "output": f"Hint: {c.hint}", "visibility": "after_due_date",
                                  "tags": [c.check_id]})
        out: dict[str, Any] = {"score": self.score, "tests": tests, "visibility": "visible",
                               "extra_data": {"isolation": self.isolation, "device": self.device,
                                              "limits": self.limits, "seconds": round(self.seconds, 3)}}
        notes = [n.text for n in self.notes] + ([self.error] if self.error else [])
        if notes:
            out["output"] = "\n".join(notes)
        return out


def _fmt(x: float) -> str:
    return f"{x:g}"


WIDTH = 88  # feedback pages show text outputs as they are: longer lines run off the page


def _wrapped(text: str, indent: str, first: str | None = None) -> list[str]:
    """``text`` wrapped to ``WIDTH`` columns, each line indented (the first by ``first``)."""
    lines: list[str] = []
    for raw in text.splitlines() or [""]:
        lead = first if first is not None and not lines else indent
        lines += textwrap.wrap(raw, WIDTH, initial_indent=lead, subsequent_indent=indent,
                               break_long_words=True, break_on_hyphens=False) or [lead.rstrip()]
    return lines


def render_part(part: PartResult, after_due: bool = True) -> str:
    """The per-check report written into a graded cell (plain text, student-facing).

    Its first line carries the cell's score ("step: 4 / 5 points"); lines are wrapped to
    ``WIDTH`` columns. A check the student may not read yet (``hidden``, or ``after_due_date``
    while ``after_due`` is false) shows its title and score only, and a hint that names the
    solution is left out until ``after_due``.
    """
    lines = [f"{part.part}: {_fmt(part.score)} / {_fmt(part.max_score)} points"]
    for c in part.checks:
        mark = "PASS" if c.passed else "FAIL"
        case = f" [{c.case}]" if c.case else ""
        lines += _wrapped(f"{c.title}{case} ({_fmt(c.points)}/{_fmt(c.max_points)})", "       ", f"  {mark} ")
        if not c.passed and c.shows_detail(after_due):
            lines += _wrapped(c.message, "       ")
            if c.shown_hint(after_due):
                lines += _wrapped(f"hint: {c.hint}", "             ", "       ")
            elif c.hint:
                lines.append("       (a hint is shown after the due date)")
    return "\n".join(lines) + "\n"


def render_summary(result: SubmissionResult) -> str:
    """A short score-per-part summary for the top of the feedback, with what needs attention."""
    lines = [f"Autograded score: {_fmt(result.score)} / {_fmt(result.max_score)}"]
    for p in result.parts:
        lines.append(f"  {p.part:<24} {_fmt(p.score):>6} / {_fmt(p.max_score)}")
    for reason in result.attention():
        lines += _wrapped(reason, "        ", "  note: ")
    return "\n".join(lines) + "\n"


def to_json(result: SubmissionResult) -> str:
    return json.dumps(result.to_dict(), indent=2)


def result_from_dict(data: dict[str, Any]) -> SubmissionResult:
    """Rebuild a SubmissionResult from ``to_dict()`` output (cache and report files)."""
    parts = tuple(
        PartResult(p["part"], p["grade_id"], float(p["max_score"]),
                   tuple(_check_from_dict(c) for c in p["checks"]))
        for p in data["parts"])
    return SubmissionResult(data["assignment"], data["student"], parts, data["isolation"], data["device"],
                            float(data["seconds"]), tuple(Note.from_data(n) for n in data.get("notes", ())),
                            data.get("error", ""),
                            data.get("limits", ""))


def _check_from_dict(data: dict[str, Any]) -> CheckResult:
    fields = dict(data)
    try:
        fields["kind"] = Kind(str(fields.get("kind", "ok")))
    except ValueError:
        fields["kind"] = Kind.GRADER_ERROR
    return CheckResult(**fields)
