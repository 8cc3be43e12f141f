"""The class report as one self-contained HTML page: inline CSS, matplotlib plots as base64 PNGs.

Every string that comes from a student (ids, messages, notes) is HTML-escaped, and
escaped again for matplotlib's mathtext where it becomes a plot label. The page has
no scripts and loads nothing from elsewhere.
"""

from __future__ import annotations

import base64
import io
import math
import statistics
from datetime import datetime, timezone
from html import escape

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from autograder.reports.class_model import CAUSE_ORDER, CheckStats, ClassReport, StudentRow
from autograder.reports.similarity import SimilarityReport, SimilarPair

CAUSE_COLORS = {"wrong result": "#d1495b", "raised an error": "#edae49", "not attempted": "#b8c0c8",
                "missing function": "#8d6a9f", "timed out or crashed": "#00798c", "grader error": "#30343f"}
FLAG_COLORS = {"timed out": "#00798c", "crashed": "#003d5b", "missing function": "#8d6a9f",
               "tampered": "#d1495b", "malformed": "#b5651d", "grader error": "#30343f",
               "not graded": "#b5651d"}
BAR = "#4c72b0"
GREY = "#59636e"
SLOW_ROWS = 10
SIMILAR_ROWS = 10  # pairs listed below the threshold, for scale
SIDE_BY_SIDE = 20  # flagged pairs shown side by side
MAX_LABEL = 64

CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
       margin: 0; background: #f6f8fa; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #d0d7de; }
