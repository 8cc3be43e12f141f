"""Automatic mistakes in an answer key: the AST mutator behind ``nngrade validate --mutation``.

Each function of the answer key's solution cells (top-level functions, and the methods of
top-level classes) is mutated one site at a time (the kinds are listed in
:mod:`autograder.authoring.mutation`); :func:`make_mutants` returns them as
:class:`FunctionMutant`, each the answer key with that one function replaced.
"""

from __future__ import annotations

import ast
import copy
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from nbformat.notebooknode import NotebookNode

from autograder.authoring.known_wrong import Mutant, code_cell_trees

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


# --- the mutation sites ---------------------------------------------------------------------

_Site = tuple[str, int, Callable[[ast.AST], tuple[str, int]]]  # kind, node index, transform -> (description, line)


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
    for _, tree in code_cell_trees(nb, solutions_only=True):
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
