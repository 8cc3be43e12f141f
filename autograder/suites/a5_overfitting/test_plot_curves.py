"""Hidden checks of plot_curves(history).

The figure stays in the student's process; the helper ``describe_figure``
(student_helpers.py) returns its axes, labels, legends and line data as plain
values, and the figure drawn to SVG. The grader parses that drawing itself: a
described line counts only when a drawn line has its points (an affine image of
epochs and values, or of their log on a log axis), and a title, label or legend
text only when the drawing shows it. So an object that merely reports the right
artists, without drawing them, passes nothing.

The five checks that read one figure share one call, plot_curves(HISTORY), drawn
once (the ``drawn`` fixture); the checks of other histories and of a second call
make their own.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from autograder.testing import expect, fail, points

KEYS = ("train_loss", "val_loss", "train_acc", "val_acc")
DATA_RTOL = 1e-6  # the lines must carry the values themselves (float32 rounding allowed)


def _history(seed: int, n: int) -> dict[str, list[float]]:
    """Plausible curves of n epochs, all values distinct so every line can be told apart."""
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=np.float64)
    train_loss = 2.3 * np.exp(-t / 5) + rng.uniform(0.01, 0.02, n)
    val_loss = 0.5 + 0.004 * (t - n / 3) ** 2 + rng.uniform(0.0, 0.02, n)
    train_acc = 1.0 - 0.9 * np.exp(-t / 4) - rng.uniform(0.0, 0.01, n)
    val_acc = 0.85 - 0.75 * np.exp(-t / 4) - rng.uniform(0.0, 0.01, n)
    return {k: [float(v) for v in arr] for k, arr in zip(KEYS, (train_loss, val_loss, train_acc, val_acc))}


HISTORY = _history(501, 17)


_SVG = "{http://www.w3.org/2000/svg}"
_XLINK = "{http://www.w3.org/1999/xlink}"
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")
DRAW_TOL = 0.05  # SVG units (1/72 inch): matplotlib writes coordinates to 6 decimals


def _drawn(svg: str) -> tuple[list[np.ndarray], set[str]]:
    """The point sequences of every drawn line (paths and marker rows) and every text in the drawing."""
    try:
        root = ET.fromstring(svg)
    except ET.ParseError:
        return [], set()
    sequences: list[np.ndarray] = []
    for group in root.iter(f"{_SVG}g"):
        if not group.get("id", "").startswith("line2d_"):
            continue
        for path in group.iter(f"{_SVG}path"):
            d = path.get("d", "")
            if re.search(r"[^MLml\s\d.eE+-]", d):
                continue  # curves or closed shapes are not data lines
            numbers = [float(v) for v in _NUMBER.findall(d)]
            if len(numbers) >= 4 and len(numbers) % 2 == 0:
                sequences.append(np.array(numbers).reshape(-1, 2))
        placed = [(u.get("x"), u.get("y")) for u in group.iter(f"{_SVG}use")]
        marks = [(float(x), float(y)) for x, y in placed if x is not None and y is not None]
        if len(marks) >= 2:
            sequences.append(np.array(marks))
    texts = {" ".join("".join(t.itertext()).split()) for t in root.iter(f"{_SVG}text")}
    return sequences, texts


def _affine(data: np.ndarray, drawn: np.ndarray, increasing: bool) -> bool:
    """Whether ``drawn = a * data + b`` for one a (> 0 when ``increasing``, < 0 otherwise), to DRAW_TOL."""
    if np.ptp(data) == 0:
        return bool(np.ptp(drawn) <= DRAW_TOL)
    a, b = np.polyfit(data, drawn, 1)
    if (a <= 0) if increasing else (a >= 0):
        return False
    return bool(np.max(np.abs(a * data + b - drawn)) <= DRAW_TOL)


def _is_drawn(line: dict, sequences: list[np.ndarray]) -> bool:
    """Whether some drawn line shows exactly this line's points (y up the page: SVG y decreases)."""
    x, y = np.asarray(line["x"], dtype=np.float64), np.asarray(line["y"], dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        candidates = [y] + ([np.log10(y)] if np.all(y > 0) else [])
    for seq in sequences:
        if len(seq) != len(y) or len(y) < 2:
            continue
        if _affine(x, seq[:, 0], True) and any(_affine(c, seq[:, 1], False) for c in candidates):
            return True
    return False


def _verify_drawing(desc: dict) -> None:
    """Fail unless the figure's drawing shows every data line and every text its artists report."""
    sequences, texts = _drawn(desc.get("svg") or "")
    expect(bool(sequences) or not any(ax["lines"] for ax in desc["axes"]),
           "the figure could not be drawn, or its drawing shows no lines (the grader reads the figure as "
           "it is drawn: return the Figure your axes belong to)")
    for i, ax in enumerate(desc["axes"]):
        for line in ax["lines"]:
            if line["x"] is None or line["y"] is None or len(line["y"]) < 2:
                continue
            if not np.all(np.isfinite(line["y"])) or not np.all(np.isfinite(line["x"])):
                continue
            expect(_is_drawn(line, sequences),
                   f"axes {i}: the line labelled {line['label']!r} is not visible in the drawn figure with all its "
                   "points (the grader reads the figure as drawn: keep every point inside the axis limits)")
        shown = [ax["title"], ax["xlabel"], ax["ylabel"]] + list(ax["legend"] or [])
        for text in shown:
            clean = " ".join(str(text).split())
            if clean and "$" not in clean and "\n" not in str(text):
                expect(clean in texts, f"axes {i}: the text {clean!r} is not in the drawn figure")


def _describe(student, history):
    fig = student.plot_curves(history)
    desc = student.helper("describe_figure", fig, render=True)
    expect(desc["is_figure"], f"plot_curves should return a matplotlib Figure, got {desc['type']}")
    _verify_drawing(desc)
    return desc


@pytest.fixture(scope="module")
def drawn(student):
    """plot_curves(HISTORY), described and drawn once for the checks that read the same figure.

    A call that fails fails each of those checks with the same message (pytest re-raises it).
    """
    return _describe(student, HISTORY)


def _carries(line, values) -> bool:
    """Whether a line draws exactly ``values`` against the epochs 0..n-1 or 1..n."""
    x, y = line["x"], line["y"]
    if x is None or y is None or len(y) != len(values) or len(x) != len(values):
        return False
    n = len(values)
    epochs_ok = np.array_equal(x, np.arange(n)) or np.array_equal(x, np.arange(1, n + 1))
    return bool(epochs_ok and np.allclose(y, values, rtol=DATA_RTOL, atol=0.0))


def _find(desc, history, key):
    """(axes index, line) of the line that carries history[key], or (None, None)."""
    for i, ax in enumerate(desc["axes"]):
        for line in ax["lines"]:
            if _carries(line, history[key]):
                return i, line
    return None, None


def _require_lines(desc, history):
    found = {}
    for key in KEYS:
        i, line = _find(desc, history, key)
        if line is None:
            fail(f"no line in the figure draws history[{key!r}] against the epochs "
                 "(the values as they are, x = 0..n-1 or 1..n)")
        found[key] = (i, line)
    return found


@points(1, hint="Create the figure with fig, (ax1, ax2) = plt.subplots(1, 2) and return fig.")
def test_figure_with_two_axes(drawn):
    """plot_curves returns a Figure with exactly two axes"""
    desc = drawn
    expect(len(desc["axes"]) == 2, f"expected a figure with 2 axes (loss, accuracy), got {len(desc['axes'])}")


@points(2, hint="Plot each history list as it is against the epoch numbers: the two losses on one axes, "
                "the two accuracies on the other.")
def test_lines_carry_history(student, drawn):
    """the lines carry exactly the history's values, losses on one axes and accuracies on the other"""
    desc = drawn
    found = _require_lines(desc, HISTORY)
    expect(found["train_loss"][0] == found["val_loss"][0],
           "train_loss and val_loss should be drawn on the same axes")
    expect(found["train_acc"][0] == found["val_acc"][0],
           "train_acc and val_acc should be drawn on the same axes")
    expect(found["train_loss"][0] != found["train_acc"][0],
           "the losses and the accuracies should be on two different axes")
    short = _history(502, 6)
    _require_lines(_describe(student, short), short)


@points(2, hint="Label each line: the training lines with 'train' in the label, the validation lines "
                "with 'val' (e.g. label='train', label='validation'), and make sure each label goes "
                "with its own data.")
def test_line_labels(drawn):
    """each line's label says train or validation, matching the data it draws"""
    desc = drawn
    for key, (_, line) in _require_lines(desc, HISTORY).items():
        label = line["label"]
        expect(not label.startswith("_"), f"the line drawing history[{key!r}] has no label")
        low = label.lower()
        if key.startswith("train"):
            expect("train" in low and "val" not in low,
                   f"the line drawing history[{key!r}] is labelled {label!r}: expected a training label")
        else:
            expect("val" in low and "train" not in low,
                   f"the line drawing history[{key!r}] is labelled {label!r}: expected a validation label")


@points(1, hint="Call ax.set_title, ax.set_xlabel and ax.set_ylabel on both axes.")
def test_titles_and_axis_labels(drawn):
    """both axes have a title and axis labels"""
    desc = drawn
    expect(len(desc["axes"]) > 0, "the figure has no axes")
    for i, ax in enumerate(desc["axes"]):
        for part in ("title", "xlabel", "ylabel"):
            expect(ax[part].strip() != "", f"axes {i} has no {part.replace('label', ' label')}")


@points(1, hint="Call ax.legend() on each axes after plotting labelled lines.")
def test_legends(drawn):
    """each axes has a legend naming its two lines"""
    desc = drawn
    found = _require_lines(desc, HISTORY)
    figure_texts = [t for texts in desc["figure_legends"] if texts for t in texts]
    for key, (i, line) in found.items():
        texts = (desc["axes"][i]["legend"] or []) + figure_texts
        expect(line["label"] in texts,
               f"the legend of the axes drawing history[{key!r}] does not list that line")


@points(1, hint="Make a new figure on every call (plt.subplots), do not draw into the current one.")
def test_new_figure_each_call(student):
    """every call draws on a new figure"""
    first, second = _history(503, 9), _history(504, 9)
    fig_first = student.plot_curves(first)
    fig_second = student.plot_curves(second)
    desc = student.helper("describe_figure", fig_second, render=True)
    student.helper("describe_figure", fig_first)  # closes it
    expect(desc["is_figure"], f"plot_curves should return a matplotlib Figure, got {desc['type']}")
    _verify_drawing(desc)
    for key in KEYS:
        i, _ = _find(desc, first, key)
        expect(i is None, "the figure of a second call still shows the lines of the first call")
    _require_lines(desc, second)
