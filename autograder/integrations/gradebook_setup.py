"""What ``nbgrader autograde`` needs before it grades, set up from the course itself.

nbgrader grades a submission only when the gradebook (``gradebook.db``, git-ignored) holds
the assignment: its notebooks, grade cells, solution cells and the source of every locked
cell (``OverwriteCells`` restores them from there; ``SaveAutoGrades`` scores the grade cells
found there). ``nbgrader generate_assignment`` writes these rows, and a fresh clone has none.
:func:`pre_convert_hook` (wired in ``nbgrader_config.py`` as ``Autograde.pre_convert_hook``)
adds a missing assignment the way ``generate_assignment`` would, by running it with its
release written to a scratch folder, so the committed ``release/`` is never overwritten.

nbgrader saves a test cell's source before it clears the ``### BEGIN HIDDEN TESTS`` region
for the release (nbgrader issue 1961), so every untouched test cell of every submission
differs from the gradebook's copy and ``OverwriteCells`` warns "Attribute 'checksum' for
cell test_* has changed!". :class:`RestoreHiddenTests` runs just before ``OverwriteCells``
and puts the hidden region back into a test cell that is exactly its release form. A locked
or test cell the student edited is left for ``OverwriteCells`` to restore, and noted for the
student's result (the engine only ever sees the restored cell).
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nbformat.notebooknode import NotebookNode, from_dict
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor

from autograder.codes import Note, NoteCode
from autograder.errors import NNGradeError
from autograder.integrations.nbgrader_run import per_run
from autograder.integrations.nbgrader_sanitize import add_notes

log = logging.getLogger("nngrade")


def default_db_url(course_root: Path) -> str:
    """nbgrader's default gradebook of a course: ``gradebook.db`` in its root."""
    return f"sqlite:///{(course_root / 'gradebook.db').resolve()}"


def gradebook_has(db_url: str, course_id: str, assignment_id: str, notebooks: list[str]) -> bool:
    """Whether the gradebook holds the assignment and each of these notebooks (by file stem)."""
    with Gradebook(db_url, course_id) as gb:
        try:
            gb.find_assignment(assignment_id)
            for name in notebooks:
                gb.find_notebook(name, assignment_id)
        except MissingEntry:
            return False
    return True


def add_assignment(course_root: Path, assignment_id: str, db_url: str | None = None) -> None:
    """Write an assignment into the course's gradebook with ``nbgrader generate_assignment``.

    The release it makes goes to a scratch folder (the committed ``release/`` stays as it is).

    Raises:
        NNGradeError: nbgrader failed (its last lines are in the message).
    """
    from autograder.integrations.generate import nbgrader

    if not (course_root / "source" / assignment_id).is_dir():
        raise NNGradeError(f"no source/{assignment_id} in {course_root}")
    with tempfile.TemporaryDirectory(prefix="nngrade-gradebook-") as tmp:
        args = ["generate_assignment", assignment_id, "--force", "--log-level=WARN",
                f"--CourseDirectory.release_directory={tmp}"]
        if db_url:
            args.append(f"--CourseDirectory.db_url={db_url}")
        nbgrader(args, course_root)


def _assignment_of(assignment: str, notebooks: list[str]) -> str:
    """The assignment id of one submission (its notebooks are ``submitted/<s>/<id>/<nb>.ipynb``)."""
    if notebooks and (not assignment or "*" in assignment):
        assignment = Path(notebooks[0]).parent.name
    return assignment


def pre_convert_hook(course_root: Path, course_id: str, db_url: str | None = None
                     ) -> Callable[..., None]:
    """A ``BaseConverter.pre_convert_hook`` for ``Autograde``: add the assignment when it is missing.

    nbgrader calls it before each submission (and swallows its exceptions into its debug log),
    so it checks the gradebook until it has found the assignment there once, and logs failures
    itself.
    """
    url = db_url or default_db_url(course_root)
    known: set[str] = set()

    def hook(assignment: str = "", student: str = "", notebooks: list[str] | None = None, **_: Any) -> None:
        aid = _assignment_of(str(assignment or ""), list(notebooks or []))
        if not aid or not (course_root / "source" / aid).is_dir():
            return
        if aid in known:  # found once in this run: it stays (nothing in a run removes it)
            return
        source_stems = [p.stem for p in (course_root / "source" / aid).glob("*.ipynb")]
        if gradebook_has(url, course_id, aid, source_stems):
            known.add(aid)
            return
        log.warning("nngrade: %s is not in the gradebook yet; adding it from source/%s "
                    "(nbgrader generate_assignment, release written to a scratch folder)", aid, aid)
        try:
            add_assignment(course_root, aid, url)
        except NNGradeError as exc:
            log.error("nngrade: could not add %s to the gradebook: %s", aid, exc)

    return hook


def release_form(source: str) -> str:
    """A test cell's source as ``nbgrader generate_assignment`` releases it (hidden region cleared)."""
    cell = from_dict({"cell_type": "code", "source": source, "metadata": {"nbgrader": {"grade": True}},
                      "outputs": [], "execution_count": None})
    ClearHiddenTests().preprocess_cell(cell, {}, 0)
    return str(cell.source)


def source_cells(db_url: str, notebook: Any, assignment: Any) -> dict[str, str]:
    """grade id -> source of every source cell the gradebook holds for this notebook ({} when none).

    Raises:
        Exception: the gradebook could not be opened (nbgrader's own errors).
    """
    with Gradebook(db_url) as gb:
        try:
            cells = gb.find_notebook(str(notebook), str(assignment)).source_cells
        except MissingEntry:
            return {}
        return {str(c.name): c.source for c in cells if isinstance(c.source, str)}


class RestoreHiddenTests(NbGraderPreprocessor):
    """Give an untouched test cell back its hidden region before ``OverwriteCells`` checks it.

    Only a cell whose source is exactly the release form of the gradebook's cell is changed,
    so its checksum then matches and nbgrader has nothing to warn about; every other locked
    cell is left as submitted (``OverwriteCells`` restores it) and noted in the result.
    """

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        info = resources.get("nbgrader", {})
        try:  # autograde never changes source cells: read once per run (each cell once, in one query)
            key = ("source cells", info["db_url"], info.get("notebook"), info.get("assignment"))
            sources = per_run(self, key, lambda: source_cells(info["db_url"], info.get("notebook"),
                                                              info.get("assignment")))
        except Exception:
            return nb, resources
        notes: list[Note] = []
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            gid = meta.get("grade_id") if isinstance(meta, dict) else None
            if not isinstance(gid, str) or not meta.get("locked") or cell.get("cell_type") != "code":
                continue
            original = sources.get(gid)
            if original is None or original == cell.source:
                continue
            try:
                released = release_form(original) if "HIDDEN TESTS" in original else original
            except RuntimeError:
                released = original
            if cell.source == released:
                cell.source = original
            elif meta.get("grade"):
                notes.append(Note(NoteCode.GRADED_CELL_RESTORED,
                                  f"the graded cell {gid!r} was edited; the original was restored and graded"))
            else:
                notes.append(Note(NoteCode.LOCKED_CELL_EDITED,
                                  f"locked cell {gid!r} was edited; the original was run"))
        if notes:  # the engine adds them to the result (see nbgrader_sanitize.take_notes)
            add_notes(nb, notes)
        return nb, resources
