"""Assignments and submissions as the engine reads them.

The source notebook is the authority: which cells are graded, for how many
points, by which hidden-suite part, and the text of every locked cell. A
submission contributes only the code of its editable cells.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode

from autograder.codes import Note, NoteCode
from autograder.config import PRELOADS
from autograder.engine.integrity import STUDENT_SIDE, SUITES_DIR, SuiteSnapshot
from autograder.errors import NNGradeError

DIRECTIVE = re.compile(r"^\s*#\s*nngrade:\s*part\s+([A-Za-z_][A-Za-z0-9_]*)\s*$", re.MULTILINE)
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.DOTALL)
MAX_NOTEBOOK_BYTES = 64 * 2**20  # a larger submission is refused unread, as malformed


class SubmissionError(NNGradeError):
    """The submitted file is not a notebook we can grade."""


def find_course_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` holding ``nbgrader_config.py`` and ``source/``."""
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / "nbgrader_config.py").exists() and (folder / "source").is_dir():
            return folder
    raise NNGradeError(f"no course here: no nbgrader_config.py with a source/ folder at or above {here}")


def nbgrader_meta(cell: NotebookNode) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def is_test_cell(cell: NotebookNode) -> bool:
    m = nbgrader_meta(cell)
    return cell.get("cell_type") == "code" and bool(m.get("grade")) and not m.get("solution")


def part_of(source: str) -> str | None:
    """The hidden-suite part a test cell's directive names, or None."""
    for region in HIDDEN.findall(source):
        match = DIRECTIVE.search(region)
        if match:
            return match.group(1)
    return None

_IMPORT = re.compile(r"^\s*(?:import|from)\s+([A-Za-z_][\w.]*)", re.MULTILINE)  # the module's dotted name


@dataclass(frozen=True)
class Part:
    """One graded test cell and the hidden-suite file behind it."""

    name: str
    grade_id: str
    points: float
    suite_file: Path


@dataclass(frozen=True)
class Assignment:
    """An assignment of the course: its source notebook and hidden suite."""

    id: str
    course_root: Path
    source_nb: NotebookNode
    parts: tuple[Part, ...]
    suite: SuiteSnapshot

    @property
    def suite_dir(self) -> Path:
        return SUITES_DIR / self.id

    @property
    def notebook_name(self) -> str:
        return f"{self.id}.ipynb"

    def helpers_source(self) -> str | None:
        return self.suite.text("student_helpers.py")

    def preload(self) -> tuple[str, ...]:
        """Modules worth importing in the zygote: those of the course's libraries its notebook imports.

        Read from the source notebook's code cells and the suite's ``student_helpers.py`` (a
        submission importing something else pays for it itself). NumPy is always there.
        """
        sources = [str(c.source) for c in self.source_nb.cells if c.get("cell_type") == "code"]
        sources.append(self.helpers_source() or "")
        roots = {"numpy"}
        for src in sources:
            roots.update(m.group(1).split(".")[0] for m in _IMPORT.finditer(src))
        return tuple(sorted(m for root in roots for m in PRELOADS.get(root, ())))

    def load_suites(self) -> None:
        """Import the suite's helpers and the course's libraries its grader side imports anywhere
        (also inside a function, as a5 imports scikit-learn) now, so that the first submission a
        grading process grades does not pay for them. The test modules themselves are built by
        the pytest session that runs them (their marks need its configuration); that is cheap."""
        self.suite.import_helpers()
        modules: set[str] = set()
        for rel, data in self.suite.files.items():  # the grader's side: not what runs in the student
            if rel.startswith(f"{self.id}/") and rel.endswith(".py") and Path(rel).stem not in STUDENT_SIDE:
                modules.update(m.group(1) for m in _IMPORT.finditer(data.decode(errors="replace")))
        for name in sorted(modules):
            if name.split(".")[0] in PRELOADS:
                importlib.import_module(name)

    def part(self, name: str) -> Part:
        for p in self.parts:
            if p.name == name:
                return p
        raise NNGradeError(f"{self.id} has no part {name!r}")

    def locked_sources(self) -> dict[str, NotebookNode]:
        """grade_id -> source-notebook cell, for every locked or test cell."""
        out = {}
        for cell in self.source_nb.cells:
            m = nbgrader_meta(cell)
            if m.get("grade_id") and (m.get("locked") or is_test_cell(cell)) and not m.get("solution"):
                out[m["grade_id"]] = cell
        return out

    @classmethod
    def load(cls, course_root: Path, assignment_id: str) -> Assignment:
        path = course_root / "source" / assignment_id / f"{assignment_id}.ipynb"
        if not path.exists():
            known = sorted(p.name for p in (course_root / "source").iterdir() if p.is_dir())
            raise NNGradeError(f"no assignment {assignment_id!r} (known: {', '.join(known)})")
        nb = nbformat.read(str(path), as_version=4)
        parts = []
        for cell in nb.cells:
            if not is_test_cell(cell):
                continue
            m = nbgrader_meta(cell)
            name = part_of(cell.source)
            if name is None:
                continue
            suite = SUITES_DIR / assignment_id / f"test_{name}.py"
            if not suite.exists():
                raise NNGradeError(f"{assignment_id}: cell {m.get('grade_id')} names part {name!r}, "
                                   f"but {suite} does not exist")
            parts.append(Part(name, str(m["grade_id"]), float(m.get("points", 0)), suite))
        if not parts:
            raise NNGradeError(f"{assignment_id}: the source notebook has no `# nngrade: part` directives")
        return cls(assignment_id, course_root, nb, tuple(parts), SuiteSnapshot.read(assignment_id, SUITES_DIR))


