"""Cells run the way Jupyter runs them (IPython's InteractiveShell in the student process).

- The corpus (``tests/jupyter_corpus/``, written by its ``make.py``): answer keys saved as
  JupyterLab / the classic Notebook save them, full of IPython idioms; each gets full marks.
- The autograded notebook holds what the cells showed, as Jupyter would have saved it.
- The shell itself (in a child process, no sandbox): exits and interrupts end nothing, one
  cell cannot rewrite the next, outputs are capped, tracebacks are plain text.
- The grader's side: outputs are validated and capped again; static checks read cells as
  IPython does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import nbformat
import pytest

from autograder.config import GraderConfig
from autograder.engine.assignment import Assignment
from autograder.engine.grade import grade_notebook
from autograder.integrations.nbgrader_hook import write_back
from autograder.sandbox import cell_outputs
from autograder.sandbox.cells import python_source
from autograder.sandbox.submission import Submission
from tests.conftest import ROOT

CORPUS = ROOT / "tests" / "jupyter_corpus"
NOTEBOOKS = sorted(CORPUS.glob("*.ipynb"))
RUNTIME = ROOT / "autograder" / "sandbox" / "runtime"
IDIOMS = ("%matplotlib inline", "%%time\n", "%timeit ", "%time ", "display(", "from IPython.display import",
          "?\n", "await asyncio.sleep(0)", "!pip list", "Out[", "= _\n", "%%capture", "%config ", "??")


def _aid(path: Path) -> str:
    return path.name.split("__")[0]


def _source(cell: Any) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


# --- the corpus ----------------------------------------------------------------------

def test_corpus_looks_like_saved_notebooks() -> None:
    """Both nbformat 4.4 (no cell ids) and 4.5; outputs, counts, tags, collapsed/scrolled, widget state."""
    assert {p.name for p in NOTEBOOKS} >= {"a1_perceptron__lab45.ipynb", "a1_perceptron__classic44.ipynb",
                                          "a3_parameter_counting__lab45.ipynb", "a5_overfitting__lab45.ipynb"}
    minors, sources, metadata_keys = set(), "", set()
    for path in NOTEBOOKS:
        raw = json.loads(path.read_text())
        minors.add(raw["nbformat_minor"])
        assert raw["nbformat"] == 4
        if raw["nbformat_minor"] < 5:
            assert not any("id" in cell for cell in raw["cells"]), path.name
        else:
            assert all("id" in cell for cell in raw["cells"]), path.name
        assert "application/vnd.jupyter.widget-state+json" in raw["metadata"]["widgets"]
        code = [c for c in raw["cells"] if c["cell_type"] == "code"]
        assert all(isinstance(c["execution_count"], int) for c in code)
        assert any(c["outputs"] for c in code)
        for cell in raw["cells"]:
            metadata_keys |= set(cell["metadata"])
            sources += _source(cell) + "\n"
        nbformat.validate(nbformat.reads(path.read_text(), as_version=4))
    assert minors == {4, 5}
    assert {"tags", "collapsed", "scrolled", "jupyter", "nbgrader"} <= metadata_keys
    missing = [idiom for idiom in IDIOMS if idiom not in sources]
    assert not missing, f"the corpus lost these idioms: {missing}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_corpus_full_marks(grade, path: Path) -> None:
    result = grade(_aid(path), path)
    failed = [f"{c.check_id}: {c.message}" for p in result.parts for c in p.checks if not c.passed]
    assert result.score == result.max_score, (
        f"{path.name}: {result.score}/{result.max_score} (if the answer key changed, run "
        f"python tests/jupyter_corpus/make.py); failed: {failed}; {result.error}")


@pytest.mark.slow
def test_autograded_notebook_holds_what_jupyter_would_show(grader_config: GraderConfig) -> None:
    path = CORPUS / "a1_perceptron__lab45.ipynb"
    assignment = Assignment.load(ROOT, "a1_perceptron")
    graded = grade_notebook(path, assignment, grader_config)
    assert graded.result.score == graded.result.max_score
    nb = nbformat.read(str(path), as_version=4)
    write_back(nb, graded, assignment)
    nbformat.validate(nb)
    by_id = {cell.get("id"): cell for cell in nb.cells}

    def outputs(cell_id: str, kind: str) -> list[Any]:
        return [o for o in by_id[cell_id].outputs if o.output_type == kind]

    figures = outputs("cell-16", "display_data")
    assert figures and figures[0].data["image/png"] and figures[0].data["text/plain"].startswith("<Figure")
    assert [o.data["text/plain"] for o in outputs("a1-extra-2", "execute_result")] == ["array([0, 1, 1])"]
    assert "fired: [0 1 1]" in "".join(o.text for o in outputs("a1-extra-3", "stream"))
    assert "Wall time" in "".join(o.text for o in outputs("step", "stream") if o.name == "stdout")
    markdown = outputs("a1-extra-7", "display_data")
    # markdown is kept as its source text (plain text, escaped in feedback), never as markup
    assert markdown and markdown[0].data["text/plain"].startswith("after one update")
    assert "text/markdown" not in markdown[0].data
    (err,) = outputs("a1-extra-10", "error")
    text = "\n".join(err.traceback)
    assert err.ename == "NameError" and "undefined_threshold" in err.evalue
    assert "Cell In[" in text and "line 1" in text and "step(undefined_threshold)" in text
    assert "\x1b[" not in text and "nngrade" not in text and "/autograder/" not in text


@pytest.mark.slow
def test_corpus_through_real_nbgrader(tmp_path: Path) -> None:
    """`nbgrader autograde` and `generate_feedback` on a JupyterLab-saved notebook: full marks, outputs kept."""
    from autograder.cli.demo import make_course, submit
    from autograder.integrations.generate import nbgrader

    aid = "a1_perceptron"
    make_course(ROOT, tmp_path, [aid])
    nbgrader(["generate_assignment", aid, "--force"], tmp_path)
    submit(tmp_path, "lab", aid, (CORPUS / f"{aid}__lab45.ipynb").read_text())
    submit(tmp_path, "classic", aid, (CORPUS / f"{aid}__classic44.ipynb").read_text())
    nbgrader(["autograde", aid, "--force", "--create"], tmp_path, check=False)
    nbgrader(["generate_feedback", aid, "--force"], tmp_path)
    nbgrader(["export", "--to", str(tmp_path / "grades.csv")], tmp_path)
    grades = (tmp_path / "grades.csv").read_text().splitlines()
    assert sum(1 for row in grades if ",21.0," in row or ",21," in row) == 2, grades
    nb = nbformat.read(str(tmp_path / "autograded/lab" / aid / f"{aid}.ipynb"), as_version=4)
    kinds = {o.output_type for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs}
    assert {"stream", "execute_result", "display_data", "error"} <= kinds
    html = (tmp_path / "feedback/lab" / aid / f"{aid}.html").read_text()
    assert "data:image/png;base64," in html and "after one update" in html


# --- the shell, in a child process (no sandbox, no notebook) ---------------------------

_DRIVER = textwrap.dedent('''
    import json, sys
    sys.path.insert(0, sys.argv[1])
    import shell
    from IPython import get_ipython
    shell.prepare()
    sh = shell.take()  # as Student.__init__ does (in the zygote's fork)
    assert sys.modules["__main__"] is sh.user_module and get_ipython() is sh
    cells = json.loads(sys.stdin.read())
    out = [sh.run(src, 2000) for src in cells]
    print(json.dumps({"outputs": out, "names": sorted(k for k in sh.user_ns if not k.startswith("_"))}))
''')


def _run_cells(*cells: str) -> dict[str, Any]:
    env = dict(os.environ, MPLBACKEND="Agg", IPYTHONDIR="/nonexistent-ipython-dir")
    proc = subprocess.run([sys.executable, "-c", _DRIVER, str(RUNTIME)], input=json.dumps(list(cells)),
                          capture_output=True, text=True, timeout=120, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.splitlines()[-1])


def _kinds(outputs: list[Any]) -> list[str]:
    return [o[0] for o in outputs]


def test_shell_runs_cells_as_jupyter_does() -> None:
    got = _run_cells(
        "%%time\ndef f(x):\n    return 2 * x\nprint('defined')",
        "f(21)",
        "assert _ == 42 and Out[2] == 42\ndisplay(f)\nf(1)",
        "import asyncio\nawait asyncio.sleep(0)\n'awaited'",
        "from IPython.display import Markdown, display\ndisplay(Markdown('**b**'))",
        "f?",
        "def g():\n    return 1 / 0\n\ng()",
        "x = (",
        "%timeit -n 2 -r 1 f(3)",
        "f(5);",
    )
    out = got["outputs"]
    assert "f" in got["names"]
    assert out[0][0][0] == "stdout" and "defined" in out[0][0][1] and "Wall time" in out[0][0][1]
    assert out[1] == [["result", [["text/plain", "42"]]]]
    assert _kinds(out[2]) == ["display", "result"]
    assert out[3] == [["result", [["text/plain", "'awaited'"]]]]
    assert ["text/markdown", "**b**"] in out[4][0][1]
    assert out[5][0][0] == "display" and "Signature: f(x)" in out[5][0][1][0][1]
    (err,) = out[6]
    assert err[:3] == ["error", "ZeroDivisionError", "division by zero"]
    assert "Cell In[7], line 4" in err[3] and "Cell In[7], line 2" in err[3] and "\x1b[" not in err[3]
    assert out[7][0][:2] == ["error", "SyntaxError"] and "Cell In[8], line 1" in out[7][0][3]
    assert out[8][0][0] == "stdout" and "per loop" in out[8][0][1]
    assert out[9] == []  # a trailing semicolon hides the result, as in Jupyter


def test_exits_and_interrupts_end_nothing() -> None:
    got = _run_cells(
        "import sys\nsys.exit(3)",
        "raise SystemExit('21/21')",
        "exit()\nprint('after exit()')",
        "get_ipython().ask_exit()\nquit()\n'after ask_exit'",
        "raise KeyboardInterrupt",
        "survived = True",
    )
    out = got["outputs"]
    assert out[0][0][:3] == ["error", "SystemExit", "3"]
    assert out[1][0][:3] == ["error", "SystemExit", "21/21"]
    assert out[2] == [["stdout", "after exit()\n"]]
    assert out[3] == [["result", [["text/plain", "'after ask_exit'"]]]]
    assert out[4][0][:2] == ["error", "KeyboardInterrupt"]
    assert "survived" in got["names"]


def test_a_cell_cannot_rewrite_later_cells() -> None:
    """Input and AST transformers are reset before each cell; display hooks stay the student's."""
    got = _run_cells(
        "ip = get_ipython()\nip.input_transformers_cleanup.append(lambda lines: ['print(5)\\n'])\n"
        "ip.input_transformers_post.append(lambda lines: ['print(6)\\n'])\n"
        "import ast\nclass Nop(ast.NodeTransformer):\n    def visit_Module(self, node):\n"
        "        return ast.Module(body=[], type_ignores=[])\nip.ast_transformers.append(Nop())",
        "def answer():\n    return 42",
        "get_ipython().display_formatter.formatters['text/plain'].for_type(int, lambda o, p, c: p.text('5'))",
        "answer()",
    )
    assert "answer" in got["names"]
    assert got["outputs"][1] == []
    assert got["outputs"][3] == [["result", [["text/plain", "5"]]]]  # the student's own formatter: display only


