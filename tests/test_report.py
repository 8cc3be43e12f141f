"""``nngrade report``: the class report's data, CSV and HTML, and both pages in headless Chromium."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from autograder.cli.main import main
from autograder.codes import Note, NoteCode
from autograder.engine.assignment import SUITES_DIR
from autograder.engine.cache import RESULTS_DIR
from autograder.engine.results import CheckResult, PartResult, SubmissionResult
from autograder.reports.class_checks import check_stats
from autograder.reports.class_flags import flags_of
from autograder.reports.class_report import build_report, collect
from tests import browser
from tests.conftest import ROOT
from tests.report_class import AID, FLAGGED, build_graded_class, expected_failures

needs_chromium = pytest.mark.skipif(
    browser.chromium() is None, reason="chromium is not installed (apt-get install chromium; .ci/run does)")


# --- fast: synthetic results ---------------------------------------------------------------

def _check(check_id: str, passed: bool, kind: str = "ok", message: str = "", case: str = "",
           seconds: float = 0.01) -> CheckResult:
    part = check_id.split("::")[0]
    return CheckResult(check_id=check_id, case=case, part=part, title=f"title of {check_id}",
                       points=1.0 if passed else 0.0, max_points=1.0, passed=passed,
                       message=message, hint="" if passed else "a hint", seconds=seconds,
                       kind="ok" if passed else kind)


def _result(student: str, checks: list[CheckResult], notes: tuple[Note, ...] = (), seconds: float = 1.0
            ) -> SubmissionResult:
    parts = {}
    for c in checks:
        parts.setdefault(c.part, []).append(c)
    return SubmissionResult("hw", student, tuple(PartResult(p, f"test_{p}", float(len(cs)), tuple(cs))
                                                 for p, cs in parts.items()),
                            "process", "cpu", seconds, notes)


def _save(course: Path, result: SubmissionResult, internal: list[str] | None = None) -> None:
    folder = course / RESULTS_DIR / result.assignment
    folder.mkdir(parents=True, exist_ok=True)
    data = result.to_dict()
    data["internal_errors"] = internal or []
    (folder / f"{result.student}.json").write_text(json.dumps(data))


def _csv_rows(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def test_check_stats_count_submissions_and_sort_by_rate():
    results = [
        _result("a", [_check("p::one", False, "failed", "wrong", case="1"),
                      _check("p::one", False, "failed", "wrong", case="2"), _check("p::two", True)]),
        _result("b", [_check("p::one", False, "not_attempted", "`f` raised NotImplementedError"),
                      _check("p::two", False, "failed", "off by one")]),
        _result("c", [_check("p::one", True), _check("p::two", True)]),
        _result("d", [_check("q::*", False, "crashed", "died")]),
    ]
    stats = check_stats(results)
    assert [(s.check_id, s.failed, s.ran) for s in stats] == [("p::one", 2, 3), ("p::two", 1, 3)]
    assert dict(stats[0].causes) == {"wrong result": 1, "not attempted": 1}
    assert stats[0].common_message == "wrong"  # once per submission; a wrong result wins a tie
    assert stats[0].rate == pytest.approx(2 / 3)


def test_flags_name_what_needs_a_person():
    result = _result("s", [
        _check("p::one", False, "timeout", "`f` did not finish within 2 s", case="1"),
        _check("p::one", False, "timeout", "`f` did not finish within 2 s", case="2"),
        _check("p::two", False, "grader_error", "the grader hit an internal error"),
        _check("p::three", False, "failed", "wrong"),
        _check("q::*", False, "tampered", "the graded cell 'test_q' is missing"),
    ], notes=(Note(NoteCode.LOCKED_CELL_EDITED, "locked cell 'imports' was edited; the original was run"),
             Note(NoteCode.CALL_CRASHED, "`f`: `f` raised Timeout")))
    flags = flags_of(result, ["p::two[]: Traceback (most recent call last):\n  ...\nKeyError: 'w'"])
    assert [(f.category, f.reason) for f in flags] == [
        ("timed out", "`f` did not finish within 2 s (p::one)"),
        ("tampered", "the graded cell 'test_q' is missing (all of q)"),
        ("grader error", "internal error in p::two[]: KeyError: 'w'"),
        ("tampered", "locked cell 'imports' was edited; the original was run"),
    ]
    assert flags_of(_result("ok", [_check("p::one", False, "failed", "wrong")]), []) == ()


def test_student_strings_are_escaped_in_html_plots_and_csv(tmp_path):
    course = tmp_path / "course"
    evil = '<img src=x onerror=alert(1)>$\\frac{'
    checks = [_check("p::one", False, "student_error", "<script>alert('x')</script> & $x^{$"),
              _check("p::two", False, "missing", "`<marquee>` is not defined")]
    _save(course, _result(evil, checks))
    _save(course, _result("=1+2", [_check("p::one", True), _check("p::two", True)]))
    html_path, csv_path = build_report(course, "hw", tmp_path / "out")  # $ in plot labels: no mathtext error
    page = html_path.read_text()
    assert "<script" not in page and "<img src=x" not in page and "<marquee>" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp;" in page
    assert len(re.findall(r'<img class="plot" alt="[^"]*" src="data:image/png;base64,', page)) == 3
    assert not re.search(r'(src|href)="(?!data:)', page)  # self-contained: nothing loaded from elsewhere
    rows = _csv_rows(csv_path)
    assert "'=1+2" in rows  # a spreadsheet shows it as text, never runs it
    assert rows[evil]["flags"] == "missing function"
    assert rows[evil]["failed_checks"] == "p::one;p::two"


def test_nothing_graded_is_one_line_error(tmp_path):
    (tmp_path / "source").mkdir()
    (tmp_path / "nbgrader_config.py").write_text("")
    result = CliRunner().invoke(main, ["report", "hw", "--course", str(tmp_path), "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.startswith("error: nothing to report for hw")


@needs_chromium
def test_the_browser_probe_sees_broken_images_and_hidden_text(tmp_path):
    page = tmp_path / "page.html"
    page.write_text('<html><body><p>shown</p><p style="display:none">hidden</p>'
                    '<img src="data:image/png;base64,AAAA"><img src="missing.png"></body></html>')
    seen = browser.render(page, tmp_path / "work")
    assert "shown" in seen.text and "hidden" not in seen.text and "hidden" in seen.dom
    assert (seen.images, seen.loaded) == (2, 0)


# --- slow: a class graded by real nbgrader ------------------------------------------------

@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The report class, graded by nbgrader autograde, with feedback and `nngrade report` run."""
    course = build_graded_class(ROOT, tmp_path_factory.mktemp("report-course"))
    out = course / "reports"
    result = CliRunner().invoke(main, ["report", AID, "--course", str(course), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "need a person" in result.output
    return course, out / f"{AID}_report.html", out / f"{AID}_report.csv"


def _all_checks(course: Path) -> set[str]:
    data = json.loads((course / RESULTS_DIR / AID / "key.json").read_text())
    return {c["check_id"] for p in data["parts"] for c in p["checks"]}


@pytest.mark.slow
def test_csv_rows(graded):
    course, _, csv_path = graded
    rows = _csv_rows(csv_path)
    expected = expected_failures(_all_checks(course))
    assert set(rows) == set(expected) | {"malformed"}
    for student, fails in expected.items():
        row = rows[student]
        assert row["status"] == "graded"
        assert set(filter(None, row["failed_checks"].split(";"))) == fails, student
        assert float(row["max_score"]) == 23 and float(row["autograded_max"]) == 21  # + 2 manual points
        assert float(row["seconds"]) > 0
    assert float(rows["key"]["score"]) == 21 and float(rows["untouched"]["score"]) == 0
    key = json.loads((course / RESULTS_DIR / AID / "key.json").read_text())
    points = {c["check_id"]: 0.0 for p in key["parts"] for c in p["checks"]}
    for p in key["parts"]:
        for c in p["checks"]:
            points[c["check_id"]] += c["max_points"]
    # the known-wrong table names the checks step_strict fails; the key says what they are worth
    assert float(rows["step_strict"]["score"]) == 21 - sum(points[c] for c in expected["step_strict"])
    assert float(rows["tampered"]["score"]) == 21 - 2 - 5  # predict missing, update cell deleted
    assert rows["malformed"]["status"] == "not graded" and rows["malformed"]["seconds"] == ""
    flagged = {s: set(r["flags"].split(";")) for s, r in rows.items() if r["flags"]}
    assert flagged == FLAGGED
    assert "did not finish within 2 s" in rows["loop"]["reasons"]
    assert "not valid notebook JSON" in rows["malformed"]["reasons"]


@pytest.mark.slow
def test_failure_rates_sorted_with_the_mistakes_of_the_class(graded):
    course, html_path, _ = graded
    expected = expected_failures(_all_checks(course))
    report = collect(course, AID)
    for stat in report.checks:
        ran = [s for s in expected if not (s == "tampered" and stat.part == "update")]
        assert (stat.failed, stat.ran) == (sum(stat.check_id in expected[s] for s in ran), len(ran)), stat
    rates = [s.rate for s in report.checks]
    assert rates == sorted(rates, reverse=True)
    top = report.checks[0]  # step_strict's mistake, plus the untouched, looping and renamed predict
    assert top.check_id == "predict::test_predict_on_boundary" and (top.failed, top.ran) == (4, 7)
    assert dict(top.causes) == {"wrong result": 1, "not attempted": 1, "missing function": 1,
                                "timed out or crashed": 1}
    at_zero = next(s for s in report.checks if s.check_id == "step::test_step_at_zero")
    assert at_zero.common_message.startswith("step([0.0, -0.0, -1e-12, 1e-12]): expected [1, 1, 0, 1]")
    # the page lists the checks in the same order
    table = html_path.read_text().split("<h2>Checks by failure rate</h2>", 1)[1].split("</section>", 1)[0]
    listed = re.findall(r'<span class="id">([a-z_]+::[a-z_]+)</span></td>', table)
    assert listed == [s.check_id for s in report.checks]


@pytest.mark.slow
@needs_chromium
def test_report_renders_in_chromium_and_every_image_loads(graded, tmp_path):
    _, html_path, _ = graded
    page = browser.render(html_path, tmp_path)
    assert page.title == f"{AID} class report"
    assert page.images == 3 and page.loaded == 3
    assert all(w > 300 and h > 100 for w, h in page.sizes)
    for heading in ("Submissions that need a person", "Scores", "Checks by failure rate",
                    "Grading time per submission"):
        assert heading in page.text
    flagged_section = page.text.split("Submissions that need a person", 1)[1].split("Scores", 1)[0]
    for student in FLAGGED:
        assert student in flagged_section
    assert "step_strict" not in flagged_section
    png = browser.screenshot(html_path, tmp_path / "report.png", tmp_path, height=1200)
    assert png.stat().st_size > 20_000  # a rendered page, not a blank one


def _suite_lines(course: Path, student: str) -> set[str]:
    """Every line of the hidden suite's code longer than 24 characters, less the student's own lines
    (a reference implementation can read like a correct answer)."""
    submitted = nbformat.read(str(course / "submitted" / student / AID / f"{AID}.ipynb"), as_version=4)
    own = {line.strip() for cell in submitted.cells for line in cell.source.splitlines()}
    return {line.strip() for path in (SUITES_DIR / AID).glob("*.py")
            for line in path.read_text().splitlines() if len(line.strip()) > 24} - own


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize("student", ["step_strict", "update_in_place", "loop"])
def test_feedback_shows_the_check_report_and_no_hidden_code(graded, tmp_path, student):
    course, _, _ = graded
    page = browser.render(course / "feedback" / student / AID / f"{AID}.html", tmp_path)
    result = json.loads((course / RESULTS_DIR / AID / f"{student}.json").read_text())
    failed = [c for p in result["parts"] for c in p["checks"] if not c["passed"]]
    assert failed
    assert page.text.count("FAIL") >= len({(c["check_id"], c["case"]) for c in failed})
    flat = " ".join(page.text.split())  # the report wraps long lines

    def shown(text: str) -> bool:
        return " ".join(text.split()) in flat

    for c in failed:
        assert shown(c["title"])
        assert shown(c["message"].splitlines()[0])
        assert shown(c["hint"])
    assert "hint:" in page.text
    leaked = [line for line in _suite_lines(course, student) if line in page.text or line in page.dom]
    assert leaked == []
    assert "Traceback" not in page.text and "_reference" not in page.dom

