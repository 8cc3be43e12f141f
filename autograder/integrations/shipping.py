"""An assignment sent by value to a grading process on another machine (a Dask worker).

The worker needs no course folder and no shared path: it receives the source notebook's text,
the parts (grade id, points, suite file) and the bytes of the hidden suite with their digest,
as :class:`ShippedAssignment`. Before anything is graded the worker checks that the bytes are
the ones the digest names and that it runs the same engine as the sender; the sender checked
that digest against the one ``nngrade validate`` recorded (``batch.prepare_class``). Nothing the
worker has on its own disk (its copy of the suites, ``digests.json``) is read for grading.

The suite is written to a private folder on the worker only so that pytest can collect its
files by path; the test and helper modules themselves are built from the shipped bytes.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.engine.assignment import Assignment, Part
from autograder.engine.integrity import SuitesChanged, SuiteSnapshot, digest_of
from autograder.errors import NNGradeError


@dataclass(frozen=True)
class ShippedAssignment:
    """Everything a remote grading process needs to grade one assignment, by value.

    Attributes:
        id: the assignment id.
        source: the source notebook's text (the authority for parts, points and locked cells).
        parts: (name, grade id, points) per part, in the source notebook's order.
        suite_files: the suite's files, path relative to ``suites/`` -> bytes.
        suite_digest: :func:`autograder.engine.integrity.digest_of` of ``suite_files``, checked by the sender.
        engine: the sender's engine digest (:func:`autograder.engine.cache.engine_digest`).
    """

    id: str
    source: str
    parts: tuple[tuple[str, str, float], ...]
    suite_files: tuple[tuple[str, bytes], ...]
    suite_digest: str
    engine: str

    @classmethod
    def of(cls, assignment: Assignment) -> ShippedAssignment:
        """The value to send for ``assignment`` (its suites as read into the sender, not re-read)."""
        from autograder.engine.cache import engine_digest

        snap = assignment.suite
        return cls(assignment.id, nbformat.writes(assignment.source_nb),
                   tuple((p.name, p.grade_id, p.points) for p in assignment.parts),
                   tuple(sorted(snap.files.items())), snap.digest, engine_digest())

    def check(self) -> None:
        """Raise :class:`NNGradeError` unless these bytes are the sent digest and the engine is ours."""
        from autograder.engine.cache import engine_digest

        if digest_of(dict(self.suite_files)) != self.suite_digest:
            raise SuitesChanged(f"the suite of {self.id} arrived damaged (its digest does not match)")
        if engine_digest() != self.engine:
            raise NNGradeError(f"this grading process runs a different nngrade engine than the sender "
                               f"({engine_digest()[:12]} here, {self.engine[:12]} there): install the same "
                               "version on every worker")

    def materialize(self) -> Assignment:
        """The :class:`Assignment` to grade with here (built once per process and digest)."""
        return _materialize(self)


@functools.lru_cache(maxsize=16)
def _materialize(shipped: ShippedAssignment) -> Assignment:
    shipped.check()
    root = shipped_root()  # one folder per process: one zygote hides it for every shipped assignment
    suites = root / shipped.suite_digest[:16] / "suites"
    for rel, data in shipped.suite_files:
        path = suites / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    folder = suites / shipped.id
    snapshot = SuiteSnapshot(shipped.id, folder, dict(shipped.suite_files), shipped.suite_digest)
    parts = tuple(Part(name, gid, points, folder / f"test_{name}.py") for name, gid, points in shipped.parts)
    return Assignment(shipped.id, root, nbformat.reads(shipped.source, as_version=4), parts, snapshot)


@functools.lru_cache(maxsize=1)
def shipped_root() -> Path:
    """This process's private folder for shipped suites (hidden from students like a course folder;
    removed when the process exits)."""
    path = Path(tempfile.mkdtemp(prefix="nngrade-shipped-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path
