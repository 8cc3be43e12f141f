"""The feedback exporter: nbconvert's page, without nbconvert's BeautifulSoup round trip.

nbconvert's ``HTMLExporter`` parses each rendered page with BeautifulSoup, gives an ``alt`` text
to every ``<img>`` without one, and writes the tree back out. ``FeedbackExporter`` adds the same
``alt`` in the rendered text. Read by BeautifulSoup, its page must be the very text nbconvert
writes, for pages with images in outputs, in markdown and in odd places.
"""

from __future__ import annotations

import base64

import nbformat
import pytest
from bs4 import BeautifulSoup
from bs4.exceptions import ParserRejectedMarkup
from nbconvert.exporters import HTMLExporter
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from nbgrader.converters import GenerateFeedback
from nbgrader.coursedir import CourseDirectory
from traitlets.config import Config

from autograder.reports.feedback import NO_ALT, FeedbackExporter, add_missing_alt

PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082")).decode()


def nbconvert_pass(html: str) -> str:
    """What nbconvert 7's HTMLExporter does to a rendered page (for comparison only)."""
    soup = BeautifulSoup(html, features="html.parser")
    for elem in soup.select("img:not([alt])"):
        elem.attrs["alt"] = NO_ALT
    return str(soup)


@pytest.mark.parametrize("html", [
    '<p>no image at all</p>',
    '<img src="a.png">',
    '<img src="a.png" alt="kept">',
    '<img src="a.png"/><img src="b.png" />',
    '<IMG SRC="a.png">',  # upper case: html.parser lowers the name
    '<img src=a/>',  # an unquoted value ending in "/": not a self-closing tag
    '<img\nsrc="a.png"\n\n   width="3"\n>',  # a tag over several lines
    'line one\r\nline two\r<img src="a.png">\n<img src="b.png">',  # "\r" is not a line end for getpos
    '<script>var s = "<img src=x>";</script><img src="y.png">',  # inside a script: text, not a tag
    '<!-- <img src="commented.png"> --><img src="z.png">',
    '<div title="a > b"><img title="c > d" src="e.png"></div>',
    '<img alt src="empty-alt.png"><img ALT="x" src="f.png">',
    '<svg><img src="in-svg.png"></svg>',
])
def test_alt_text_is_added_where_nbconvert_adds_it(html):
    ours, _ = add_missing_alt(html)
    assert str(BeautifulSoup(ours, features="html.parser")) == nbconvert_pass(html)


def test_alt_count_and_text():
    html, missing = add_missing_alt('<img src="a.png"><img src="b.png" alt="b"><img src="c.png"/>')
    assert missing == 2
    assert html == (f'<img src="a.png" alt="{NO_ALT}"><img src="b.png" alt="b">'
                    f'<img src="c.png" alt="{NO_ALT}"/>')
    assert add_missing_alt("<p>x</p>") == ("<p>x</p>", 0)


def test_markup_the_tokenizer_rejects_keeps_the_page():
    """nbconvert's pass raises on this (a student's markdown can hold it) and that page is lost;
    here the page is kept, and the images before the bad markup still get their alt text."""
    bad = '<img src="a.png"><p>text</p><![\x00 <img src="b.png">'
    with pytest.raises(ParserRejectedMarkup):
        nbconvert_pass(bad)
    page, missing = add_missing_alt(bad)
    assert missing == 1 and page == bad.replace('"a.png"', f'"a.png" alt="{NO_ALT}"')


def _notebook() -> nbformat.NotebookNode:
    plot = new_code_cell("plt.plot([1, 2])", outputs=[
        new_output("display_data", {"image/png": PNG, "text/plain": "<Figure>"}),
        new_output("stream", name="stdout", text="a <b> & c\n"),
    ])
    html_out = new_code_cell("display(HTML(...))", outputs=[
        new_output("display_data", {"text/html": '<img src="x.png"><p>table</p>', "text/plain": "x"}),
        new_output("execute_result", {"text/plain": "4"}, execution_count=3),
    ])
    nb = new_notebook(cells=[
        new_markdown_cell(f"# Title\n\nA figure: ![a plot](data:image/png;base64,{PNG}) and "
                          "<img src='inline.png'> and `x < y`"),
        new_code_cell("def f(x):\n    return x ** 2  # <img src=no>\n"),
        plot,
        html_out,
    ])
    nb.cells[1].metadata["nbgrader"] = {"grade": True, "solution": False, "grade_id": "test_f", "points": 5,
                                        "score": 3.0}  # as nbgrader's GetGrades leaves a graded cell
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    return nb


def _resources() -> dict:
    return {"nbgrader": {"notebook": "a1", "score": 3.0, "max_score": 5.0, "late_penalty": 0}}


def _exporters(template: str | None = None) -> tuple[HTMLExporter, HTMLExporter]:
    """nbconvert's HTMLExporter and ours, configured the way nbgrader generate_feedback configures them."""
    config = Config()
    if template:
        config.HTMLExporter.template_name = template
    converter = GenerateFeedback(coursedir=CourseDirectory(), config=config)
    return (HTMLExporter(parent=converter, config=converter.config),
            FeedbackExporter(parent=converter, config=converter.config))


def test_the_feedback_page_is_nbconvert_s_page():
    theirs, ours = _exporters()
    nb = _notebook()
    expected, _ = theirs.from_notebook_node(nb, _resources())
    page, resources = ours.from_notebook_node(nb, _resources())
    assert "output_subarea" in page and NO_ALT in page  # nbgrader's feedback template, images given alt
    assert page != expected  # the text went through as rendered (not BeautifulSoup's rewrite) ...
    assert str(BeautifulSoup(page, features="html.parser")) == expected  # ... and it is the same page
    assert resources["output_extension"] == ".html"
    # used again for the next notebook: nothing is left over from the last one
    again, _ = ours.from_notebook_node(new_notebook(cells=[new_code_cell("1")]), _resources())
    assert "return x ** 2" not in again


def test_a_jupyterlab_page_takes_nbconvert_s_own_pass():
    theirs, ours = _exporters("lab")
    nb = _notebook()
    expected, _ = theirs.from_notebook_node(nb, _resources())
    assert 'tabindex="0"' in expected
    assert ours.from_notebook_node(nb, _resources())[0] == expected
