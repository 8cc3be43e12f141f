"""LMS grade-import CSVs (Canvas, Moodle) from a gradebook filled by real nbgrader runs."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from click.testing import CliRunner

from autograder.authoring.known_wrong import load_mutants
from autograder.cli.demo import make_course, submit
from autograder.cli.main import main
from autograder.integrations.generate import nbgrader
from autograder.integrations.gradebook import final_score
from autograder.integrations.lms import ClassGrades, StudentScores, canvas_rows, export_csv, moodle_rows, write_rows
from tests.conftest import ROOT, answer_key

AID = "a1_perceptron"
# id, first, last, email, lms user id, what they submit
CLASS = [
    ("ada", "Ada", "Lovelace", "ada@example.edu", "48213", "key"),
    ("grace", "Grace Brewster", "Hopper", "grace@example.edu", "", "step_strict"),
    ("alan", "Alan", "Turing", "", "", "release"),
    ("kurt", "Kurt", "Gödel", "kurt@example.edu", "", None),  # enrolled, never submitted
    ("emmy", "Emmy", "Noether", "emmy@example.edu", "", "garbage"),  # submitted, never autograded
]
NEVER_GRADED = {"emmy"}


def read_csv(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


# ---- the writers, on a hand-made class (fast) ----

GRADES = ClassGrades(
    assignments=("a1", "a2"), max_scores=(25.0, 12.5),
    students=(StudentScores("ada", "Ada", "Lovelace, Jr.", "ada@x.org", "7", (21.0, None)),
              StudentScores("n0name", "", "", "", "", (0.0, 12.5)),
              StudentScores("x", "", "", "", "", (1 / 3, 1e-7))),
)


def test_canvas_rows_layout() -> None:
    rows = canvas_rows(GRADES, {"a2": "A2: Backprop (991)"})
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "a1", "A2: Backprop (991)"]
    assert rows[1] == ["    Points Possible", "", "", "", "", "25", "12.5"]
    assert rows[2] == ["Lovelace, Jr., Ada", "7", "ada", "ada", "", "21", ""]
    assert rows[3] == ["n0name", "", "n0name", "n0name", "", "0", "12.5"]
    assert rows[4][5:] == ["0.3333", "0"]  # plain decimals, never an exponent
    assert canvas_rows(GRADES, missing="zero")[2][6] == "0"


def test_moodle_rows_and_missing_keys() -> None:
    rows, skipped = moodle_rows(GRADES)
    assert rows[0] == ["Email address", "First name", "Last name", "a1", "a2"]
    assert rows[1:] == [["ada@x.org", "Ada", "Lovelace, Jr.", "21", ""]]
    assert skipped == ["n0name", "x"]
    rows, skipped = moodle_rows(GRADES, key="username", missing="zero")
    assert rows[0][0] == "Username" and [r[0] for r in rows[1:]] == ["ada", "n0name", "x"]
    assert rows[1][4] == "0" and skipped == []


def test_written_csv_round_trips(tmp_path: Path) -> None:
    rows = canvas_rows(GRADES)
    write_rows(rows, tmp_path / "out.csv")
    assert read_csv(tmp_path / "out.csv") == rows
    assert b'"Lovelace, Jr., Ada"' in (tmp_path / "out.csv").read_bytes()  # a comma in a name is quoted


def test_missing_gradebook_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", "--lms", "canvas", AID, "--course", str(ROOT),
                                       "--gradebook", str(tmp_path / "none.db"),
                                       "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert result.output.startswith("error: no nbgrader gradebook at") and "Traceback" not in result.output


def test_bad_rename_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", "--lms", "moodle", AID, "--rename", "oops",
                                       "--course", str(ROOT), "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2 and result.output == "error: --rename takes ID=HEADER, not 'oops'\n"


def test_late_penalty_is_taken_off_and_floored_at_zero() -> None:
    """The one late-penalty rule the LMS export and the class report share."""
    assert final_score(SimpleNamespace(score=10.0, late_submission_penalty=3.0)) == 7.0
    assert final_score(SimpleNamespace(score=2.0, late_submission_penalty=5.0)) == 0.0
    assert final_score(SimpleNamespace(score=None, late_submission_penalty=None)) == 0.0
    assert final_score(SimpleNamespace(score=4.5, late_submission_penalty=None)) == 4.5


# ---- a class graded by real nbgrader ----

@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course copy: students enrolled with nbgrader, three submissions autograded."""
    course = tmp_path_factory.mktemp("lms-course")
    make_course(ROOT, course, [AID])
    nbgrader(["generate_assignment", AID, "--force", "--log-level=WARN"], course)
    key = answer_key(AID)
    mutants = {m.name: m for m in load_mutants(AID)}
    release = (course / "release" / AID / f"{AID}.ipynb").read_text()
    with open(course / "students.csv", "w", newline="", encoding="utf-8") as f:  # one nbgrader call for all
        writer = csv.writer(f)
        writer.writerow(["id", "first_name", "last_name", "email", "lms_user_id"])
        writer.writerows(row[:5] for row in CLASS)
    nbgrader(["db", "student", "import", "students.csv"], course)
    for sid, *_, work in CLASS:
        if work == "key":
            submit(course, sid, AID, nbformat.writes(key))
        elif work == "release":
            submit(course, sid, AID, release)
        elif work == "garbage":
            submit(course, sid, AID, "{ not json")
        elif work is not None:
            submit(course, sid, AID, nbformat.writes(mutants[work].apply(key)))
    proc = nbgrader(["autograde", AID, "--force"], course, check=False)
    assert proc.returncode != 0  # nbgrader says that one notebook failed; the others are graded
    return course


