"""``nngrade validate``: prove that a course grades the way it claims."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode
from rich.console import Console

from autograder.authoring.known_wrong import Mutant, load_mutants
from autograder.config import load_config
from autograder.engine.assignment import Assignment
from autograder.engine.grade import grade_notebook
from autograder.engine.integrity import LOCK_FILE, record_digest
from autograder.engine.results import SubmissionResult
from autograder.integrations.generate import assignment_ids, generate_into
from autograder.reports.progress import progress_steps


@dataclass(frozen=True)
class Finding:
    """One validation outcome."""

    assignment: str
    what: str
    ok: bool
    detail: str = ""


def _same_notebook(a: Path, b: Path) -> bool:
    if not a.exists() or not b.exists():
        return False
    return bool(json.loads(a.read_text()) == json.loads(b.read_text()))


def check_generated(root: Path, aid: str) -> list[Finding]:
    """release/ and solutions/ match a fresh generation from source/."""
    with tempfile.TemporaryDirectory(prefix="nngrade-validate-") as tmp:
        release, key = generate_into(root, aid, Path(tmp))
        out = []
        for label, fresh in (("release", release), ("solutions", key)):
            committed = root / label / aid / f"{aid}.ipynb"
            same = _same_notebook(fresh, committed)
            out.append(Finding(aid, f"{label}/{aid} is current", same,
                               "" if same else f"run `nngrade generate {aid}` and commit the result"))
        return out


def check_labels(root: Path, aid: str) -> list[Finding]:
    """The source notebook's headings show the points its grade cells are worth."""
    from autograder.engine.points import stale_labels

    nb = nbformat.read(str(root / "source" / aid / f"{aid}.ipynb"), as_version=4)
    stale = stale_labels(nb)
    return [Finding(aid, "task headings show their points", not stale,
                    "" if not stale else f"should read {stale[0]!r}: run `nngrade generate {aid}`")]


def check_points(aid: str, result: SubmissionResult) -> list[Finding]:
    """Each part's checks add up to its cell's points, and every check has a hint."""
    out = []
    for part in result.parts:
        total = sum(c.max_points for c in part.checks)
        ok = abs(total - part.max_score) < 1e-9
        out.append(Finding(aid, f"part {part.part}: checks add up to the cell's {part.max_score:g} points", ok,
                           "" if ok else f"the @points of autograder/suites/{aid}/test_{part.part}.py add up "
                           f"to {total:g}: make the cell's points and theirs agree"))
    return out


def validate_assignment(root: Path, aid: str, device: str | None = None, isolation: str | None = None,
                        on_step: object = None) -> list[Finding]:
    """Every finding for one assignment."""
    config = load_config(root, device=device, isolation=isolation)
    asg = Assignment.load(root, aid)
    findings = check_labels(root, aid) + check_generated(root, aid)
    key_nb = nbformat.read(str(root / "solutions" / aid / f"{aid}.ipynb"), as_version=4)
    release_nb = nbformat.read(str(root / "release" / aid / f"{aid}.ipynb"), as_version=4)
    mutants = load_mutants(aid)
    steps: list[tuple[str, NotebookNode, Mutant | None]] = [("answer key", key_nb, None),
                                                          ("untouched release", release_nb, None)]
    steps += [(f"known-wrong {m.name}", m.apply(key_nb), m) for m in mutants]
    for label, nb, mutant in progress_steps(steps, f"validate {aid}", on_step):
        result = grade_notebook(nb, asg, config, student_id=label, proving=True).result
        if mutant is None and label == "answer key":
            ok = result.score == result.max_score
            failed = sorted(result.failed_checks())
            detail = "" if ok else ("failed: " + ", ".join(failed) if failed else
                                    "every check passed, but the checks are worth less than the cells' "
                                    "points: see the parts below")
            findings.append(Finding(aid, f"answer key gets full marks ({result.score:g}/{result.max_score:g})",
                                    ok, detail))
            findings += check_points(aid, result)
        elif mutant is None:
            ok = result.score == 0
            findings.append(Finding(aid, f"untouched release gets zero ({result.score:g})", ok,
                                    "" if ok else "passed: " + ", ".join(
                                        sorted({c.check_id for p in result.parts for c in p.checks if c.passed}))))
        else:
            failing = result.failed_checks()
            ok = failing == set(mutant.fails)
            extra, missing = sorted(failing - mutant.fails), sorted(mutant.fails - failing)
            detail = "; ".join(([f"also failed: {', '.join(extra)}"] if extra else [])
                               + ([f"did not fail: {', '.join(missing)}"] if missing else []))
            findings.append(Finding(aid, f"{label} fails exactly its {len(mutant.fails)} named checks "
                                         f"({result.score:g}/{result.max_score:g})", ok, detail))
    if len(mutants) == 0:
        findings.append(Finding(aid, f"has a known-wrong table (autograder/suites/{aid}/known_wrong.py)",
                                False, "none found"))
    if all(f.ok for f in findings):
        record_digest(asg.suite)
        findings.append(Finding(aid, f"suite digest {asg.suite.digest[:12]} recorded in "
                                     f"{LOCK_FILE.relative_to(LOCK_FILE.parents[2])}", True))
    return findings


def validate_course(root: Path, ids: list[str], device: str | None = None, isolation: str | None = None,
                    quiet: bool = False) -> bool:
    """Validate assignments (default: all), print a report; True when everything holds."""
    console = Console(quiet=False)
    all_ok = True
    for aid in ids or assignment_ids(root):
        findings = validate_assignment(root, aid, device, isolation, on_step=None if not quiet else False)
        for f in findings:
            mark = "[green]ok  [/]" if f.ok else "[red]FAIL[/]"
            console.print(f"{mark} {aid}: {f.what}" + (f"\n       {f.detail}" if f.detail else ""),
                          highlight=False)
        all_ok &= all(f.ok for f in findings)
    console.print("[green]course valid[/]" if all_ok else "[red]course NOT valid[/]")
    return all_ok
