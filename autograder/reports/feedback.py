"""``nbgrader generate_feedback``: each test cell's report once, and the page made faster.

``GradeInSandbox`` writes a test cell's score as an ``execute_result`` whose text is the
number: that is how nbgrader's ``SaveAutoGrades`` takes partial credit. In the feedback
page nbconvert would print it as a bare ``Out[ ]: 4`` under the report, whose first line
already says "step: 4 / 5 points" (and nbgrader's cell header says "Score: 4.0 / 5.0").
:class:`HideScoreOutputs` drops that number from the feedback only; the autograded notebook
and the gradebook keep it.

:class:`FeedbackExporter` is nbconvert's ``HTMLExporter`` without its last step's cost. After
rendering, nbconvert parses the whole page with BeautifulSoup to add an ``alt`` text to images
that have none (and a ``tabindex`` to JupyterLab-template cells), then writes the tree back out.
A feedback page is mostly syntax-highlighted code, thousands of ``<span>`` tags, so that round
trip took about 0.13 s of the 0.3 s per notebook. Here the stdlib's HTML tokenizer (the one
BeautifulSoup's ``html.parser`` builder uses) only finds the ``<img>`` tags without ``alt``, and
the text goes through as rendered. Read by BeautifulSoup, the page is the tree nbconvert would
have written (tests/test_feedback_export.py). A page with JupyterLab-template cells takes
nbconvert's own path. Written by hand because nbconvert has no setting to skip that pass.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import NbGraderPreprocessor

from autograder.engine.assignment import is_test_cell


def _is_number(text: Any) -> bool:
    if isinstance(text, list):
        text = "".join(text)
    try:
        float(str(text))
    except ValueError:
        return False
    return True


def hide_scores(nb: NotebookNode) -> int:
    """Remove the score ``execute_result`` of every test cell; how many were removed."""
    removed = 0
    for cell in nb.cells:
        if not is_test_cell(cell):
            continue
        kept = [o for o in cell.get("outputs", [])
                if not (o.get("output_type") == "execute_result"
                        and _is_number(o.get("data", {}).get("text/plain", "")))]
        removed += len(cell.get("outputs", [])) - len(kept)
        cell.outputs = kept
    return removed


class HideScoreOutputs(NbGraderPreprocessor):
    """Feedback preprocessor: the score number of test cells is shown in the cell header only."""

    def preprocess(self, nb: NotebookNode, resources: dict[str, Any]) -> tuple[NotebookNode, dict[str, Any]]:
        hide_scores(nb)
        return nb, resources


NO_ALT = "No description has been provided for this image"  # nbconvert's words, for the same page
_LAB_CELLS = "jp-Notebook"  # nbconvert's own pass adds tabindex under this class; such pages take it


class _ImagesWithoutAlt(HTMLParser):
    """Where to add ``alt`` to each ``<img>`` without one: the offset of its ``>`` (``/>``)."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.at: list[int] = []
        # HTMLParser.getpos() counts lines by "\n" only, and columns from the last "\n"
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def _found(self, tag: str, attrs: list[tuple[str, str | None]], closing: str) -> None:
        if tag != "img" or any(name == "alt" for name, _ in attrs):
            return
        line, column = self.getpos()  # where the tag starts
        raw = self.get_starttag_text() or ""
        self.at.append(self._line_starts[line - 1] + column + len(raw) - len(closing))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._found(tag, attrs, ">")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._found(tag, attrs, "/>")


def add_missing_alt(html: str) -> tuple[str, int]:
    """``html`` with nbconvert's alt text on every ``<img>`` that has none; how many were given one."""
    if "<img" not in html.lower():
        return html, 0
    parser = _ImagesWithoutAlt(html)
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # e.g. "<![" and a NUL in a student's markdown: nbconvert's pass raises here too
        pass  # the images found before it are given alt; the page is kept (nbconvert would lose it)
    pieces, last = [], 0
    for at in parser.at:
        pieces += [html[last:at], f' alt="{NO_ALT}"']
        last = at
    pieces.append(html[last:])
    return "".join(pieces), len(parser.at)


class _KeepRendered(TemplateExporter):
    """Sits between ``HTMLExporter`` and ``TemplateExporter`` in :class:`FeedbackExporter`'s MRO: it
    keeps the rendered page and hands ``HTMLExporter``'s BeautifulSoup pass an empty one."""

    _rendered: str | None = None

    def from_notebook_node(  # type: ignore[override]  # a page, as nbconvert's HTMLExporter returns
            self, nb: NotebookNode, resources: dict[str, Any] | None = None, **kw: Any) -> tuple[str, dict[str, Any]]:
        html, resources = super().from_notebook_node(nb, resources, **kw)
        if _LAB_CELLS in html:
            return html, resources  # nbconvert's own pass (tabindex on JupyterLab cells)
        self._rendered = html
        return "", resources


class FeedbackExporter(HTMLExporter, _KeepRendered):
    """``HTMLExporter`` for ``nbgrader generate_feedback`` (``GenerateFeedback.exporter_class``):
    the same template, filters, resources and page, without BeautifulSoup's round trip."""

    def from_notebook_node(  # type: ignore[override]  # a page, as nbconvert's HTMLExporter returns
            self, nb: NotebookNode, resources: dict[str, Any] | None = None, **kw: Any) -> tuple[str, dict[str, Any]]:
        self._rendered = None
        html, resources = super().from_notebook_node(nb, resources, **kw)
        rendered, self._rendered = self._rendered, None
        if rendered is None:
            return html, resources
        html, missing = add_missing_alt(rendered)
        if missing:
            self.log.warning("Alternative text is missing on %s image(s).", missing)
        return html, resources