def test_shell_caps_what_a_cell_shows() -> None:
    got = _run_cells(
        "print('x' * 10_000)\nimport sys\nsys.stderr.write('e' * 5000)",
        "from IPython.display import display, clear_output\nprint('gone')\nclear_output()\nprint('kept')",
        "for i in range(300):\n    display(i)",
        "from IPython.display import display, update_display\nh = display('first', display_id=True)\n"
        "h.update('second')",
    )
    first = {kind: "".join(o[1] for o in got["outputs"][0] if o[0] == kind) for kind in ("stdout", "stderr")}
    assert first["stdout"].startswith("x" * 2000) and "more characters of output were dropped" in first["stdout"]
    assert len(first["stdout"]) < 2200 and len(first["stderr"]) < 2200
    assert got["outputs"][1] == [["stdout", "kept\n"]]
    displays = [o for o in got["outputs"][2] if o[0] == "display"]
    assert 0 < len(displays) <= 200
    assert got["outputs"][3] == [["display", [["text/plain", "'second'"]]]]


# --- the grader's side -------------------------------------------------------------------

def test_grader_validates_and_caps_outputs() -> None:
    limit = 1000
    png = "iVBORw0KGgo="
    sent = [
        ("png", png), ("result", "legacy text"),
        ("result", [("application/json", '{"a": [1, 2]}'), ("text/plain", "{'a': [1, 2]}")]),
        ("stdout", "a" * 5000), ("stdout", "b" * 100), ("stderr", "c" * 5000),
        ("display", [("text/html", "h" * 5000), ("text/plain", "p")]),
        ("display", [("text/html", "<script>alert(2)</script>"), ("image/svg+xml", "<svg onload=x()>"),
                     ("text/markdown", "<img src=x onerror=alert(3)>"), ("text/plain", "repr")]),
        ("display", [("image/png", '"><script>alert(1)</script>')]),  # not base64: dropped
        ("display", [("application/javascript", "alert(1)")]),      # not allowlisted: dropped
        ("display", [("application/json", "{not json")]),
        ["stdout", "a list, not a tuple"], ("stdout", 5), ("error", "E", "v"), ("nonsense", "x"),
        *[("display", [("image/png", png)])] * 12,
        *[("error", "ValueError", "bad", "tb " * 10_000)] * 6,
    ]
    kept = cell_outputs.keep(sent, limit)
    bundles = [pair for item in kept if item[0] in ("display", "result") for pair in item[1]]
    text = sum(len(item[1]) for item in kept if item[0] in ("stdout", "stderr"))
    text += sum(len(data) for mime, data in bundles if mime not in cell_outputs.IMAGE_MIMES)
    assert text <= 2 * limit + 200  # all text of a cell together, short notes aside
    assert all(mime in cell_outputs.MIMES for mime, _ in bundles)
    assert not any("script" in data for _, data in bundles)
    assert not any(mime in ("text/html", "image/svg+xml", "text/markdown") for mime, _ in bundles)
    active = cell_outputs.keep([("display", [("text/html", "<b>x</b>"), ("text/markdown", "<img src=x onerror=y>"),
                                            ("text/plain", "repr")])], limit)
    assert active == [("display", [("text/plain", "<img src=x onerror=y>")])]  # markdown as text, escaped later
    assert sum(1 for mime, _ in bundles if mime == "image/png") == cell_outputs.MAX_IMAGES
    assert [item[1] for item in kept if item[0] == "stdout"] == [
        "a" * 1000 + "\n[... 4000 more characters were dropped]\n"]
    assert ("result", [("text/plain", "legacy text")]) in kept
    assert ("result", [("application/json", '{"a": [1, 2]}'), ("text/plain", "{'a': [1, 2]}")]) in kept
    errors = [item for item in kept if item[0] == "error"]
    assert len(errors) == cell_outputs.MAX_ERRORS and all(len(e[3]) <= 8100 for e in errors)
    assert all(type(item) is tuple and all(type(x) is str for x in item if not isinstance(x, list))
               for item in kept)

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "x", outputs=[nbformat.from_dict(o) for o in cell_outputs.to_nbformat(kept)])])
    nbformat.validate(nb)
    # after a JSON round trip (the result cache) the same outputs come out
    assert cell_outputs.to_nbformat(json.loads(json.dumps(kept))) == cell_outputs.to_nbformat(kept)


def test_static_checks_read_cells_as_ipython_does() -> None:
    cell = "%%time\nimport numpy as np\ndef f(x):\n    return x\n!pip list\nf?"
    names = {n.name for n in __import__("ast").parse(python_source(cell)).body
             if n.__class__.__name__ == "FunctionDef"}
    assert names == {"f"}
    assert "import torch" in python_source("%time import torch")
    assert "import jax" in python_source("%%timeit -n1 import jax\nf(1)")
    sub = Submission([(0, cell), (1, "%timeit f(1)\ng = 2")], lambda: None, GraderConfig())  # type: ignore
    assert sub.source("f") == cell and sub.source("g").endswith("g = 2") and sub.source("h") == ""
