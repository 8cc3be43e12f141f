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
mutants is graded in parallel with :func:`autograder.batch.grade_batch` in a temporary course
copy, and a mutant is *caught* when it loses any point. Survivors are listed for a person to
judge: an equivalent mutant (it computes the same thing), or a gap in the suite.

Why not mutmut or cosmic-ray: both mutate source files on disk and judge each mutant by running a
test command (pytest) against the package. Here the code under test is functions inside a
notebook's cells, graded by the engine in a sandboxed student process, and a mutant is judged by
its score; neither tool can mutate notebook cells or report through the engine's results.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat.notebooknode import NotebookNode

from autograder.assignment import nbgrader_meta
from autograder.batch import BatchItem, Job, grade_batch
from autograder.config import GraderConfig
from autograder.engine import GRADER
from autograder.errors import NNGradeError
from autograder.mutants import Mutant

LIMIT = 12  # mutants per function (taken from the kinds in turn)
KINDS = ("comparison", "operator", "constant", "statement", "boolean")

_BINOPS: dict[type, type] = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
                             ast.FloorDiv: ast.Div, ast.Pow: ast.Mult, ast.MatMult: ast.Mult, ast.Mod: ast.FloorDiv}
_CMPOPS: dict[type, type] = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
                             ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is,
                             ast.In: ast.NotIn, ast.NotIn: ast.In}
_SYMBOLS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Pow: "**",
            ast.MatMult: "@", ast.Mod: "%", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
            ast.Eq: "==", ast.NotEq: "!=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
            ast.And: "and", ast.Or: "or"}


@dataclass(frozen=True)
class FunctionMutant:
    """One automatic mistake in one function of the answer key.

    Attributes:
        function: ``name`` or ``Class.method``.
        kind: one of :data:`KINDS`.
        line: the line in the function (1 = its ``def`` line).
        description: what changed, e.g. ``z >= 0 -> z > 0``.
        target: the top-level definition the mutant replaces (the function, or its class).
        source: the new source of ``target``.
    """

    function: str
    kind: str
    line: int
    description: str
    target: str
    source: str

    @property
    def name(self) -> str:
        digest = hashlib.sha256(self.source.encode()).hexdigest()[:8]
        return f"{self.function}#{self.kind}@{self.line}:{digest}"

    def as_known_wrong(self) -> Mutant:
        return Mutant(self.name, self.description, set(), replace={self.target: self.source})


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


# --- the mutator -------------------------------------------------------------------------------

_Site = tuple[str, int, Callable[[ast.AST], tuple[str, int]]]  # kind, node index, transform -> (description, line)


def _text(node: ast.AST, limit: int = 60) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _body_nodes(func: ast.FunctionDef | ast.AsyncFunctionDef) -> Iterator[ast.AST]:
    """Every node of the function's body (not its signature or decorators), in a fixed order."""
    for stmt in func.body:
        yield from ast.walk(stmt)


