"""Mutation score of a hidden suite: small automatic mistakes in the answer key, and which ones it catches.

Each function of the answer key's solution cells (top-level functions, and the methods of
top-level classes) is mutated one site at a time by a small AST mutator:

- ``operator``: ``+``/``-``, ``*``/``/``, ``//`` to ``/``, ``**`` to ``*``, ``@`` to ``*``;
- ``comparison``: ``<``/``<=``, ``>``/``>=``, ``==``/``!=``, ``is``/``is not``, ``in``/``not in``;
- ``boolean``: ``and``/``or``, ``not x`` to ``x``, ``-x`` to ``x``;
- ``constant``: a number ``n`` to ``n + 1`` (``0.0`` to ``1.0``, ``1`` to ``0``, a float ``f`` to ``2f``),
  ``True``/``False``;
- ``statement``: one statement replaced by ``pass`` (never a ``return``, a docstring, an import or
  a nested definition).

At most ``limit`` mutants per function are kept, taken from the kinds in turn so that each kind
is represented. Every mutant is the answer key with that one function replaced; the class of
mutants is graded in parallel with :func:`autograder.integrations.batch.grade_batch` in a temporary course
copy, and a mutant is *caught* when it loses any point. Survivors are listed for a person to
judge: an equivalent mutant (it computes the same thing), or a gap in the suite.

Why not mutmut or cosmic-ray: both mutate source files on disk and judge each mutant by running a
test command (pytest) against the package. Here the code under test is functions inside a
notebook's cells, graded by the engine in a sandboxed student process, and a mutant is judged by
its score; neither tool can mutate notebook cells or report through the engine's results.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat

from autograder.authoring.mutators import LIMIT, FunctionMutant, make_mutants
from autograder.config import GraderConfig
from autograder.engine.grade import GRADER
from autograder.errors import NNGradeError
from autograder.integrations.batch import BatchItem, Job, grade_batch
from autograder.integrations.generate import make_course


@dataclass(frozen=True)
class Outcome:
    """A graded mutant: caught when it lost points."""

    mutant: FunctionMutant
    caught: bool
    score: float
    max_score: float
    failed: tuple[str, ...]
    error: str = ""  # the grader could not grade it (not counted)


@dataclass(frozen=True)
class FunctionScore:
    """How many of one function's mutants the suite caught, and the survivors."""

    function: str
    made: int
    caught: int
    survivors: tuple[FunctionMutant, ...]
    not_graded: int = 0

    @property
    def score(self) -> float:
        graded = self.made - self.not_graded
        return self.caught / graded if graded else 1.0


@dataclass(frozen=True)
class MutationReport:
    """The mutation score of one assignment's suite."""

    assignment: str
    functions: tuple[FunctionScore, ...]
    outcomes: tuple[Outcome, ...]
    seconds: float

    @property
    def made(self) -> int:
        return sum(f.made for f in self.functions)

    @property
    def caught(self) -> int:
        return sum(f.caught for f in self.functions)

    @property
    def score(self) -> float:
        graded = self.made - sum(f.not_graded for f in self.functions)
        return self.caught / graded if graded else 1.0




def mutation_config(config: GraderConfig) -> GraderConfig:
    """Shorter limits for mutants (one that loops forever should cost seconds, not minutes)."""
    return config.replace(call_timeout=min(config.call_timeout, 10.0), cell_timeout=min(config.cell_timeout, 30.0),
                          grading_timeout=min(config.grading_timeout, 180.0))


def run_mutation(course_root: Path, assignment_id: str, config: GraderConfig, *, limit: int = LIMIT,
                 workers: int = 1, only: set[str] | None = None,
                 on_done: Callable[[BatchItem], None] | None = None) -> MutationReport:
    """Make the mutants of an assignment's answer key, grade them in parallel, and score the suite.

    They are graded in a temporary copy of the course (nothing is written into the course).

    Raises:
        NNGradeError: no answer key, no functions to mutate, or a suite ``nngrade validate`` has not proved.
    """
    key_path = course_root / "solutions" / assignment_id / f"{assignment_id}.ipynb"
    if not key_path.is_file():
        raise NNGradeError(f"no answer key at {key_path} (run `nngrade generate {assignment_id}`)")
    key = nbformat.read(str(key_path), as_version=4)
    mutants = make_mutants(key, limit, only)
    if not mutants:
        raise NNGradeError(f"{assignment_id}: no function to mutate in the answer key's solution cells"
                           + (f" named {', '.join(sorted(only))}" if only else ""))
    jobs, by_job = [], {}
    for i, mutant in enumerate(mutants):
        try:
            nb = mutant.as_known_wrong().apply(key)
        except NNGradeError:
            continue
        job = Job(f"m{i:04d}", assignment_id, nbformat.writes(nb))
        jobs.append(job)
        by_job[job.student] = mutant
    started = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="nngrade-mutation-"))
    try:
        make_course(course_root, tmp, [assignment_id])
        items = grade_batch(tmp, mutation_config(config), jobs, workers=workers, on_done=on_done)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    outcomes = []
    for item in items:
        res = item.graded.result
        error = (res.error or "a grader failure") if item.graded.cause == GRADER else ""
        outcomes.append(Outcome(by_job[item.job.student], not error and res.score < res.max_score - 1e-9,
                                res.score, res.max_score, tuple(sorted(res.failed_checks())), error))
    return MutationReport(assignment_id, _scores(outcomes), tuple(outcomes), time.perf_counter() - started)


def _scores(outcomes: list[Outcome]) -> tuple[FunctionScore, ...]:
    order: dict[str, list[Outcome]] = {}
    for o in outcomes:
        order.setdefault(o.mutant.function, []).append(o)
    return tuple(FunctionScore(name, len(group), sum(o.caught for o in group),
                               tuple(o.mutant for o in group if not o.caught and not o.error),
                               sum(bool(o.error) for o in group))
                 for name, group in order.items())


def print_report(report: MutationReport, console: object = None) -> None:
    """Per function: mutants caught of those made; then every survivor, for a person to judge."""
    from rich.console import Console
    from rich.table import Table

    out = console if isinstance(console, Console) else Console()
    graded = report.made - sum(f.not_graded for f in report.functions)
    table = Table(title=f"{report.assignment}: mutation score {report.caught}/{graded} "
                        f"({100 * report.score:.0f}%) in {report.seconds:.0f} s")
    table.add_column("function", no_wrap=True)
    table.add_column("caught", justify="right")
    table.add_column("survivors", justify="right")
    for f in report.functions:
        graded = f.made - f.not_graded
        table.add_row(f.function, f"{f.caught}/{graded}", str(len(f.survivors))
                      + (f" ({f.not_graded} not graded)" if f.not_graded else ""))
    out.print(table)
    for f in report.functions:
        for m in f.survivors:
            out.print(f"[yellow]survived[/] {m.function} line {m.line} ({m.kind}): {m.description}",
                      highlight=False, markup=True)
    lost = [o for o in report.outcomes if o.error]
    for o in lost:
        out.print(f"[red]not graded[/] {o.mutant.function} ({o.mutant.description}): {o.error}", highlight=False)