def gradebook_scores(course: Path) -> tuple[dict[str, float | None], float]:
    """Each student's nbgrader score (less late penalty) and the assignment's max, from the gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    out: dict[str, float | None] = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        top = float(gb.find_assignment(AID).max_score)
        for sid, *_ in CLASS:
            try:
                sub = gb.find_submission(AID, sid)
                out[sid] = max(0.0, sub.score - sub.late_submission_penalty)
            except MissingEntry:
                out[sid] = None
    return out, top


@pytest.mark.slow
def test_canvas_export_matches_gradebook(course: Path, tmp_path: Path, grade) -> None:
    out = tmp_path / "canvas.csv"
    result = CliRunner().invoke(main, ["export", "--lms", "canvas", AID, "--course", str(course),
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "still need manual grading" in result.output  # the free response awaits a person
    scores, top = gradebook_scores(course)
    key = grade(AID, answer_key(AID))
    strict = grade(AID, next(m for m in load_mutants(AID) if m.name == "step_strict").apply(answer_key(AID)))
    assert 0 < strict.score < key.score == key.max_score
    # nbgrader counts the never-graded submission as 0; the export leaves it blank and names it
    assert scores == {"ada": key.score, "grace": strict.score, "alan": 0.0, "kurt": None, "emmy": 0.0}
    assert top > key.max_score  # autograded points plus the free response
    assert "1 submission(s) were never autograded and are left blank: emmy" in result.output
    rows = read_csv(out)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", AID]
    assert rows[1][0].strip() == "Points Possible" and float(rows[1][5]) == top
    by_login = {r[3]: r for r in rows[2:]}
    assert set(by_login) == {sid for sid, *_ in CLASS}
    for sid, first, last, _email, lms_id, _work in CLASS:
        row = by_login[sid]
        assert row[:5] == [f"{last}, {first}", lms_id, sid, sid, ""]
        blank = scores[sid] is None or sid in NEVER_GRADED
        assert row[5] == ("" if blank else f"{scores[sid]:g}")
    assert f"wrote {out}: 5 students, 3 scores ({AID} out of {top:g})" in result.output


@pytest.mark.slow
def test_moodle_export_matches_gradebook(course: Path, tmp_path: Path) -> None:
    out = tmp_path / "moodle.csv"
    result = CliRunner().invoke(main, ["export", "--lms", "moodle", AID, "--course", str(course),
                                       "--out", str(out), "--rename", f"{AID}=A1 Perceptron",
                                       "--missing", "zero"])
    assert result.exit_code == 0, result.output
    assert "1 student(s) have no email" in result.output and "alan" in result.output
    scores, _ = gradebook_scores(course)
    rows = read_csv(out)
    assert rows[0] == ["Email address", "First name", "Last name", "A1 Perceptron"]
    got = {r[0]: r for r in rows[1:]}
    for sid, first, last, email, _lms, _work in CLASS:
        if not email:
            assert all(sid not in r for r in rows)
            continue
        assert got[email][1:3] == [first, last]
        if sid in NEVER_GRADED:  # blank even with --missing zero: it was submitted, not graded
            assert got[email][3] == ""
            continue
        assert float(got[email][3]) == (scores[sid] or 0.0)
    summary = export_csv(course, "moodle", [AID], tmp_path / "u.csv", moodle_key="username")
    by_username = read_csv(summary.path)
    assert by_username[0][0] == "Username"
    assert {r[0]: r[3] for r in by_username[1:]} == {
        sid: ("" if s is None or sid in NEVER_GRADED else f"{s:g}") for sid, s in scores.items()}


@pytest.mark.slow
def test_unknown_assignment_names_the_known_ones(course: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", "--lms", "canvas", "a2_xor_backprop",
                                       "--course", str(course), "--out", str(tmp_path / "x.csv")])
    assert result.exit_code == 2
    assert result.output == f"error: the gradebook has no assignment 'a2_xor_backprop' (it has: {AID})\n"
