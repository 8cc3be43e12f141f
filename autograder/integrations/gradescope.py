"""``nngrade gradescope``: a Gradescope autograder zip that grades with the same hidden suite.

The zip is a small course folder plus Gradescope's two scripts::

    setup.sh             builds the image: a venv, the CPU torch wheel, then the course package
    run_autograder       per submission: finds the notebook, runs `nngrade grade ... --json`
    requirements.txt     the course package's dependencies (from pyproject.toml)
    pyproject.toml       the course's (grader settings in [tool.nngrade])
    nbgrader_config.py   the course's
    source/<id>/         the assignment's source notebook: which cells are graded, for how many points
    autograder/          the course package, with only this assignment's hidden suite

Gradescope unpacks it into ``/autograder/source``, copies ``run_autograder`` to
``/autograder/run_autograder``, puts the student's files in ``/autograder/submission``
and reads ``/autograder/results/results.json``. The environment variable
``NNGRADE_GS_ROOT`` replaces ``/autograder`` (the tests use a temporary folder).
"""

from __future__ import annotations

import re
import stat
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from autograder.engine.assignment import SUITES_DIR, Assignment
from autograder.errors import NNGradeError

ROOT_ENV = "NNGRADE_GS_ROOT"
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PACKAGE_DIR = SUITES_DIR.parent
_SKIP = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".mypy_cache"}
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed timestamps: the same course gives the same zip, byte for byte

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# pip needs the network here: Gradescope's image build has it (grading runs do not need it).
set -euo pipefail
ROOT="${NNGRADE_GS_ROOT:-/autograder}"
SOURCE="$ROOT/source"
VENV="$ROOT/nngrade-venv"

# bubblewrap is the strongest sandbox for student code; the grader falls back when the
# container forbids it (it says so in the log)
apt-get update -qq || true
apt-get install -y -qq python3 python3-venv python3-pip bubblewrap >/dev/null || true
PY=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
  apt-get install -y -qq python3.11 python3.11-venv >/dev/null
  PY=python3.11
fi
"$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
# the CPU build of torch first: a bare `torch` requirement would pull a multi-GB CUDA build
"$VENV/bin/pip" install -q --index-url __TORCH_INDEX__ "__TORCH__"
"$VENV/bin/pip" install -q -r "$SOURCE/requirements.txt"
"$VENV/bin/pip" install -q --no-deps "$SOURCE"
"$VENV/bin/nngrade" --version
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission: grade the submitted notebook of __ID__ with the
# course's hidden suite and write results/results.json. It never fails: a submission that
# cannot be graded gets score 0 and a message that says why.
set -uo pipefail
ASSIGNMENT="__ID__"
ROOT="${NNGRADE_GS_ROOT:-/autograder}"
SOURCE="$ROOT/source"
SUBMISSION="$ROOT/submission"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
if [ -x "$ROOT/nngrade-venv/bin/python" ]; then
  export PATH="$ROOT/nngrade-venv/bin:$PATH"
fi
# the package in this zip, whatever else is installed
export PYTHONPATH="$SOURCE${PYTHONPATH:+:$PYTHONPATH}"

give_zero() {  # results.json with score 0 and a message for the student (standard library only)
  echo "$1"
  python3 - "$RESULTS" "$1" <<'EOF'
import json, sys
with open(sys.argv[1], "w") as f:
    json.dump({"score": 0.0, "output": sys.argv[2], "tests": [], "visibility": "visible"}, f, indent=2)
EOF
  exit 0
}

listing() {  # up to five names, comma-separated
  head -5 | paste -sd, - | sed 's/,/, /g'
}

notebook=""
if [ -f "$SUBMISSION/$ASSIGNMENT.ipynb" ]; then
  notebook="$SUBMISSION/$ASSIGNMENT.ipynb"
