"""The engine's vocabulary: result kinds and note codes, as values every layer shares.

A check's :class:`Kind` and a note's :class:`NoteCode` are decided where the event happens
(the sandbox, the engine, the nbgrader preprocessors) and travel with the result; the reports
read them and never the English text beside them. Both enums are ``str`` subclasses, so a
result's JSON holds the plain value (``"timeout"``) and older results still load.

This module imports nothing from the package: it is the base layer, with :mod:`autograder.errors`
and :mod:`autograder.config`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Kind(str, Enum):
    """How one check ended."""

    OK = "ok"
    FAILED = "failed"  # the student's value was wrong
    STUDENT_ERROR = "student_error"  # the student's code raised
    NOT_ATTEMPTED = "not_attempted"  # the student's code raised NotImplementedError (a stub left as is)
    MISSING = "missing"  # a name the suite needs is not defined
    TIMEOUT = "timeout"  # a call or the whole grading ran past its limit
    CRASHED = "crashed"  # the student's process died
    MALFORMED = "malformed"  # the submission is not a readable notebook
    TAMPERED = "tampered"  # the submission changed what the grader relies on
    GRADER_ERROR = "grader_error"  # the grader or the machine failed: never the student's result

    def __str__(self) -> str:
        return self.value


class NoteCode(str, Enum):
    """What a note on a submission is about (the text says it to people)."""

    LOCKED_CELL_EDITED = "locked_cell_edited"  # a read-only cell was changed; the original ran
    LOCKED_CELL_MISSING = "locked_cell_missing"  # a read-only cell was deleted
    GRADED_CELL_RESTORED = "graded_cell_restored"  # an autograder test cell was edited and restored
    DUPLICATE_ID = "duplicate_id"  # two cells carry one grade id; the first is used
    WRONG_CELL_TYPE = "wrong_cell_type"  # a cell carries the grade id of another type of cell
    METADATA_REMOVED = "metadata_removed"  # nbgrader metadata nbgrader would fail on was dropped
    CELL_TIMED_OUT = "cell_timed_out"  # a notebook cell ran past its limit and was skipped
    CELL_CRASHED = "cell_crashed"  # a notebook cell ended the process and was skipped
    CALL_TIMED_OUT = "call_timed_out"  # a call into the student's code was stopped
    CALL_CRASHED = "call_crashed"  # a call into the student's code ended the process
    PROTOCOL = "protocol"  # the student process broke the grader's protocol
    RESTARTED = "restarted"  # the notebook was started again during grading
    PROCESS_LEVEL = "process_level"  # graded without a sandbox
    GRADER_FAILURE = "grader_failure"  # the grader or the machine failed; the result is not stored
    OTHER = "other"  # a note from an older result, without a code

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Note:
    """One thing the grader wants a person (and the student) to know about a submission."""

    code: NoteCode
    text: str

    def __str__(self) -> str:
        return self.text

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code.value, "text": self.text}

    @classmethod
    def from_data(cls, data: Any) -> Note:
        """A note from its JSON form; a bare string (results written before codes) is ``OTHER``."""
        if isinstance(data, dict):
            try:
                code = NoteCode(str(data.get("code", "other")))
            except ValueError:
                code = NoteCode.OTHER
            return cls(code, str(data.get("text", "")))
        return cls(NoteCode.OTHER, str(data))
