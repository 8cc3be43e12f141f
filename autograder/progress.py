"""Progress for batch commands: a rich bar on a terminal, one line per item otherwise."""

from __future__ import annotations

import sys
from typing import Iterable, Iterator, TypeVar

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

T = TypeVar("T")


def progress_steps(items: Iterable[T], label: str, mode: object = None) -> Iterator[T]:
    """Yield ``items`` while showing progress.

    ``mode`` None: a bar on a terminal, plain lines otherwise; False: nothing (quiet).
    """
    seq = list(items)
    if mode is False:
        yield from seq
        return
    if not sys.stderr.isatty():
        for i, item in enumerate(seq, 1):
            name = item[0] if isinstance(item, tuple) else item
            print(f"[{label}] {i}/{len(seq)} {name}", file=sys.stderr, flush=True)
            yield item
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=len(seq))
        for item in seq:
            yield item
            bar.advance(task)