.sub { color: #59636e; margin: 0 0 18px; }
.tiles { display: flex; flex-wrap: wrap; gap: 10px; }
.tile { flex: 1 1 0; background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 10px 14px;
        min-width: 110px; }
.tile b { display: block; font-size: 24px; }
.tile span { color: #59636e; font-size: 13px; }
.tile.warn b { color: #b42318; }
section { background: #fff; border: 1px solid #d0d7de; border-radius: 8px; padding: 4px 20px 18px;
          margin-top: 20px; }
section h2 { border: none; margin-top: 14px; }
img.plot { max-width: 100%; height: auto; display: block; margin: 8px 0; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #eaeef2; vertical-align: top; }
th { background: #f6f8fa; font-weight: 600; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
code { font: 12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f6f8fa;
       padding: 1px 4px; border-radius: 4px; word-break: break-word; }
.id { color: #59636e; font-size: 12px; }
td.student code, td.causes { white-space: nowrap; }
td.causes { font-size: 13px; }
.chip { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
.badge { display: inline-block; color: #fff; border-radius: 10px; padding: 1px 8px; font-size: 12px;
         margin: 1px 4px 1px 0; white-space: nowrap; }
.rate { background: #eaeef2; border-radius: 3px; height: 10px; width: 110px; display: inline-block;
        vertical-align: middle; margin-right: 6px; }
.rate i { display: block; height: 10px; border-radius: 3px; background: #d1495b; }
ul.reasons { margin: 0; padding-left: 18px; }
.ok { color: #1a7f37; }
.muted { color: #59636e; }
details summary { cursor: pointer; color: #0969da; margin: 10px 0; }
.pair { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 10px; }
.pair pre { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f6f8fa;
            border: 1px solid #d0d7de; border-radius: 6px; padding: 8px; overflow-x: auto; margin: 4px 0;
            max-height: 640px; }
.pair mark { background: #ffd8a8; }
.pair h3 { font-size: 14px; margin: 6px 0 0; }
tr.flag td { background: #fff4e5; }
footer { color: #59636e; font-size: 13px; margin-top: 28px; }
"""


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def _mpl(text: str, limit: int = MAX_LABEL) -> str:
    """Text for a matplotlib label: no mathtext from ``$`` signs, and at most ``limit`` characters."""
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[:limit - 1] + "\u2026"
    return text.replace("$", r"\$")


def _png(fig: Figure) -> str:
    """An ``<img>`` holding the figure as a base64 PNG."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img class="plot" alt="{escape(str(fig.get_label()))}" src="data:image/png;base64,{data}">'


def _figure(label: str, height: float) -> Figure:
    fig = Figure(figsize=(9.5, height), layout="constrained")
    fig.set_label(label)
    return fig


def score_histogram(report: ClassReport) -> str:
    """A histogram of the class's scores, with the median marked."""
    scores = [r.total for r in report.submitted if r.total is not None]
    top = report.max_score or max(scores, default=1.0)
    fig = _figure("score histogram", 3.4)
    ax = fig.add_subplot()
    bins = [i - 0.5 for i in range(math.ceil(top) + 2)] if top <= 60 else [top * i / 20 for i in range(21)]
    ax.hist(scores, bins=bins, color=BAR, edgecolor="white")
    if scores:
        med = statistics.median(scores)
        ax.axvline(med, color="#d1495b", linestyle="--", linewidth=1.5, label=f"median {med:g}")
        ax.legend(frameon=False)
    ax.set_xlim(-0.5 if top <= 60 else 0, top + (0.5 if top <= 60 else 0))
    ax.set_xlabel(f"score (out of {top:g})")
    ax.set_ylabel("submissions")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def failure_chart(checks: tuple[CheckStats, ...]) -> str:
    """Horizontal bars: each check's failure rate, split by cause, most failed on top."""
    fig = _figure("failure rate per check", 0.32 * len(checks) + 1.1)
    ax = fig.add_subplot()
    labels = [_mpl(c.title, MAX_LABEL - len(c.part) - 3) + f" ({_mpl(c.part)})" for c in checks]
    ys = list(range(len(checks)))
    left = [0.0] * len(checks)
    for cause in CAUSE_ORDER:
        widths = [100.0 * dict(c.causes).get(cause, 0) / c.ran if c.ran else 0.0 for c in checks]
        if any(widths):
            ax.barh(ys, widths, left=left, color=CAUSE_COLORS[cause], label=cause, height=0.7)
            left = [a + b for a, b in zip(left, widths)]
    ax.set_yticks(ys, labels, fontsize=9)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("submissions failing the check (%)")
    ax.spines[["top", "right"]].set_visible(False)
    if any(c.failed for c in checks):
        ax.legend(frameon=False, fontsize=9, loc="lower right")
    return _png(fig)


def time_chart(report: ClassReport) -> str:
    """Grading time per submission: one bar each (slowest on top) for small classes, else a histogram."""
    rows = sorted((r for r in report.graded if r.seconds is not None), key=lambda r: -(r.seconds or 0.0))
    secs = [r.seconds or 0.0 for r in rows]
    if len(rows) <= 50:
        fig = _figure("grading time per submission", 0.26 * len(rows) + 1.1)
        ax = fig.add_subplot()
        colors = ["#00798c" if any(f.category == "timed out" for f in r.flags) else BAR for r in rows]
        ax.barh(range(len(rows)), secs, color=colors, height=0.7)
        ax.set_yticks(range(len(rows)), [_mpl(r.student) for r in rows], fontsize=9)
        ax.invert_yaxis()
        ax.set_xlabel("seconds (teal: a check or cell timed out)")
    else:
        fig = _figure("grading time per submission", 3.2)
        ax = fig.add_subplot()
        ax.hist(secs, bins=30, color=BAR, edgecolor="white")
        ax.set_xlabel("seconds per submission")
        ax.set_ylabel("submissions")
    ax.spines[["top", "right"]].set_visible(False)
    return _png(fig)


def _badges(row: StudentRow) -> str:
    cats = dict.fromkeys(f.category for f in row.flags)
    return "".join(f'<span class="badge" style="background:{FLAG_COLORS.get(c, GREY)}">{escape(c)}</span>'
                   for c in cats)


def _student_cell(row: StudentRow) -> str:
    return f'<td class="student"><code>{escape(row.student)}</code></td>'


def _tile(value: str, label: str, warn: bool = False) -> str:
    css = "tile warn" if warn else "tile"
    return f'<div class="{css}"><b>{escape(value)}</b><span>{escape(label)}</span></div>'


def _summary(report: ClassReport) -> str:
    scores = [r.total for r in report.submitted if r.total is not None]
    not_graded = sum(r.status == "not graded" for r in report.rows)
    manual = sum(r.needs_manual_grade for r in report.rows)
    tiles = [
        _tile(str(len(report.submitted)), "submissions"),
        _tile(str(len(report.graded)), "graded by nngrade"),
        _tile(f"{statistics.mean(scores):.1f}" if scores else "-", f"mean score / {report.max_score:g}"),
        _tile(f"{statistics.median(scores):g}" if scores else "-", "median score"),
        _tile(str(len(report.flagged)), "need a person", warn=bool(report.flagged)),
        _tile(str(not_graded), "not graded", warn=bool(not_graded)),
        _tile(str(manual), "await manual grading"),
    ]
    return f'<div class="tiles">{"".join(tiles)}</div>'


def _flagged_section(report: ClassReport) -> str:
    flagged = report.flagged
    if not flagged:
        return ('<p class="ok">No submission needs a person: nothing crashed, timed out or was '
                "tampered with.</p>")
    rows = []
    for r in flagged:
        reasons = "".join(f"<li><b>{escape(f.category)}</b>: {escape(f.reason)}</li>" for f in r.flags)
        score = f"{_fmt(r.total)} / {r.max_score:g}" if r.total is not None else "-"
        rows.append(f"<tr>{_student_cell(r)}<td class=\"num\">{escape(score)}</td>"
                    f'<td>{_badges(r)}</td><td><ul class="reasons">{reasons}</ul></td></tr>')
    return ("<p>Open these in formgrader (or <code>autograded/&lt;student&gt;/</code>) before releasing "
            "grades; their score may not reflect their work.</p>"
            '<table><tr><th>student</th><th class="num">score</th><th>flags</th><th>reasons</th></tr>'
            + "".join(rows) + "</table>")


def _checks_table(checks: tuple[CheckStats, ...]) -> str:
    rows = []
    for i, c in enumerate(checks, 1):
        pct = 100.0 * c.rate
        causes = "<br>".join(f'<span class="chip" style="background:{CAUSE_COLORS.get(name, GREY)}"></span>'
                             f"{escape(name)} {n}" for name, n in c.causes) or '<span class="muted">-</span>'
        msg = escape(c.common_message[:220] + ("..." if len(c.common_message) > 220 else ""))
        rows.append(
            f'<tr><td class="num">{i}</td>'
            f'<td>{escape(c.title)}<br><span class="id">{escape(c.check_id)}</span></td>'
            f'<td class="num">{c.failed} / {c.ran}</td>'
            f'<td class="num"><span class="rate"><i style="width:{pct:.0f}%"></i></span>{pct:.0f}%</td>'
            f'<td class="causes">{causes}</td><td>{f"<code>{msg}</code>" if msg else ""}</td></tr>')
    return ('<table><tr><th class="num">#</th><th>check</th><th class="num">failed</th>'
            '<th class="num">rate</th><th>cause</th><th>most common message</th></tr>'
            + "".join(rows) + "</table>")


def _time_section(report: ClassReport) -> str:
    secs = sorted(r.seconds for r in report.graded if r.seconds is not None)
    if not secs:
        return '<p class="muted">No grading times recorded.</p>'
    p90 = secs[min(len(secs) - 1, round(0.9 * (len(secs) - 1)))]
    line = (f"<p>The engine's wall-clock time per submission (running the notebook in its sandbox, then the "
            f"hidden checks; the first submission of a run also starts the sandbox): median "
            f"{statistics.median(secs):.2f} s, 90th percentile {p90:.2f} s, slowest {secs[-1]:.2f} s, "
            f"{sum(secs):.1f} s in all ({len(secs)} submissions).</p>")
    slow = sorted((r for r in report.graded if r.seconds is not None), key=lambda r: -(r.seconds or 0.0))
    rows = []
    for r in slow[:SLOW_ROWS]:
        top = report.slowest.get(r.student)
        check = (f"{escape(top.title)} <span class=\"id\">{escape(top.check_id)}, {top.seconds:.2f} s</span>"
                 if top else "")
        in_checks = f"{top.checks_seconds:.2f}" if top else ""
        rows.append(f'<tr>{_student_cell(r)}<td class="num">{r.seconds:.2f}</td>'
                    f'<td class="num">{in_checks}</td><td>{check}</td><td>{_badges(r)}</td></tr>')
    return (line + time_chart(report) + f"<p>The {min(SLOW_ROWS, len(slow))} slowest:</p>"
            '<table><tr><th>student</th><th class="num">seconds</th><th class="num">in checks</th>'
            "<th>slowest check</th><th>flags</th></tr>"
            + "".join(rows) + "</table>")


def _students_table(report: ClassReport) -> str:
    rows = []
    for r in report.rows:
        score = f"{_fmt(r.total)} / {r.max_score:g}" if r.total is not None else "-"
        secs = "" if r.seconds is None else f"{r.seconds:.2f}"
        failed = ", ".join(r.failed_checks)
        rows.append(f"<tr>{_student_cell(r)}<td>{escape(r.status)}</td>"
                    f'<td class="num">{escape(score)}</td><td class="num">{secs}</td>'
                    f'<td>{"yes" if r.needs_manual_grade else ""}</td><td>{_badges(r)}</td>'
                    f'<td><span class="id">{escape(failed)}</span></td></tr>')
    return (f"<details><summary>All {len(report.rows)} students</summary>"
            '<table><tr><th>student</th><th>status</th><th class="num">score</th><th class="num">seconds</th>'
            "<th>manual</th><th>flags</th><th>failed checks</th></tr>" + "".join(rows) + "</table></details>")


def _marked(code: str, spans: tuple[tuple[int, int], ...]) -> str:
    """``code`` escaped, with the shared spans in ``<mark>``."""
    out, at = [], 0
    for start, end in sorted(spans):
        start, end = max(start, at), min(end, len(code))
        if end <= start:
            continue
        out.append(escape(code[at:start]) + "<mark>" + escape(code[start:end]) + "</mark>")
        at = end
    out.append(escape(code[at:]))
    return "".join(out)


def side_by_side(pair: SimilarPair, open_: bool = False) -> str:
    """Both submissions' solution code in two columns, the code they share highlighted."""
    head = (f"<code>{escape(pair.first)}</code> and <code>{escape(pair.second)}</code>: "
            f"{100 * pair.score:.0f}% similar")
    cols = "".join(
        f"<div><h3><code>{escape(who)}</code>: {100 * share:.0f}% of its code is in the other</h3>"
        f"<pre>{_marked(code, spans)}</pre></div>"
        for who, share, code, spans in ((pair.first, pair.first_share, pair.first_code, pair.first_spans),
                                        (pair.second, pair.second_share, pair.second_code, pair.second_spans)))
    return f'<details{" open" if open_ else ""}><summary>{head}</summary><div class="pair">{cols}</div></details>'


def _similarity_section(sim: SimilarityReport) -> str:
    flagged = sim.flagged
    shown = list(flagged) + [p for p in sim.pairs if not p.flagged][:SIMILAR_ROWS]
    intro = (f"<p>Solution code of every pair of submissions, compared with copydetect (winnowed fingerprints; "
             f"names, comments and the order of functions do not matter) after removing the release's starter "
             f"code. A pair is flagged when one side shares at least {100 * sim.threshold:.0f}% of its code with "
             f"the other. {len(sim.pairs)} pairs compared, <b>{len(flagged)} flagged</b>. A flag asks a person "
             "to read both notebooks; it proves nothing by itself.</p>")
    if not sim.pairs:
        return intro + '<p class="muted">Fewer than two submissions with code of their own.</p>'
    rows = []
    for i, p in enumerate(shown, 1):
        pct = 100 * p.score
        rows.append(f'<tr class="{"flag" if p.flagged else ""}"><td class="num">{i}</td>'
                    f"<td><code>{escape(p.first)}</code></td><td><code>{escape(p.second)}</code></td>"
                    f'<td class="num"><span class="rate"><i style="width:{pct:.0f}%"></i></span>{pct:.0f}%</td>'
                    f'<td class="num">{100 * p.first_share:.0f}% / {100 * p.second_share:.0f}%</td>'
                    f'<td>{"flagged" if p.flagged else ""}</td></tr>')
    table = ('<table><tr><th class="num">#</th><th>student</th><th>student</th><th class="num">similarity</th>'
             '<th class="num">shares</th><th></th></tr>' + "".join(rows) + "</table>")
    if flagged:
        views = "".join(side_by_side(p, open_=(i == 0)) for i, p in enumerate(flagged[:SIDE_BY_SIDE]))
    else:
        views = ('<p class="ok">No pair reaches the threshold. The most similar pair, for comparison:</p>'
                 + side_by_side(sim.pairs[0]))
    skipped = ""
    if sim.skipped:
        skipped = ('<p class="muted">Not compared: ' + "; ".join(
            f"<code>{escape(s)}</code> ({escape(why)})" for s, why in sim.skipped) + "</p>")
    return intro + table + views + skipped


def render_html(report: ClassReport, csv_name: str = "") -> str:
    """The whole page: summary, submissions needing a person, scores, checks by failure rate, timing,
    and pairs of submissions with similar solution code (side by side)."""
    aid = escape(report.assignment)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    source = ("the gradebook (autograded and manual grades, late penalties applied)" if report.has_gradebook
              else "the autograded points (no gradebook found)")
    beside = f" with <code>{escape(csv_name)}</code> beside it (one row per student)" if csv_name else ""
    checks = report.checks
    failing = [c for c in checks if c.failed]
    check_part = (failure_chart(checks) + _checks_table(checks) if checks
                  else '<p class="muted">No per-check results recorded.</p>')
    similar = ("" if report.similarity is None else
               f"<section><h2>Similar solution code</h2>{_similarity_section(report.similarity)}</section>")
    body = f"""
<h1>{aid}: class report</h1>
<p class="sub">{len(report.rows)} students &middot; course <code>{escape(str(report.course_root))}</code>
&middot; generated {when}</p>
{_summary(report)}
<section><h2>Submissions that need a person</h2>{_flagged_section(report)}</section>
<section><h2>Scores</h2><p>From {source}; the dashed line is the median.</p>
{score_histogram(report)}</section>
<section><h2>Checks by failure rate</h2>
<p>Which mistakes the class makes: each hidden check (all its cases together), most failed first.
{len(failing)} of {len(checks)} checks failed for at least one submission. A submission counts for a
check when its suite ran that check; whole parts lost to a crash or a deleted cell are flags above.</p>
{check_part}</section>
<section><h2>Grading time per submission</h2>{_time_section(report)}</section>
{similar}
{_students_table(report)}
<footer>Made by <code>nngrade report {aid}</code>{beside}.</footer>
"""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{aid} class report</title><style>{CSS}</style></head>"
            f"<body><main>{body}</main></body></html>\n")