def read_notebook(path: Path) -> NotebookNode:
    """Read a submission; a clear SubmissionError when it is not a notebook (never anything else)."""
    name = Path(path).name
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_NOTEBOOK_BYTES + 1)
    except OSError as exc:
        raise SubmissionError(f"cannot read {name}: {exc.strerror or type(exc).__name__}") from None
    return parse_notebook(decode_notebook(raw, name), name)


def decode_notebook(raw: bytes, name: str = "notebook") -> str:
    """A notebook file's text: UTF-8 and at most ``MAX_NOTEBOOK_BYTES``, else a SubmissionError."""
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{name} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB; "
                              "clear its outputs and submit it again")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SubmissionError(f"{name} is not a text notebook (not UTF-8 at byte {exc.start})") from None


def parse_notebook(text: str, name: str = "notebook") -> NotebookNode:
    """A submission's notebook from its text; SubmissionError (one line) for anything malformed.

    Malformed means: too large, not JSON (including JSON nested too deeply to read), not a
    notebook (no list of cells), or cells of the wrong shape or type.
    """
    if len(text) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(f"{name} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MiB; "
                              "clear its outputs and submit it again")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SubmissionError(f"{name} is not valid notebook JSON (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise SubmissionError(f"{name} is not a notebook (its JSON is nested too deeply to read)") from None
    except (ValueError, MemoryError) as exc:
        raise SubmissionError(f"{name} is not valid notebook JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise SubmissionError(f"{name} is not a notebook (no list of cells)")
    for i, cell in enumerate(data["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise SubmissionError(f"{name}: cell {i} is malformed")
        src = cell.get("source", "")
        if isinstance(src, list) and all(isinstance(x, str) for x in src):
            cell["source"] = "".join(src)
        elif not isinstance(src, str):
            raise SubmissionError(f"{name}: cell {i} has no text source")
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = {}  # a list or null here would break every reader
        nbg = cell["metadata"].get("nbgrader")
        if nbg is not None and not isinstance(nbg, dict):
            cell["metadata"]["nbgrader"] = {}
        if cell["cell_type"] == "code" and not isinstance(cell.get("outputs", []), list):
            cell["outputs"] = []
    if not isinstance(data.get("metadata"), dict):
        data["metadata"] = {}
    try:
        nb = nbformat.from_dict(data)
        if nb.get("nbformat", 4) != 4:
            nb = nbformat.convert(nb, 4)
    except Exception as exc:
        raise SubmissionError(f"{name} is not a readable notebook ({type(exc).__name__})") from None
    if not isinstance(nb.get("cells"), list) or not all(isinstance(c, dict) and isinstance(c.get("source"), str)
                                                         for c in nb.cells):
        raise SubmissionError(f"{name} is not a readable notebook (its cells changed shape on conversion)")
    return nb


def _visible(source: str) -> str:
    """A test cell's text without its hidden region, whitespace evened out (release and source agree)."""
    return " ".join(HIDDEN.sub("", source).split())


@dataclass(frozen=True)
class Prepared:
    """What runs, and what is graded, for one submission."""

    cells: list[tuple[int, str]]  # (index in the submission, source) of the code cells to run
    solution_sources: list[str]
    notes: tuple[Note, ...]
    grade_ids: frozenset[str]  # nbgrader ids present in the submission


def prepare(nb: NotebookNode, assignment: Assignment) -> Prepared:
    """Pick the cells to run: locked cells come from the source notebook, test cells never run."""
    locked = assignment.locked_sources()
    seen: set[str] = set()
    notes: list[Note] = []
    cells: list[tuple[int, str]] = []
    solutions: list[str] = []
    for index, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code":
            continue
        m = nbgrader_meta(cell)
        gid = m.get("grade_id")
        source_cell = locked.get(gid) if isinstance(gid, str) else None
        if source_cell is not None and source_cell.get("cell_type") != "code":
            # e.g. a code cell carrying a copy of a markdown task cell's metadata
            notes.append(Note(NoteCode.WRONG_CELL_TYPE, f"cell {index} carries the nbgrader id {gid!r} of a "
                              f"{source_cell.get('cell_type')} cell; its nbgrader metadata was ignored"))
            cells.append((index, cell.source))
            continue
        if isinstance(gid, str) and gid in seen and (source_cell is not None or m.get("solution")):
            notes.append(Note(NoteCode.DUPLICATE_ID,
                              f"cell {index} repeats the id {gid!r}; only the first copy is used"))
            continue
        if isinstance(gid, str):
            seen.add(gid)
        if source_cell is not None:
            if is_test_cell(source_cell):  # graded by its hidden suite, never run
                if _visible(cell.source) != _visible(source_cell.source):
                    notes.append(Note(NoteCode.GRADED_CELL_RESTORED,
                                      f"the graded cell {gid!r} was edited; the original was restored and graded"))
                continue
            if cell.source != source_cell.source:
                notes.append(Note(NoteCode.LOCKED_CELL_EDITED, f"locked cell {gid!r} was edited; the original was run"))
            cells.append((index, source_cell.source))
            continue
        if is_test_cell(cell):
            continue
        cells.append((index, cell.source))
        if m.get("solution"):
            solutions.append(cell.source)
    missing = sorted(set(locked) - seen - {g for g, c in locked.items() if is_test_cell(c)})
    for gid in missing:
        notes.append(Note(NoteCode.LOCKED_CELL_MISSING, f"locked cell {gid!r} is missing from the submission"))
    present = frozenset(str(nbgrader_meta(c).get("grade_id")) for c in nb.cells if nbgrader_meta(c).get("grade_id"))
    return Prepared(cells, solutions, tuple(notes), present)