else
  mapfile -t found < <(find "$SUBMISSION" -type f -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' \
                         -not -path '*/__MACOSX/*' 2>/dev/null | sort)
  named=()
  for f in "${found[@]}"; do
    if [ "$(basename "$f")" = "$ASSIGNMENT.ipynb" ]; then named+=("$f"); fi
  done
  if [ "${#named[@]}" -eq 1 ]; then
    notebook="${named[0]}"
  elif [ "${#found[@]}" -eq 1 ]; then
    notebook="${found[0]}"
  elif [ "${#found[@]}" -eq 0 ]; then
    others=$(cd "$SUBMISSION" 2>/dev/null && find . -type f | sed 's|^\./||' | listing)
    give_zero "No notebook in your submission${others:+ (it holds: $others)}. \
Upload your $ASSIGNMENT.ipynb file itself (in Jupyter: File > Download), \
not a PDF, an HTML export or a zip without it."
  else
    names=$(for f in "${found[@]}"; do echo "${f#"$SUBMISSION"/}"; done | listing)
    give_zero "Your submission holds ${#found[@]} notebooks ($names) and none is named $ASSIGNMENT.ipynb. \
Upload only $ASSIGNMENT.ipynb."
  fi
fi

package=$(python3 -c 'import autograder, os; print(os.path.dirname(autograder.__file__))' 2>&1)
echo "grading $notebook with $package"
nngrade grade "$notebook" --assignment "$ASSIGNMENT" --course "$SOURCE" --json "$RESULTS"
status=$?
if [ "$status" -ne 0 ] || [ ! -s "$RESULTS" ]; then
  give_zero "The autograder could not grade this submission (an error in the grader, not a score). \
Your instructor has the log; resubmitting the same notebook will not change this."
fi
"""


def _torch_requirement(dependencies: list[str]) -> str:
    """The torch requirement for setup.sh: this machine's torch version, else pyproject's spec."""
    try:
        import torch

        version = re.match(r"\d+(\.\d+)*", torch.__version__)
        if version:
            return f"torch=={version.group(0)}"
    except ImportError:  # pragma: no cover
        pass
    return next((d for d in dependencies if re.match(r"torch\b", d)), "torch")


def requirements(course_root: Path) -> list[str]:
    """The course package's dependencies, as ``[project] dependencies`` in its pyproject.toml lists them.

    Args:
        course_root: the course folder.

    Returns:
        One requirement per entry, in the file's order.
    """
    path = course_root / "pyproject.toml"
    if not path.exists():
        raise NNGradeError(f"{course_root} has no pyproject.toml "
                           "(the course package's dependencies live there)")
    with open(path, "rb") as f:
        deps = tomllib.load(f).get("project", {}).get("dependencies", [])
    return [str(d) for d in deps]


def scripts(assignment_id: str, requirement_lines: list[str]) -> dict[str, str]:
    """Gradescope's scripts and requirements.txt for one assignment.

    Args:
        assignment_id: the assignment the zip grades.
        requirement_lines: the course package's dependencies.

    Returns:
        ``setup.sh``, ``run_autograder`` and ``requirements.txt``, by name.
    """
    setup = (SETUP_SH.replace("__TORCH_INDEX__", TORCH_CPU_INDEX)
             .replace("__TORCH__", _torch_requirement(requirement_lines)))
    reqs = ("# the course package's dependencies (pyproject.toml);\n"
            "# setup.sh installs the CPU torch wheel first\n"
            + "".join(f"{r}\n" for r in requirement_lines))
    return {"setup.sh": setup, "run_autograder": RUN_AUTOGRADER.replace("__ID__", assignment_id),
            "requirements.txt": reqs}


def _files(folder: Path, arc_prefix: str, keep: Callable[[Path], bool] | None = None) -> dict[str, Path]:
    """Every file under ``folder`` (cache folders skipped), by its name in the zip."""
    out = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(part in _SKIP for part in rel.parts) or not path.is_file() or path.suffix == ".pyc":
            continue
        if keep is not None and not keep(rel):
            continue
        out[f"{arc_prefix}/{rel.as_posix()}"] = path
    return out


def zip_members(course_root: Path, assignment_id: str) -> dict[str, Path | str]:
    """What goes into the zip: name in the zip -> a file to copy, or the text to write.

    Args:
        course_root: the course folder (``nbgrader_config.py``, ``pyproject.toml``, ``source/``).
        assignment_id: the assignment to grade.

    Returns:
        The members, by name; the package holds only this assignment's suite.
    """
    Assignment.load(course_root, assignment_id)  # a clear error for an unknown or broken assignment
    members: dict[str, Path | str] = dict(scripts(assignment_id, requirements(course_root)))
    for name in ("pyproject.toml", "nbgrader_config.py", "README.md"):
        if (course_root / name).exists():
            members[name] = course_root / name
    members.update(_files(course_root / "source" / assignment_id, f"source/{assignment_id}"))

    def package_file(rel: Path) -> bool:
        parts = rel.parts
        if parts[0] != "suites" or len(parts) == 2:  # the package, and suites/__init__.py, pytest.ini
            return True
        return parts[1] == assignment_id

    members.update(_files(PACKAGE_DIR, "autograder", package_file))
    return members


def build_zip(course_root: Path, assignment_id: str, out: Path) -> Path:
    """Write the Gradescope autograder zip of one assignment.

    Args:
        course_root: the course folder.
        assignment_id: the assignment to grade.
        out: the zip to write (its folder is created).

    Returns:
        ``out``. The same course gives the same bytes (fixed timestamps, sorted members).
    """
    members = zip_members(course_root, assignment_id)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(members):
            content = members[name]
            data = content.read_bytes() if isinstance(content, Path) else content.encode()
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            executable = name in ("setup.sh", "run_autograder")
            info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return out
