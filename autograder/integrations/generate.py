"""Release notebooks (real ``nbgrader generate_assignment``) and answer keys in submission form."""

from __future__ import annotations

import copy
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from autograder.engine.assignment import nbgrader_meta
from autograder.errors import NNGradeError

SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)


def nbgrader(args: list[str], cwd: Path, timeout: float = 900, check: bool = True
             ) -> subprocess.CompletedProcess[str]:
    """Run the real nbgrader CLI in ``cwd``; an NNGradeError with its last lines on failure.

    A configuration file that fails to load is an error too (nbgrader itself only logs it and
    would fall back to its defaults, which run student code unsandboxed).
    """
    env = dict(os.environ)  # nbgrader runs `alembic` by name: this interpreter's bin comes first
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=cwd, text=True, check=False,
                          capture_output=True, timeout=timeout, env=env)
    if "Exception while loading config file" in proc.stdout + proc.stderr:
        raise NNGradeError(f"nbgrader could not load {cwd / 'nbgrader_config.py'}:\n{proc.stderr[-1500:]}")
    if check and proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
        raise NNGradeError(f"nbgrader {' '.join(args)} failed in {cwd}:\n{tail}")
    return proc


def answer_key(release_nb: NotebookNode, source_nb: NotebookNode) -> NotebookNode:
    """The release notebook with every solution cell filled from the source (markers removed)."""
    by_id = {nbgrader_meta(c).get("grade_id"): c for c in source_nb.cells if nbgrader_meta(c).get("solution")}
    key = copy.deepcopy(release_nb)
    for cell in key.cells:
        m = nbgrader_meta(cell)
        if m.get("solution") and m.get("grade_id") in by_id:
            cell.source = SOLUTION_MARKERS.sub("", by_id[m["grade_id"]].source).strip("\n")
    return key


def generate_into(course_root: Path, assignment_id: str, out_root: Path) -> tuple[Path, Path]:
    """Generate ``release/<id>`` and ``solutions/<id>`` of a course under ``out_root``.

    nbgrader runs in a scratch copy of the course (so no gradebook is left in the course).
    """
    with tempfile.TemporaryDirectory(prefix="nngrade-gen-") as tmp:
        scratch = Path(tmp)
        shutil.copy(course_root / "nbgrader_config.py", scratch / "nbgrader_config.py")
        shutil.copytree(course_root / "source" / assignment_id, scratch / "source" / assignment_id,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        nbgrader(["generate_assignment", assignment_id, "--force", "--log-level=WARN"], scratch)
        released = scratch / "release" / assignment_id
        release_dir = out_root / "release" / assignment_id
        if release_dir.exists():
            shutil.rmtree(release_dir)
        shutil.copytree(released, release_dir)
    name = f"{assignment_id}.ipynb"
    source_nb = nbformat.read(str(course_root / "source" / assignment_id / name), as_version=4)
    release_nb = nbformat.read(str(release_dir / name), as_version=4)
    solution_dir = out_root / "solutions" / assignment_id
    solution_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(answer_key(release_nb, source_nb), str(solution_dir / name))
    return release_dir / name, solution_dir / name


def assignment_ids(course_root: Path) -> list[str]:
    """Every assignment with a source notebook."""
    source = course_root / "source"
    if not source.is_dir():
        raise NNGradeError(f"{course_root} has no source/ folder")
    return sorted(p.name for p in source.iterdir() if (p / f"{p.name}.ipynb").exists())


def make_course(repo_root: Path, target: Path, ids: list[str]) -> None:
    """A fresh course folder: config, pyproject (grader settings) and the chosen sources."""
    target.mkdir(parents=True, exist_ok=True)
    for name in ("nbgrader_config.py", "pyproject.toml"):
        shutil.copy(repo_root / name, target / name)
    for aid in ids:
        dest = target / "source" / aid
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(repo_root / "source" / aid, dest,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))


def submit(course: Path, student: str, aid: str, text: str) -> None:
    """Place a submission where ``nbgrader autograde`` looks for it."""
    folder = course / "submitted" / student / aid
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{aid}.ipynb").write_text(text)
