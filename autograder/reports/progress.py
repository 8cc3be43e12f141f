"""Progress for batch commands: a rich bar on a terminal, one line per item otherwise.

Two ways in, one bar:

- :func:`progress_steps` wraps a loop (``for item in progress_steps(items, label): ...``);
- :func:`progress_bar` is for work that reports back as it finishes (a pool's callback): it
  yields a function to call once per finished item.

:func:`bar_wanted` says whether a bar fits where the command runs.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

T = TypeVar("T")


def bar_wanted(quiet: bool = False) -> bool:
    """A bar is drawn on a terminal (stderr is one) unless the command was asked to be quiet."""
    return sys.stderr.isatty() and not quiet


@contextmanager
def progress_bar(total: int, description: str) -> Iterator[Callable[[], None]]:
    """A transient bar over ``total`` items, labelled ``description``, while the block runs.

    Yields:
        A function that advances the bar by one finished item; it may be called from any thread
        (rich's ``Progress`` takes its own lock).
    """
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)


def progress_steps(items: Iterable[T], label: str, mode: object = None) -> Generator[T, None, None]:
    """Yield ``items`` while showing progress.

    ``mode`` None: a bar on a terminal, plain lines otherwise; False: nothing (quiet).
    """
    seq = list(items)
    if mode is False:
        yield from seq
        return
    if not bar_wanted():
        for i, item in enumerate(seq, 1):
            name = item[0] if isinstance(item, tuple) else item
            print(f"[{label}] {i}/{len(seq)} {name}", file=sys.stderr, flush=True)
            yield item
        return
    with progress_bar(len(seq), label) as advance:
        for item in seq:
            yield item
            advance()
