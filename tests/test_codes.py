"""Result kinds and note codes: decided where the event happens, carried as values, read by the report."""

from __future__ import annotations

import json

from autograder.codes import Kind, Note, NoteCode
from autograder.engine.plugin import explain
from autograder.engine.results import CheckResult, PartResult, SubmissionResult, result_from_dict
from autograder.errors import CheckFailure, MissingName, StudentCrashed, StudentError, StudentTimeout
from autograder.reports.class_flags import flags_of


def _result(notes: tuple[Note, ...], kind: Kind = Kind.OK) -> SubmissionResult:
    check = CheckResult(check_id="p::t", case="", part="p", title="t", points=0.0 if kind != Kind.OK else 1.0,
                        max_points=1.0, passed=kind == Kind.OK, message="m", kind=kind)
    return SubmissionResult("a1", "s", (PartResult("p", "test_p", 1.0, (check,)),), "bwrap", "cpu", 1.0, notes)


def test_the_engine_names_each_way_a_check_can_end() -> None:
    assert explain(CheckFailure("wrong"))[1] is Kind.FAILED
    assert explain(MissingName("step"))[1] is Kind.MISSING
    assert explain(StudentTimeout("`f`", 2.0))[1] is Kind.TIMEOUT
    assert explain(StudentCrashed("`f`", "killed"))[1] is Kind.CRASHED
    assert explain(StudentError("ValueError", "bad"))[1] is Kind.STUDENT_ERROR
    # a stub left as released is its own kind, decided from the exception's type, not its text
    assert explain(StudentError("NotImplementedError", ""))[1] is Kind.NOT_ATTEMPTED
    assert explain(StudentError("ValueError", "NotImplementedError"))[1] is Kind.STUDENT_ERROR
    assert explain(KeyError("w"))[1] is Kind.GRADER_ERROR


def test_kinds_and_notes_survive_the_result_file() -> None:
    result = _result((Note(NoteCode.LOCKED_CELL_EDITED, "locked cell 'imports' was edited"),), Kind.TIMEOUT)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["notes"] == [{"code": "locked_cell_edited", "text": "locked cell 'imports' was edited"}]
    assert data["parts"][0]["checks"][0]["kind"] == "timeout"
    back = result_from_dict(data)
    assert back == result
    assert back.notes[0].code is NoteCode.LOCKED_CELL_EDITED
    assert back.parts[0].checks[0].kind is Kind.TIMEOUT


def test_a_result_written_before_codes_still_loads() -> None:
    data = _result(()).to_dict()
    data["notes"] = ["locked cell 'imports' was edited; the original was run"]
    data["parts"][0]["checks"][0]["kind"] = "no such kind"
    back = result_from_dict(data)
    assert back.notes == (Note(NoteCode.OTHER, "locked cell 'imports' was edited; the original was run"),)
    assert back.parts[0].checks[0].kind is Kind.GRADER_ERROR  # unknown: a person looks at it


def test_the_report_reads_codes_not_sentences() -> None:
    reworded = Note(NoteCode.LOCKED_CELL_EDITED, "somebody changed the imports cell")
    look_alike = Note(NoteCode.OTHER, "locked cell 'imports' was edited; the original was run")
    skipped = Note(NoteCode.CELL_TIMED_OUT, "cell 4 was stopped")
    flags = flags_of(_result((reworded, look_alike, skipped)), [])
    assert [(f.category, f.reason) for f in flags] == [("tampered", "somebody changed the imports cell"),
                                                       ("timed out", "cell 4 was stopped")]
