"""Terminal output of results (rich tables; plain text when not on a terminal)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from autograder.engine.results import SubmissionResult


def print_result(result: SubmissionResult, console: Console | None = None) -> None:
    """A per-check table of one submission."""
    console = console or Console()
    table = Table(title=f"{result.assignment} {result.student}: {result.score:g} / {result.max_score:g}",
                  show_lines=False)
    table.add_column("part")
    table.add_column("check")
    table.add_column("points", justify="right")
    table.add_column("message")
    for part in result.parts:
        for c in part.checks:
            mark = "[green]PASS[/]" if c.passed else "[red]FAIL[/]"
            title = c.title + (f" [{c.case}]" if c.case else "")
            msg = "" if c.passed else c.message + (f"\nhint: {c.hint}" if c.hint else "")
            table.add_row(part.part, f"{mark} {title}", f"{c.points:g}/{c.max_points:g}", msg,
                          end_section=c is part.checks[-1])
    console.print(table, markup=True)
    console.print(f"isolation: {result.isolation}   device: {result.device}   time: {result.seconds:.2f} s")
    if result.limits:
        console.print(f"limits: {result.limits}")
    if result.error:
        console.print(f"[red]error:[/] {result.error}")
    for note in result.notes:
        console.print(f"note: {note}")
