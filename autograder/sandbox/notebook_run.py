"""One run of a notebook's cells in a student process: the cell protocol, as the grader drives it.

The grader sends ``RUN`` with the cells to run; the student reports ``CELL_START`` and
``CELL_DONE`` (with what the cell displayed) for each, in order, then ``OK``. Anything else,
in any other order, is a protocol violation that ends the process. Deadlines are absolute
(a cell's from its start, the notebook's from the run's start): frames that keep arriving
do not extend them. What a cell displayed is checked and capped here (display only; never
graded).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autograder.codes import Note, NoteCode
from autograder.config import GraderConfig
from autograder.errors import StudentCrashed, StudentTimeout
from autograder.sandbox.cell_outputs import keep
from autograder.sandbox.process import StudentProcess
from autograder.sandbox.runtime import protocol


@dataclass
class CellRun:
    """What one notebook cell did in the student process (display only; never graded)."""

    index: int
    outputs: list[Any] = field(default_factory=list)
    status: str = "ok"  # ok | error | timeout | crashed | skipped
    seconds: float = 0.0


Record = Callable[[int, Any, float], None]


class CellLoop:
    """Runs ``cells`` in ``proc`` and hands each finished cell to ``record``.

    Attributes:
        current: the index of the cell running (or about to run); None once all have run.
    """

    def __init__(self, proc: StudentProcess, cells: list[tuple[int, str]], config: GraderConfig,
                 grading_deadline: float) -> None:
        self.proc = proc
        self.cells = cells
        self.config = config
        self.order = [i for i, _ in cells]
        self.current: int | None = self.order[0] if self.order else None
        self.grading_deadline = grading_deadline

    def where(self) -> str:
        """The running cell, as messages name it."""
        return f"cell {self.current}" if self.current is not None else "your notebook"

    def run(self, record: Record) -> None:
        """Run every cell; return once the student says ``OK`` after the last.

        Raises:
            StudentTimeout: a cell, or the notebook, ran past its deadline (the process is killed).
            StudentCrashed: the process ended, or broke the protocol (it is killed).
        """
        proc, order, config = self.proc, self.order, self.config
        k, in_cell, cell_started = 0, False, 0.0
        now = time.monotonic()
        notebook_deadline = min(now + config.notebook_timeout, self.grading_deadline)
        cell_deadline = now + config.cell_timeout
        proc.send((protocol.RUN, list(self.cells)))
        while True:
            deadline = min(cell_deadline, notebook_deadline)
            timeout = max(0.01, deadline - time.monotonic())
            where = self.where()
            msg = proc.recv(timeout, where)
            kind = msg[0] if type(msg) is tuple and msg else None
            index = msg[1] if kind in (protocol.CELL_START, protocol.CELL_DONE) and len(msg) > 1 else None
            if kind == protocol.CELL_START and not in_cell and k < len(order) and index == order[k]:
                in_cell, cell_started = True, time.monotonic()
                cell_deadline = cell_started + config.cell_timeout
            elif kind == protocol.CELL_DONE and in_cell and index == order[k] and len(msg) == 3:
                record(order[k], msg[2], time.monotonic() - cell_started)
                in_cell, k = False, k + 1
                self.current = order[k] if k < len(order) else None
                cell_deadline = time.monotonic() + config.cell_timeout
            elif kind == protocol.OK and k == len(order):
                return
            else:
                proc.kill()
                raise StudentCrashed(where, "the process sent something the grader did not ask for")


def record_cell(cell_runs: dict[int, CellRun], index: int, outputs: Any, seconds: float, limit: int) -> None:
    """Keep what a cell displayed, checked and capped to ``limit`` bytes here (the student's caps are not
    trusted); a cell already recorded (by an earlier run) keeps its first record."""
    if index in cell_runs:
        return
    kept = keep(outputs, limit)
    status = "error" if any(o[0] == "error" for o in kept) else "ok"
    cell_runs[index] = CellRun(index, kept, status, seconds)


def skip_cell(cell_runs: dict[int, CellRun], index: int, exc: StudentTimeout | StudentCrashed) -> Note:
    """Record that cell ``index`` hung or ended its process and is skipped from now on; the note to add."""
    status = "timeout" if isinstance(exc, StudentTimeout) else "crashed"
    run = cell_runs.setdefault(index, CellRun(index))
    run.status = status
    run.outputs = [("error", "Timeout" if status == "timeout" else "ProcessDied",
                    str(exc) + "; this cell was skipped at grading", "")]
    what = f"ran past {exc.seconds:g} s" if isinstance(exc, StudentTimeout) else "ended the process"
    return Note(NoteCode.CELL_TIMED_OUT if status == "timeout" else NoteCode.CELL_CRASHED,
                f"cell {index} {what}; it was skipped and the notebook re-run without it")
