"""Why a submission needs a person: the class report's flags, from result kinds and note codes.

A flag comes from values the engine decided where the event happened: a failed check's
:class:`~autograder.codes.Kind`, a note's :class:`~autograder.codes.NoteCode`, an internal
error the grader recorded. The English beside them is shown as the reason, never parsed.
"""

from __future__ import annotations

from pathlib import Path

from autograder.codes import Kind, NoteCode
from autograder.engine.assignment import SubmissionError, read_notebook
from autograder.engine.results import SubmissionResult
from autograder.reports.class_model import Flag

# check kinds that mean a person should look at the submission, and how the report names them
FLAG_KINDS: dict[Kind, str] = {
    Kind.TIMEOUT: "timed out",
    Kind.CRASHED: "crashed",
    Kind.MISSING: "missing function",
    Kind.TAMPERED: "tampered",
    Kind.MALFORMED: "malformed",
    Kind.GRADER_ERROR: "grader error",
}
# the notes that mean a person should look at the submission, and the report's name for each
NOTE_FLAGS: dict[NoteCode, str] = {
    NoteCode.LOCKED_CELL_EDITED: "tampered",
    NoteCode.LOCKED_CELL_MISSING: "tampered",
    NoteCode.DUPLICATE_ID: "tampered",
    NoteCode.CELL_TIMED_OUT: "timed out",
    NoteCode.CELL_CRASHED: "crashed",
}
MAX_REASON = 300


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON else text[:MAX_REASON - 3] + "..."


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def flags_of(result: SubmissionResult, internal_errors: list[str]) -> tuple[Flag, ...]:
    """Why a graded submission needs a person: odd check outcomes, engine notes, grader errors.

    Failed checks of one kind and message are grouped into one flag naming their check ids.
    """
    grouped: dict[tuple[str, str], list[str]] = {}
    for part in result.parts:
        for c in part.checks:
            if not c.passed and c.kind in FLAG_KINDS:
                label = f"all of {c.part}" if c.check_id.endswith("::*") else c.check_id
                ids = grouped.setdefault((FLAG_KINDS[c.kind], c.message), [])
                if label not in ids:
                    ids.append(label)
    flags = []
    for (category, message), ids in grouped.items():
        if category == "grader error" and internal_errors:
            continue  # one flag per internal error below, with the error itself
        shown = ", ".join(ids[:6]) + (f" and {len(ids) - 6} more" if len(ids) > 6 else "")
        flags.append(Flag(category, _short(f"{message} ({shown})")))
    for error in internal_errors:
        where, _, detail = error.partition(": ")
        detail = _last_line(detail) or detail
        flags.append(Flag("grader error", _short(f"internal error in {where}: {detail}")))
    for note in result.notes:
        if note.code in NOTE_FLAGS:
            flags.append(Flag(NOTE_FLAGS[note.code], _short(note.text)))
    if result.error and not flags:
        flags.append(Flag("not graded", _short(result.error)))
    return tuple(flags)


def unreadable_flag(course_root: Path, assignment_id: str, student: str) -> Flag:
    """The flag of a submission the grader left no result for (usually a notebook nbgrader cannot read)."""
    path = course_root / "submitted" / student / assignment_id / f"{assignment_id}.ipynb"
    if not path.exists():
        where = f"submitted/{student}/{assignment_id}/"
        return Flag("not graded", f"no grading result and no {path.name} in {where}")
    try:
        read_notebook(path)
    except SubmissionError as exc:
        return Flag("malformed", _short(f"{exc}; nbgrader could not autograde it"))
    return Flag("not graded", "submitted, but no grading result was recorded: run `nbgrader autograde "
                              f"{assignment_id}` again and read its log for this student")
