"""nbgrader preprocessors that keep one submission's forged or broken metadata from stopping a run.

nbgrader's own sanitizing aborts the whole ``nbgrader autograde`` run on some submissions:
``DeduplicateIds`` empties the metadata of a repeated grade id (``{}``), which
``CheckCellMetadata`` then rejects as an outdated schema (a ``SchemaTooOldError``, which
nbgrader treats as fatal for every student); other invalid metadata fails that student
without a grade. An honest copy-paste of a grade cell is enough.

``SanitizeSubmission`` runs first in the sanitize phase and removes the nbgrader metadata
of every cell nbgrader would choke on, the way the engine treats it anyway (see
:func:`autograder.engine.assignment.prepare`): a repeated grade id (the first copy is kept), an id
the source notebook does not have, an id of a source cell of another type (a code cell
carrying a task cell's metadata), metadata that does not validate. Each removal is a note
kept in the notebook's metadata (``nngrade_notes``), which ``GradeInSandbox`` adds to the
result. ``CheckCellMetadataSafely`` replaces ``CheckCellMetadata``: whatever still fails to
validate is treated the same way instead of raising.

Both validate with :class:`MetadataCheck`, nbgrader's own validator with its JSON schema checked
once per process (``jsonschema.validate``, which nbgrader calls for every cell, checks the schema
itself against the meta-schema on every call: about 90% of nbgrader's metadata validation).
The assignment is read once per ``nbgrader autograde`` run
(:func:`autograder.integrations.nbgrader_run.run_assignment`).
"""

from __future__ import annotations

import functools
import traceback
from typing import Any, TypeVar

from jsonschema import validators
from jsonschema.exceptions import best_match
from nbformat.notebooknode import NotebookNode
from nbgrader.nbgraderformat import MetadataValidator, SchemaTooNewError, SchemaTooOldError
from nbgrader.nbgraderformat.common import BaseMetadataValidator
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.codes import Note, NoteCode
from autograder.engine.assignment import nbgrader_meta
from autograder.integrations.nbgrader_run import run_assignment

NOTES_KEY = "nngrade_notes"
T = TypeVar("T")


class _SchemaCheckedOnce(BaseMetadataValidator):
    """nbgrader's schema-version and JSON-schema check of one cell, the schema itself checked once.

    The same checks and the same errors as ``BaseMetadataValidator.validate_cell`` (which calls
    ``jsonschema.validate``: a meta-schema check of nbgrader's fixed schema, then
    ``best_match`` of the cell's errors); only the meta-schema check is done once, here.
    """

    def __init__(self) -> None:
        super().__init__()
        cls = validators.validator_for(self.schema)
        cls.check_schema(self.schema)
        self._checker = cls(self.schema)

    def validate_cell(self, cell: NotebookNode) -> None:
        if "nbgrader" not in cell.metadata:
            return
        version = cell.metadata["nbgrader"].get("schema_version", 0)
        if version < self.schema_version:
            raise SchemaTooOldError(f"Outdated schema version: {version} (expected {self.schema_version})",
                                    version, self.schema_version)
        if version > self.schema_version:
            raise SchemaTooNewError(f"Schema version is too new: {version} (expected {self.schema_version})",
                                    version, self.schema_version)
        error = best_match(self._checker.iter_errors(cell.metadata["nbgrader"]))
        if error is not None:
            raise error


class MetadataCheck(MetadataValidator, _SchemaCheckedOnce):
    """nbgrader's current ``MetadataValidator`` (every check of its own ``validate_cell`` and
    ``validate_nb``), with :class:`_SchemaCheckedOnce` below it for the JSON-schema step."""


@functools.lru_cache(maxsize=1)
def metadata_check() -> MetadataCheck:
    """The process's one :class:`MetadataCheck` (it keeps no state between notebooks)."""
    return MetadataCheck()


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:120]}" if text else type(exc).__name__


def _strip(nb: NotebookNode, index: int, why: str, notes: list[Note]) -> None:
    cell = nb.cells[index]
    cell.metadata.pop("nbgrader", None)
    notes.append(Note(NoteCode.METADATA_REMOVED, f"cell {index}: {why}; its nbgrader metadata was removed and "
                      "it was graded as an ordinary cell"))


