"""Grader helpers that run inside the student's process for a5_overfitting.

A matplotlib figure cannot cross to the grader, so ``describe_figure`` reads
what the checks need from it and returns plain values, together with the
figure drawn to SVG. Nothing here decides a score: the grader parses the SVG
itself and accepts a described line or text only when the drawing shows it.
"""

import numpy as np


def _floats(data):
    """A line's data as a list of floats, or None when it is not numeric."""
    try:
        return [float(v) for v in np.asarray(data, dtype=np.float64).ravel()]
    except (TypeError, ValueError):
        return None


def _legend_texts(legend):
    return None if legend is None else [str(t.get_text()) for t in legend.get_texts()]


def _render_svg(fig):
    """The figure drawn as SVG text (texts kept as text, paths not simplified), or "" when drawing fails."""
    import io

    import matplotlib

    buf = io.BytesIO()
    try:
        with matplotlib.rc_context({"svg.fonttype": "none", "path.simplify": False}):
            fig.savefig(buf, format="svg")
    except Exception:  # a figure that cannot be drawn has no SVG text
        return ""
    return buf.getvalue().decode("utf-8", "replace")


def describe_figure(fig, close=True, render=False):
    """The type of ``fig`` and, for a Figure, its axes, titles, labels, legends and lines.

    Returns a dict: ``type`` (class name), ``is_figure``, and for a Figure
    ``axes`` (one dict per axes: ``title``, ``xlabel``, ``ylabel``, ``legend``
    (texts, or None), ``lines`` (``label``, ``x``, ``y``)) and
    ``figure_legends`` (texts of legends placed on the figure itself).
    With ``render`` it also holds ``svg``, the figure drawn to SVG, in which the grader
    finds the drawn lines and texts itself. With ``close`` the figure is closed afterwards.
    """
    from matplotlib.figure import Figure

    out = {"type": type(fig).__name__, "is_figure": isinstance(fig, Figure)}
    if not out["is_figure"]:
        return out
    axes = []
    for ax in fig.axes:
        titles = [ax.get_title(loc=loc) for loc in ("left", "center", "right")]
        axes.append({
            "title": " ".join(t for t in titles if t),
            "xlabel": str(ax.get_xlabel()),
            "ylabel": str(ax.get_ylabel()),
            "legend": _legend_texts(ax.get_legend()),
            "lines": [{"label": str(line.get_label()), "x": _floats(line.get_xdata()),
                       "y": _floats(line.get_ydata())} for line in ax.get_lines()],
        })
    out["axes"] = axes
    out["figure_legends"] = [_legend_texts(lg) for lg in getattr(fig, "legends", [])]
    if render:
        out["svg"] = _render_svg(fig)
    if close:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return out
