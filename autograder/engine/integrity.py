"""The hidden suites, read into the grader and pinned by digest before any student code runs.

A :class:`SuiteSnapshot` holds the bytes of every file of an assignment's suite folder (and the
shared files beside it), read once, with their SHA-256. The grader runs the suites from that
snapshot: test modules are built from the snapshot's code (a pytest ``Module`` whose object
comes from here, not from the disk), helper modules are imported from it into ``sys.modules``
before the first student process starts, and ``student_helpers.py`` is sent from it. So
nothing written to the disk while a submission runs can change what grades it.

``nngrade validate`` records each assignment's digest in ``autograder/suites/digests.json``
once the suite has proved itself; a grading whose snapshot does not match the recorded digest
refuses to grade with one line (:class:`SuitesChanged`), before any student code runs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

from autograder.errors import NNGradeError

SUITES_DIR = Path(__file__).parent.parent / "suites"
LOCK_FILE = SUITES_DIR / "digests.json"
SHARED = ("__init__.py", "pytest.ini")  # files of suites/ itself that every suite relies on
STUDENT_SIDE = ("student_helpers", "known_wrong")  # suite modules the grader never imports while grading


class SuitesChanged(NNGradeError):
    """The suites on disk are not the ones ``nngrade validate`` proved; grading is refused."""


@dataclass
class SuiteSnapshot:
    """The bytes of one assignment's suite, read once."""

    assignment_id: str
    folder: Path
    files: dict[str, bytes]  # path relative to suites/ -> content
    digest: str
    _modules: dict[str, types.ModuleType] = field(default_factory=dict, repr=False)

    @classmethod
    def read(cls, assignment_id: str, suites_dir: Path = SUITES_DIR) -> SuiteSnapshot:
        folder = suites_dir / assignment_id
        files: dict[str, bytes] = {}
        for name in SHARED:
            if (suites_dir / name).is_file():
                files[name] = (suites_dir / name).read_bytes()
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                files[path.relative_to(suites_dir).as_posix()] = path.read_bytes()
        return cls(assignment_id, folder, files, digest_of(files))

    def text(self, name: str) -> str | None:
        """A file of this assignment's folder, as read (``None`` when absent)."""
        data = self.files.get(f"{self.assignment_id}/{name}")
        return data.decode() if data is not None else None

    def check_disk(self) -> None:
        """Raise :class:`SuitesChanged` when the folder on disk no longer holds these bytes."""
        if SuiteSnapshot.read(self.assignment_id, self.folder.parent).digest != self.digest:
            raise SuitesChanged(f"the hidden suite of {self.assignment_id} changed on disk while grading; "
                                "nothing was graded from it")

    def _rel(self, path: Path) -> str:
        return path.resolve().relative_to(self.folder.parent.resolve()).as_posix()

    def source(self, path: Path) -> str | None:
        """The text of suite file ``path`` as read (``None`` when it is not part of the snapshot)."""
        try:
            data = self.files.get(self._rel(path))
        except ValueError:  # not under the suites folder
            return None
        return data.decode() if data is not None else None

    def module(self, path: Path) -> types.ModuleType:
        """The module of suite file ``path``, built from the snapshot (once per snapshot)."""
        rel = self._rel(path)
        if rel not in self._modules:
            if rel not in self.files:
                raise SuitesChanged(f"{rel} is not part of the suite that was read")
            name = "nngrade_suite_" + self.digest[:12] + "." + rel[:-3].replace("/", ".")
            module = types.ModuleType(name)
            module.__file__ = str(path)
            sys.modules[name] = module
            exec(compile(self.files[rel], str(path), "exec"), module.__dict__)
            self._modules[rel] = module
        return self._modules[rel]

    def import_helpers(self) -> None:
        """Import the suite's non-test modules (``_reference.py`` and the like) from the snapshot.

        The suites import them by package name (``autograder.suites.<id>._reference``); once they
        are in ``sys.modules``, nothing is read from the disk for them again.
        """
        package = f"autograder.suites.{self.assignment_id}"
        init = f"{self.assignment_id}/__init__.py"
        if init not in self.files:
            return
        for rel in sorted(self.files):
            if not rel.startswith(self.assignment_id + "/") or not rel.endswith(".py"):
                continue
            stem = rel[len(self.assignment_id) + 1:-3]
            if stem.startswith("test_") or stem in STUDENT_SIDE or "/" in stem:
                continue
            name = package if stem == "__init__" else f"{package}.{stem}"
            loaded = sys.modules.get(name)
            if loaded is not None and getattr(loaded, "__nngrade_digest__", None) == self.digest:
                continue
            spec = importlib.util.spec_from_loader(name, loader=None, is_package=stem == "__init__")
            assert spec is not None
            module = importlib.util.module_from_spec(spec)
            module.__file__ = str(self.folder.parent / rel)
            if stem == "__init__":
                module.__path__ = [str(self.folder)]
            module.__nngrade_digest__ = self.digest  # type: ignore[attr-defined]
            sys.modules[name] = module
            exec(compile(self.files[rel], module.__file__, "exec"), module.__dict__)


def digest_of(files: dict[str, bytes]) -> str:
    """SHA-256 over names and contents, in name order."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def recorded_digests(lock: Path = LOCK_FILE) -> dict[str, str]:
    """The digests ``nngrade validate`` recorded (empty when none were)."""
    try:
        data = json.loads(lock.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def record_digest(snapshot: SuiteSnapshot, lock: Path = LOCK_FILE) -> None:
    """Record ``snapshot``'s digest as the proved one for its assignment."""
    data = recorded_digests(lock)
    data[snapshot.assignment_id] = snapshot.digest
    lock.write_text(json.dumps(dict(sorted(data.items())), indent=2) + "\n")


def verify(snapshot: SuiteSnapshot, lock: Path = LOCK_FILE) -> None:
    """Raise :class:`SuitesChanged` unless ``snapshot`` is the suite ``nngrade validate`` proved."""
    expected = recorded_digests(lock).get(snapshot.assignment_id)
    if expected is None:
        raise SuitesChanged(f"the hidden suite of {snapshot.assignment_id} has no recorded digest: "
                            f"run `nngrade validate {snapshot.assignment_id}` first")
    if expected != snapshot.digest:
        raise SuitesChanged(f"the hidden suite of {snapshot.assignment_id} is not the one `nngrade validate` "
                            f"proved (digest {snapshot.digest[:12]}, recorded {expected[:12]}): run "
                            f"`nngrade validate {snapshot.assignment_id}` after changing a suite")