def _flagged(meta: dict[str, Any]) -> bool:
    return bool(meta.get("grade") or meta.get("solution") or meta.get("locked") or meta.get("task"))


def sanitize(nb: NotebookNode, source_types: dict[str, str] | None) -> list[Note]:
    """Remove nbgrader metadata nbgrader would fail on; the notes say what and why.

    Args:
        nb: the submission (changed in place).
        source_types: grade id -> cell type of the source notebook (None: not checked).
    """
    notes: list[Note] = []
    validator = metadata_check()
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        if "nbgrader" not in cell.get("metadata", {}):
            continue
        meta = cell.metadata.nbgrader
        if not isinstance(meta, dict):
            _strip(nb, index, "its nbgrader metadata is not a mapping", notes)
            continue
        gid = meta.get("grade_id")
        if _flagged(meta) and not isinstance(gid, str):
            _strip(nb, index, "its nbgrader metadata has no grade id", notes)
            continue
        if isinstance(gid, str) and _flagged(meta):
            if gid in seen:
                _strip(nb, index, f"it repeats the grade id {gid!r} of an earlier cell", notes)
                continue
            if source_types is not None and gid not in source_types:
                _strip(nb, index, f"its grade id {gid!r} is not in the assignment", notes)
                continue
            if source_types is not None and source_types[gid] != cell.get("cell_type"):
                _strip(nb, index, f"it carries the grade id {gid!r} of a {source_types[gid]} cell", notes)
                continue
        try:
            validator.validate_cell(cell)
        except Exception as exc:  # invalid, or a schema too old or too new: all fatal in nbgrader
            _strip(nb, index, f"invalid nbgrader metadata ({_one_line(exc)})", notes)
            continue
        if isinstance(gid, str) and _flagged(meta):
            seen.add(gid)
    return notes


def _source_types(pre: Any, resources: dict[str, Any]) -> dict[str, str] | None:
    try:
        assignment = run_assignment(pre, resources["nbgrader"]["assignment"])
    except Exception:
        return None
    return {str(nbgrader_meta(c)["grade_id"]): str(c.get("cell_type")) for c in assignment.source_nb.cells
            if isinstance(nbgrader_meta(c).get("grade_id"), str)}


class SanitizeSubmission(NbGraderPreprocessor):
    """First sanitizing step of autograde: metadata that would stop nbgrader is removed and noted."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        notes = sanitize(nb, _source_types(self, resources))
        # always ours: whatever the submission put there is replaced
        nb.metadata[NOTES_KEY] = [n.to_dict() for n in notes]
        for note in notes:
            self.log.warning("nngrade: %s", note)
        return nb, resources


class CheckCellMetadataSafely(NbGraderPreprocessor):
    """``CheckCellMetadata`` that never stops a run: cells that fail validation lose their metadata."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        try:
            metadata_check().validate_nb(nb)
            return nb, resources
        except Exception:
            self.log.warning("nngrade: nbgrader metadata failed to validate:\n%s", traceback.format_exc(limit=2))
        notes = sanitize(nb, None)
        try:
            metadata_check().validate_nb(nb)
        except Exception as exc:  # still invalid: this notebook fails alone, nbgrader goes on with the others
            raise ValueError(f"nbgrader metadata still invalid after sanitizing ({_one_line(exc)})") from None
        add_notes(nb, notes)
        return nb, resources


def add_notes(nb: NotebookNode, notes: list[Note]) -> None:
    """Leave ``notes`` in ``nb``'s metadata for the engine (after any a preprocessor left before)."""
    existing = nb.metadata.get(NOTES_KEY)
    nb.metadata[NOTES_KEY] = (list(existing) if isinstance(existing, list) else []) + [n.to_dict() for n in notes]


def take_notes(nb: NotebookNode) -> tuple[Note, ...]:
    """The sanitizing notes left in ``nb`` (and removed from it)."""
    notes = nb.metadata.pop(NOTES_KEY, [])
    return tuple(Note.from_data(n) for n in notes) if isinstance(notes, list) else ()
