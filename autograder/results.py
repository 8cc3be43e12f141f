"""Grading results as data, and their renderings (text, Gradescope JSON)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


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
    kind: str = "ok"  # ok | failed | student_error | missing | timeout | crashed | grader_error


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
    notes: tuple[str, ...] = field(default_factory=tuple)
    error: str = ""  # set when the notebook could not be graded at all
    limits: str = ""  # the limits in force

    @property
    def score(self) -> float:
        return round(sum(p.score for p in self.parts), 6)

    @property
    def max_score(self) -> float:
        return round(sum(p.max_score for p in self.parts), 6)

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
        data["score"] = self.score
        data["max_score"] = self.max_score
        return data

    def to_gradescope(self) -> dict[str, Any]:
        """Gradescope's results.json schema."""
        tests = []
        for part in self.parts:
            for c in part.checks:
                name = f"{part.part}: {c.title}" + (f" [{c.case}]" if c.case else "")
                output = "" if c.passed else c.message + (f"\nHint: {c.hint}" if c.hint else "")
                tests.append({"name": name, "score": c.points, "max_score": c.max_points,
                              "output": output, "visibility": "visible", "tags": [c.check_id]})
        out: dict[str, Any] = {"score": self.score, "tests": tests, "visibility": "visible",
                               "extra_data": {"isolation": self.isolation, "device": self.device,
                                              "limits": self.limits, "seconds": round(self.seconds, 3)}}
        notes = list(self.notes) + ([self.error] if self.error else [])
        if notes:
            out["output"] = "\n".join(notes)
        return out


def _fmt(x: float) -> str:
    return f"{x:g}"


def render_part(part: PartResult) -> str:
    """The per-check report written into a graded cell (plain text, student-facing)."""
    lines = [f"{part.part}: {_fmt(part.score)} / {_fmt(part.max_score)} points"]
    for c in part.checks:
        mark = "PASS" if c.passed else "FAIL"
        case = f" [{c.case}]" if c.case else ""
        lines.append(f"  {mark} {c.title}{case} ({_fmt(c.points)}/{_fmt(c.max_points)})")
        if not c.passed:
            for msg_line in c.message.splitlines() or [""]:
                lines.append(f"       {msg_line}")
            if c.hint:
                lines.append(f"       hint: {c.hint}")
    return "\n".join(lines) + "\n"


def render_summary(result: SubmissionResult) -> str:
    """A short score-per-part summary for the top of the feedback."""
    lines = [f"Autograded score: {_fmt(result.score)} / {_fmt(result.max_score)}"]
    for p in result.parts:
        lines.append(f"  {p.part:<24} {_fmt(p.score):>6} / {_fmt(p.max_score)}")
    if result.error:
        lines.append(f"  note: {result.error}")
    for note in result.notes:
        lines.append(f"  note: {note}")
    return "\n".join(lines) + "\n"


def to_json(result: SubmissionResult) -> str:
    return json.dumps(result.to_dict(), indent=2)


def result_from_dict(data: dict[str, Any]) -> SubmissionResult:
    """Rebuild a SubmissionResult from ``to_dict()`` output (cache and report files)."""
    parts = tuple(
        PartResult(p["part"], p["grade_id"], float(p["max_score"]),
                   tuple(CheckResult(**c) for c in p["checks"]))
        for p in data["parts"])
    return SubmissionResult(data["assignment"], data["student"], parts, data["isolation"], data["device"],
                            float(data["seconds"]), tuple(data.get("notes", ())), data.get("error", ""),
                            data.get("limits", ""))
