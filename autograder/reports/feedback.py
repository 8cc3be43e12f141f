"""``nbgrader generate_feedback``: show each test cell's report once, without its score number.

``GradeInSandbox`` writes a test cell's score as an ``execute_result`` whose text is the
number: that is how nbgrader's ``SaveAutoGrades`` takes partial credit. In the feedback
page nbconvert would print it as a bare ``Out[ ]: 4`` under the report, whose first line
already says "step: 4 / 5 points" (and nbgrader's cell header says "Score: 4.0 / 5.0").
:class:`HideScoreOutputs` drops that number from the feedback only; the autograded notebook
and the gradebook keep it.
"""

from __future__ import annotations

from typing import Any

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
