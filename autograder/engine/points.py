"""What each task is worth, shown in its heading, from the grade cells' own points.

The points of a task live in one place: the nbgrader metadata of its grade cells (test cells
and free responses), which nbgrader grades with. :func:`label_points` writes them into the
notebook's headings, so the student sees them: each grade cell counts for the nearest
heading above it (``## 3. Reading a pair of loss curves (24 points)``), and the title (the
first ``#`` heading) shows the total. ``nngrade generate`` labels the source notebook before
nbgrader releases it, and ``nngrade validate`` fails when a label no longer matches, so the
labels cannot drift from the grading.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

HEADING = re.compile(r"^(#{1,6})[ \t]+\S")
LABEL = re.compile(r"[ \t]*\((\d+(?:\.\d+)?) points?\)[ \t]*$")


def _points(cell: NotebookNode) -> float:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if not isinstance(meta, dict) or not (meta.get("grade") or meta.get("task")):
        return 0.0
    try:
        return float(meta.get("points", 0) or 0)
    except (TypeError, ValueError):
        return 0.0


def _level(cell: NotebookNode) -> int:
    """The heading level of a markdown cell's first line (0: not a heading, or an answer cell)."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if cell.get("cell_type") != "markdown" or not cell.source:
        return 0
    if isinstance(meta, dict) and (meta.get("grade") or meta.get("solution") or meta.get("task")):
        return 0  # a free response: its "### BEGIN SOLUTION" is nbgrader's marker, not a heading
    match = HEADING.match(cell.source.splitlines()[0])
    return len(match.group(1)) if match else 0


def worth(nb: NotebookNode) -> dict[int, float]:
    """Heading cell index -> the points it should show (only headings worth something)."""
    out: dict[int, float] = {}
    title: int | None = None
    current: int | None = None
    for index, cell in enumerate(nb.cells):
        level = _level(cell)
        if level == 1 and title is None:
            title = index
        elif level >= 2:
            current = index
        points = _points(cell)
        if points and current is not None and level == 0:
            out[current] = out.get(current, 0.0) + points
        if points and title is not None:
            out[title] = out.get(title, 0.0) + points
    return out


def _label(points: float) -> str:
    return f"({points:g} point{'' if points == 1 else 's'})"


def label_points(nb: NotebookNode) -> bool:
    """Write each heading's points into it (replacing an old label); True when anything changed."""
    wanted = worth(nb)
    changed = False
    for index, cell in enumerate(nb.cells):
        if not _level(cell):
            continue
        first, sep, rest = cell.source.partition("\n")
        bare = LABEL.sub("", first)
        new = f"{bare} {_label(wanted[index])}" if index in wanted else bare
        if new != first:
            cell.source = new + sep + rest
            changed = True
    return changed


def stale_labels(nb: NotebookNode) -> list[str]:
    """The headings whose label is missing or wrong (their text as it should read)."""
    copy = nbformat.from_dict(nb)
    label_points(copy)
    return [new.source.splitlines()[0] for old, new in zip(nb.cells, copy.cells) if old.source != new.source]


def label_file(path: Path) -> bool:
    """Label a notebook file in place; True when it changed (else the file is not rewritten)."""
    nb = nbformat.read(str(path), as_version=4)
    if not label_points(nb):
        return False
    nbformat.write(nb, str(path))
    return True