def _docstring(func: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST | None:
    first = func.body[0] if func.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first
    return None


def _new_constant(value: object) -> object | None:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return 0 if value == 1 else value + 1
    if isinstance(value, float):
        return 1.0 if value == 0.0 else value * 2
    return None


def _sites(func: ast.FunctionDef | ast.AsyncFunctionDef) -> list[_Site]:
    """Every place the mutator can change, with how."""
    nodes = list(_body_nodes(func))
    doc = _docstring(func)
    sites: list[_Site] = []

    def binop(node: ast.AST) -> tuple[str, int]:
        assert isinstance(node, (ast.BinOp, ast.AugAssign))
        before = _text(node)
        node.op = _BINOPS[type(node.op)]()
        return f"{before} -> {_text(node)}", node.lineno

    def cmpop(i: int) -> Callable[[ast.AST], tuple[str, int]]:
        def run(node: ast.AST) -> tuple[str, int]:
            assert isinstance(node, ast.Compare)
            before = _text(node)
            node.ops[i] = _CMPOPS[type(node.ops[i])]()
            return f"{before} -> {_text(node)}", node.lineno
        return run

    def boolop(node: ast.AST) -> tuple[str, int]:
        assert isinstance(node, ast.BoolOp)
        before = _text(node)
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        return f"{before} -> {_text(node)}", node.lineno

    def unary(node: ast.AST) -> tuple[str, int]:
        assert isinstance(node, ast.UnaryOp)
        before = _text(node)
        if isinstance(node.op, ast.USub):
            node.op = ast.UAdd()  # `-x` -> `+x`
        else:
            node.operand = ast.UnaryOp(op=ast.Not(), operand=node.operand)  # `not x` -> `not not x`: x's truth
        return f"{before} -> {_text(node)}", node.lineno

    def constant(node: ast.AST) -> tuple[str, int]:
        assert isinstance(node, ast.Constant)
        before = repr(node.value)
        node.value = _new_constant(node.value)  # type: ignore[assignment]
        return f"{before} -> {node.value!r}", node.lineno

    for index, node in enumerate(nodes):
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _BINOPS:
            sites.append(("operator", index, binop))
        elif isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                if type(op) in _CMPOPS:
                    sites.append(("comparison", index, cmpop(i)))
        elif isinstance(node, ast.BoolOp):
            sites.append(("boolean", index, boolop))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
            sites.append(("boolean", index, unary))
        elif (isinstance(node, ast.Constant) and node is not getattr(doc, "value", None)
              and _new_constant(node.value) is not None):
            sites.append(("constant", index, constant))
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if not isinstance(stmts, list):
                continue
            for j, stmt in enumerate(stmts):
                if stmt is doc or isinstance(stmt, (ast.Return, ast.Pass, ast.Import, ast.ImportFrom,
                                                    ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
                                                    ast.Global, ast.Nonlocal)):
                    continue
                sites.append(("statement", index, _remover(field, j)))
    for j, stmt in enumerate(func.body):  # the function's own top-level statements
        if stmt is doc or isinstance(stmt, (ast.Return, ast.Pass, ast.Import, ast.ImportFrom, ast.FunctionDef,
                                            ast.AsyncFunctionDef, ast.ClassDef, ast.Global, ast.Nonlocal)):
            continue
        sites.append(("statement", -1, _remover("body", j)))
    return sites


def _remover(field: str, j: int) -> Callable[[ast.AST], tuple[str, int]]:
    def run(node: ast.AST) -> tuple[str, int]:
        stmts = getattr(node, field)
        removed = stmts[j]
        stmts[j] = ast.copy_location(ast.Pass(), removed)
        return f"removed: {_text(removed)}", removed.lineno
    return run


def _pick(sites: list[_Site], limit: int) -> list[_Site]:
    """At most ``limit`` sites, the kinds taken in turn, each kind's sites spread over the function."""
    by_kind = {k: [s for s in sites if s[0] == k] for k in KINDS}
    picked: list[_Site] = []
    rounds = 0
    while len(picked) < limit and any(len(v) > rounds for v in by_kind.values()):
        for kind in KINDS:
            group = by_kind[kind]
            if rounds < len(group) and len(picked) < limit:
                picked.append(group[rounds])
        rounds += 1
    return picked


def _spread(group: list[_Site]) -> list[_Site]:
    """A kind's sites in an order that alternates ends (first, last, second, second to last...)."""
    out: list[_Site] = []
    lo, hi = 0, len(group) - 1
    while lo <= hi:
        out.append(group[lo])
        if hi != lo:
            out.append(group[hi])
        lo, hi = lo + 1, hi - 1
    return out


def mutate_function(func: ast.FunctionDef | ast.AsyncFunctionDef, limit: int = LIMIT
                    ) -> list[tuple[str, int, str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Mutants of one function: (kind, line in the function, description, mutated copy).

    Mutants whose code is the same as the original's (after ``ast.unparse``) are dropped.
    """
    sites = _sites(func)
    by_kind = {k: _spread([s for s in sites if s[0] == k]) for k in KINDS}
    ordered = [s for k in KINDS for s in by_kind[k]]
    original = ast.unparse(func)
    out: list[tuple[str, int, str, ast.FunctionDef | ast.AsyncFunctionDef]] = []
    seen = {original}
    for kind, index, transform in _pick(ordered, len(ordered)):
        if len(out) >= limit:
            break
        mutant = copy.deepcopy(func)
        node: ast.AST = mutant if index < 0 else list(_body_nodes(mutant))[index]
        description, lineno = transform(node)
        ast.fix_missing_locations(mutant)
        code = ast.unparse(mutant)
        if code in seen:
            continue
        seen.add(code)
        line = lineno - func.lineno + 1
        out.append((kind, line, description, mutant))
    return out


def key_functions(nb: NotebookNode) -> list[tuple[str, str, ast.FunctionDef | ast.AsyncFunctionDef, ast.AST]]:
    """(function name, top-level definition name, function node, top-level node) in the solution cells."""
    found: list[tuple[str, str, ast.FunctionDef | ast.AsyncFunctionDef, ast.AST]] = []
    for cell in nb.cells:
        if cell.get("cell_type") != "code" or not nbgrader_meta(cell).get("solution"):
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append((node.name, node.name, node, node))
            elif isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        found.append((f"{node.name}.{item.name}", node.name, item, node))
    return found


def make_mutants(answer_key: NotebookNode, limit: int = LIMIT, only: set[str] | None = None
                 ) -> list[FunctionMutant]:
    """Up to ``limit`` mutants of every answer-key function (or only those named in ``only``)."""
    out = []
    for name, target, func, top in key_functions(answer_key):
        if only and name not in only and name.split(".")[0] not in only:
            continue
        for kind, line, description, mutated in mutate_function(func, limit):
            if top is func:
                source = ast.unparse(mutated)
            else:  # a method: the whole class with this method replaced
                cls = copy.deepcopy(top)
                assert isinstance(cls, ast.ClassDef)
                cls.body = [mutated if (isinstance(m, (ast.FunctionDef, ast.AsyncFunctionDef))
                                        and m.name == func.name) else m for m in cls.body]
                source = ast.unparse(cls)
            out.append(FunctionMutant(name, kind, line, description, target, source))
    return out


# --- grading -------------------------------------------------------------------------------------

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
    from autograder.demo import make_course

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
    table = Table(title=f"{report.assignment}: mutation score {report.caught}/{report.made - sum(f.not_graded for f in report.functions)} "
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
