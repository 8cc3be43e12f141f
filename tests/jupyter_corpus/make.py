"""Write the Jupyter corpus: answer keys as students save them from JupyterLab (or the classic Notebook).

Run ``python tests/jupyter_corpus/make.py`` after an answer key changes; the ``.ipynb``
files it writes are committed. Each notebook starts from ``solutions/<id>/<id>.ipynb``
and adds what real notebooks hold: IPython idioms in solution cells and in cells the
student added (``%%time`` as a solution cell's first line, ``%timeit``, ``%matplotlib
inline``, ``display`` without an import, ``from IPython.display import ...``, ``obj?``,
top-level ``await``, ``!pip list``, ``_`` and ``Out``), and what a saved notebook
carries (outputs from the student's own run, execution counts, tags,
collapsed/scrolled metadata, widget state in the notebook metadata).

Every notebook here must still get full marks (``tests/test_jupyter.py``). File names
are ``<assignment id>__<variant>.ipynb``.
"""

from __future__ import annotations

import base64
import copy
import json
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


# --- what a saved notebook looks like --------------------------------------------

def _png(width: int = 4, height: int = 3) -> str:
    """A small valid PNG, base64 as Jupyter saves it (with a trailing newline)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack("!I", len(data)) + kind + data + struct.pack("!I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + b"\xff\x80\x00" * width for _ in range(height))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack("!IIBBBBB", width, height, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode("ascii") + "\n"


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def stream(text: str, name: str = "stdout") -> dict[str, Any]:
    return {"name": name, "output_type": "stream", "text": _lines(text)}


def result(count: int, text: str, **extra: str) -> dict[str, Any]:
    data = {"text/plain": _lines(text)}
    data.update({k.replace("_", "/", 1): _lines(v) for k, v in extra.items()})
    return {"data": data, "execution_count": count, "metadata": {}, "output_type": "execute_result"}


def figure(text: str = "<Figure size 640x480 with 1 Axes>") -> dict[str, Any]:
    return {"data": {"image/png": _png(), "text/plain": _lines(text)}, "metadata": {},
            "output_type": "display_data"}


def markdown_display(text: str) -> dict[str, Any]:
    return {"data": {"text/markdown": _lines(text),
                     "text/plain": ["<IPython.core.display.Markdown object>"]},
            "metadata": {}, "output_type": "display_data"}


def error(ename: str, evalue: str, cell: int, line: int, code: str) -> dict[str, Any]:
    """An error output as ipykernel saves it: coloured traceback lines."""
    red, green, reset = "\u001b[0;31m", "\u001b[0;32m", "\u001b[0m"
    return {"ename": ename, "evalue": evalue, "output_type": "error", "traceback": [
        f"{red}---------------------------------------------------------------------------{reset}",
        f"{red}{ename}{reset}                                 Traceback (most recent call last)",
        f"Cell {green}In[{cell}], line {line}{reset}\n{green}----> {line}{reset} {code}\n",
        f"{red}{ename}{reset}: {evalue}"]}


WIDGET_STATE = {
    "application/vnd.jupyter.widget-state+json": {
        "state": {
            "3f1c2a6e9b0d4e7f8a5b6c7d8e9f0a1b": {
                "model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0",
                "model_name": "FloatProgressModel",
                "state": {"bar_style": "success", "layout": "IPY_MODEL_5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d",
                          "max": 100.0, "style": "IPY_MODEL_6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e", "value": 100.0}},
            "5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d": {
                "model_module": "@jupyter-widgets/base", "model_module_version": "2.0.0",
                "model_name": "LayoutModel", "state": {}},
            "6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e": {
                "model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0",
                "model_name": "ProgressStyleModel", "state": {"description_width": ""}},
        },
        "version_major": 2,
        "version_minor": 0,
    }
}

LANGUAGE_INFO = {"codemirror_mode": {"name": "ipython", "version": 3}, "file_extension": ".py",
                 "mimetype": "text/x-python", "name": "python", "nbconvert_exporter": "python",
                 "pygments_lexer": "ipython3", "version": "3.11.7"}


# --- building ------------------------------------------------------------------------

class Notebook:
    """An answer key being turned into a saved student notebook."""

    def __init__(self, aid: str, minor: int) -> None:
        self.aid = aid
        self.minor = minor
        self.nb = json.loads((ROOT / "solutions" / aid / f"{aid}.ipynb").read_text())
        self.nb["metadata"]["language_info"] = dict(LANGUAGE_INFO)
        self.nb["metadata"]["widgets"] = copy.deepcopy(WIDGET_STATE)
        self._added = 0

    def _index(self, key: str) -> int:
        for i, cell in enumerate(self.nb["cells"]):
            if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == key or cell.get("id") == key:
                return i
        raise KeyError(f"{self.aid}: no cell {key!r}")

    def cell(self, key: str) -> dict[str, Any]:
        return self.nb["cells"][self._index(key)]

    def prepend(self, key: str, lines: str) -> None:
        """Put ``lines`` before the source of cell ``key`` (e.g. ``%%time`` on a solution cell)."""
        cell = self.cell(key)
        cell["source"] = _lines(lines + "".join(cell["source"]))

    def add(self, after: str, source: str, outputs: list[dict[str, Any]] | None = None,
            **metadata: Any) -> None:
        """A code cell the student added after cell ``after``."""
        self._added += 1
        cell = {"cell_type": "code", "execution_count": None, "id": f"{self.aid[:2]}-extra-{self._added}",
                "metadata": dict(metadata), "outputs": outputs or [], "source": _lines(source)}
        self.nb["cells"].insert(self._index(after) + 1, cell)

    def meta(self, key: str, **metadata: Any) -> None:
        self.cell(key)["metadata"].update(metadata)

    def saved(self) -> dict[str, Any]:
        """The notebook as the front end writes it: execution counts in order, ids for 4.5 only."""
        nb = copy.deepcopy(self.nb)
        nb["nbformat"], nb["nbformat_minor"] = 4, self.minor
        count = 0
        for cell in nb["cells"]:
            if self.minor < 5:
                cell.pop("id", None)
            if cell["cell_type"] != "code":
                continue
            count += 1
            cell["execution_count"] = count
            for out in cell["outputs"]:
                if out["output_type"] == "execute_result":
                    out["execution_count"] = count
        return nb


def a1_lab() -> Notebook:
    """a1 saved from JupyterLab (nbformat 4.5): most of the idioms, and a cell left with an error."""
    nb = Notebook("a1_perceptron", 5)
    nb.add("imports", "%matplotlib inline", tags=["setup"])
    nb.prepend("step", "%%time\n")
    nb.cell("step")["outputs"] = [stream("CPU times: user 3 µs, sys: 1 µs, total: 4 µs\nWall time: 6.2 µs\n")]
    nb.add("step", "step(np.array([-1.0, 0.0, 1.0]))", [result(0, "array([0, 1, 1])")])
    nb.add("a1-extra-2", 'fired = _\nassert list(fired) == [0, 1, 1]\nassert fired is Out[len(In) - 2]\n'
           'print("fired:", fired)', [stream("fired: [0 1 1]\n")])
    nb.add("a1-extra-3", "%timeit step(np.linspace(-1, 1, 1000))",
           [stream("4.12 µs ± 31.2 ns per loop (mean ± std. dev. of 7 runs, 100,000 loops each)\n")],
           tags=["timing"])
    nb.add("predict", "predict?", scrolled=True)
    nb.add("a1-extra-5", "display(predict(np.eye(2), np.array([1.0, -1.0]), 0.0))\nstep(-3)",
           [result(0, "array([1, 0])"), result(0, "array(0)")])
    nb.add("perceptron_update", "from IPython.display import Markdown, display\n\n"
           "w, b = perceptron_update(np.zeros(2), 0.0, np.array([1.0, 2.0]), 1, 0.5)\n"
           'display(Markdown(f"after one update: **w = {w}**, b = {b}"))',
           [markdown_display("after one update: **w = [0. 0.]**, b = 0.0")])
    nb.add("a1-extra-6", "import asyncio\n\nawait asyncio.sleep(0)\nprint('awaited')", [stream("awaited\n")])
    nb.add("a1-extra-7", "!pip list", [stream("Package    Version\n---------- -------\nnumpy      2.1.3\n")],
           jupyter={"outputs_hidden": True}, collapsed=True)
    nb.add("a1-extra-8", "step(undefined_threshold)  # scratch, left failing",
           [error("NameError", "name 'undefined_threshold' is not defined", 9, 1, "step(undefined_threshold)")])
    nb.add("train_perceptron", "X_and = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)\n"
           "y_and = np.array([0, 0, 0, 1])")
    nb.add("a1-extra-11", "%time w_and, b_and, errs_and = train_perceptron(X_and, y_and, lr=0.1)\n"
           "len(errs_and)", [stream("CPU times: user 1.2 ms, sys: 0 ns, total: 1.2 ms\nWall time: 1.21 ms\n"),
                             result(0, "5")])
    nb.cell("cell-16")["outputs"] = [stream("AND: converged after 6 epochs\n"),
                                     figure("<Figure size 1200x400 with 3 Axes>")]
    nb.meta("cell-16", scrolled=False, tags=["experiment"])
    return nb


def a1_classic() -> Notebook:
    """a1 saved from the classic Notebook (nbformat 4.4, no cell ids)."""
    nb = Notebook("a1_perceptron", 4)
    nb.add("imports", "%load_ext autoreload\n%autoreload 2\n%precision 3", [result(0, "'%.3f'")])
    nb.prepend("train_perceptron", "%%time\n")
    nb.add("train_perceptron", "%%capture training_log\n"
           "w, b, errors = train_perceptron(np.array([[0.0, 1.0], [1.0, 0.0]]), np.array([0, 1]))\n"
           "print(len(errors), 'epochs')", [], collapsed=False)
    nb.add("a1-extra-2", "training_log.show()\nw", [stream("2 epochs\n"), result(0, "array([ 0.1, -0.1])")],
           scrolled=True)
    nb.add("a1-extra-3", "assert _ is w\nOut[len(In) - 2]", [result(0, "array([ 0.1, -0.1])")])
    nb.add("perceptron_update", "perceptron_update??")
    nb.add("a1-extra-5", "def quit_early():\n    exit()\n\nquit_early()\nprint('still running')",
           [stream("still running\n")])
    for cell in nb.nb["cells"]:
        cell.setdefault("metadata", {})
        if cell["cell_type"] == "code":
            cell["metadata"].setdefault("collapsed", False)
    return nb


def a3_lab() -> Notebook:
    """a3 (PyTorch) from JupyterLab, nbformat 4.5: rich reprs of modules, %%time, ??, %whos."""
    nb = Notebook("a3_parameter_counting", 5)
    nb.prepend("mlp_params", "%%time\n")
    nb.cell("mlp_params")["outputs"] = [stream("CPU times: user 4 µs, sys: 0 ns, total: 4 µs\nWall time: 5.96 µs\n")]
    nb.add("count_parameters", "net = build_mlp([4, 3, 2], dropout=0.1)\ndisplay(net)\ncount_parameters(net)",
           [result(0, "23")])
    nb.add("a3-extra-1", "count_parameters??", tags=["scratch"])
    nb.add("a3-extra-2", "%whos", [stream("Variable   Type    Data/Info\n")], scrolled=True)
    nb.add("batchnorm_params", "%%time\nsizes = [batchnorm_params(n) for n in (1, 3, 256)]\nsizes",
           [result(0, "[2, 6, 512]")])
    nb.add("a3-extra-4", "assert Out[len(In) - 2] == [2, 6, 512]\nfrom IPython.display import HTML\n"
           "HTML('<b>checked</b>')", [result(0, "<IPython.core.display.HTML object>", text_html="<b>checked</b>")])
    return nb


def a5_lab() -> Notebook:
    """a5 (matplotlib) from JupyterLab, nbformat 4.5: inline figures, retina, a returned Figure."""
    nb = Notebook("a5_overfitting", 5)
    nb.add("setup", "%matplotlib inline\n%config InlineBackend.figure_format = 'retina'", tags=["setup"])
    nb.prepend("best_epoch", "%%time\n")
    nb.add("plot_curves", "demo = {'train_loss': [1.0, 0.5, 0.3], 'val_loss': [1.1, 0.7, 0.8],\n"
           "        'train_acc': [0.5, 0.8, 0.9], 'val_acc': [0.4, 0.7, 0.7]}\nfig = plot_curves(demo)\nfig",
           [figure("<Figure size 1000x400 with 2 Axes>")])
    nb.add("a5-extra-2", "import asyncio\nawait asyncio.sleep(0)\ndisplay(best_epoch(demo['val_loss']))",
           [result(0, "1")])
    nb.meta("run_plain", scrolled=True)
    return nb


BUILDERS: dict[str, Callable[[], Notebook]] = {
    "a1_perceptron__lab45": a1_lab,
    "a1_perceptron__classic44": a1_classic,
    "a3_parameter_counting__lab45": a3_lab,
    "a5_overfitting__lab45": a5_lab,
}


def render(nb: dict[str, Any]) -> str:
    """JSON as Jupyter writes it (one-space indent, sorted keys, unicode kept, final newline)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def build() -> dict[str, str]:
    """File name -> text of every corpus notebook."""
    return {f"{name}.ipynb": render(make().saved()) for name, make in BUILDERS.items()}


def main() -> None:
    for name, text in build().items():
        (HERE / name).write_text(text, encoding="utf-8")
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
