"""The API that hidden suites are written against.

A hidden suite is a plain pytest file, ``autograder/suites/<assignment>/test_<part>.py``.
It runs in the trusted grader process and reaches the submission only through
the ``student`` fixture (see :mod:`autograder.sandbox.submission`). Every test carries
points and a hint with :func:`points`; its docstring's first line says what
was checked, and that is what the student reads in the report.

Failures are raised with the ``expect_*`` helpers below, whose messages say
what was checked, expected versus got, and never show hidden inputs when
``hidden=True``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pytest

from autograder.errors import (
    CheckFailure,
    MissingName,
    StudentCrashed,
    StudentError,
    StudentTimeout,
)

__all__ = [
    "CheckFailure",
    "MissingName",
    "StudentCrashed",
    "StudentError",
    "StudentTimeout",
    "expect",
    "expect_close",
    "expect_equal",
    "expect_shape",
    "expect_type",
    "fail",
    "points",
    "rel_error",
    "to_numpy",
]

F = TypeVar("F", bound=Callable[..., Any])


def points(value: float, hint: str, visibility: str = "visible",
           hint_names_solution: bool = False) -> Callable[[F], F]:
    """Give a test its points (per collected case) and the hint shown when it fails.

    Args:
        value: points per collected case.
        hint: shown when the check fails.
        visibility: who reads the check's result, Gradescope's four settings: ``visible``;
            ``hidden`` (nbgrader feedback shows its title and score only; Gradescope hides it);
            ``after_due_date``; ``after_published``.
        hint_names_solution: the hint gives the answer away: it is shown only after the due date.

    Example:
        @points(2, hint="The threshold fires at exactly zero: use `z >= 0`.", hint_names_solution=True)
        def test_step_at_zero(student): ...
    """
    from autograder.engine.results import VISIBILITIES

    if value <= 0:
        raise ValueError("points must be positive")
    if not hint.strip():
        raise ValueError("every check needs a hint")
    if visibility not in VISIBILITIES:
        raise ValueError(f"visibility must be one of {', '.join(VISIBILITIES)}, not {visibility!r}")
    return pytest.mark.nngrade(points=float(value), hint=hint.strip(), visibility=visibility,
                               hint_after_due=bool(hint_names_solution))


def fail(message: str) -> None:
    """Fail the current check with a student-facing message."""
    raise CheckFailure(message)


def expect(condition: bool, message: str) -> None:
    """Fail with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailure(message)


def _short(value: Any, limit: int = 160) -> str:
    if isinstance(value, (list, tuple)):
        with contextlib.suppress(TypeError):  # numpy scalars inside lists print as plain numbers
            value = type(value)(x.item() if isinstance(x, np.generic) else x for x in value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=6, threshold=20, edgeitems=3, linewidth=120):
            text = np.array2string(value, separator=", ")
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def to_numpy(value: Any) -> np.ndarray:
    """Turn a tensor, array, list or number into a NumPy array (tensors leave the graph)."""
    if hasattr(value, "detach") and hasattr(value, "cpu"):
        return np.asarray(value.detach().cpu().numpy())
    return np.asarray(value)


def rel_error(a: Any, b: Any) -> float:
    """Largest elementwise ``|a-b| / max(1e-8, |a|+|b|)`` (CS231n's relative error)."""
    a64 = to_numpy(a).astype(np.float64)
    b64 = to_numpy(b).astype(np.float64)
    if a64.size == 0 and b64.size == 0:
        return 0.0
    return float(np.max(np.abs(a64 - b64) / np.maximum(1e-8, np.abs(a64) + np.abs(b64))))


def expect_type(got: Any, types: type | tuple[type, ...], what: str) -> None:
    """Fail unless ``got`` is an instance of ``types``."""
    if not isinstance(got, types):
        names = " or ".join(t.__name__ for t in (types if isinstance(types, tuple) else (types,)))
        raise CheckFailure(f"{what}: expected a {names}, got {type(got).__name__}")


def expect_shape(got: Any, shape: tuple[int, ...], what: str) -> None:
    """Fail unless ``got`` (array or tensor) has exactly ``shape``."""
    got_shape = tuple(getattr(got, "shape", np.shape(got)))
    if got_shape != tuple(shape):
        raise CheckFailure(f"{what}: expected shape {tuple(shape)}, got {got_shape}")


def expect_equal(got: Any, expected: Any, what: str, *, hidden: bool = False) -> None:
    """Fail unless ``got`` equals ``expected`` exactly (arrays elementwise, shapes first).

    With ``hidden=True`` the message states the mismatch without either value,
    for cases whose inputs the student must not see.
    """
    if isinstance(expected, np.ndarray) or hasattr(expected, "detach"):
        exp = to_numpy(expected)
        try:
            arr = to_numpy(got)
        except Exception:
            raise CheckFailure(f"{what}: expected an array, got {type(got).__name__}") from None
        if arr.shape != exp.shape:
            raise CheckFailure(f"{what}: expected shape {exp.shape}, got {arr.shape}")
        if arr.dtype == object or not np.array_equal(arr, exp):
            if hidden:
                raise CheckFailure(f"{what}: values differ from the reference on a hidden case")
            raise CheckFailure(f"{what}: expected {_short(exp)}, got {_short(arr)}")
        return
    same = type(got) is type(expected) or (
        isinstance(got, (int, float, np.integer, np.floating))
        and isinstance(expected, (int, float, np.integer, np.floating))
        and not isinstance(got, bool)
    )
    if not same or got != expected:
        if hidden:
            raise CheckFailure(f"{what}: the value differs from the reference on a hidden case")
        raise CheckFailure(f"{what}: expected {_short(expected)}, got {_short(got)}")


def expect_close(
    got: Any,
    expected: Any,
    what: str,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    hidden: bool = False,
) -> None:
    """Fail unless ``got`` matches ``expected`` within ``atol + rtol * |expected|`` elementwise.

    Shapes are compared first; the message reports the largest relative error.
    """
    exp = to_numpy(expected).astype(np.float64)
    try:
        arr = to_numpy(got).astype(np.float64)
    except Exception:
        raise CheckFailure(f"{what}: expected numbers, got {type(got).__name__}") from None
    if arr.shape != exp.shape:
        raise CheckFailure(f"{what}: expected shape {exp.shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)) and np.all(np.isfinite(exp)):
        raise CheckFailure(f"{what}: got NaN or infinite values")
    if not np.allclose(arr, exp, rtol=rtol, atol=atol):
        err = rel_error(arr, exp)
        if hidden or exp.size > 1:
            detail = "" if hidden else f" (expected {_short(exp)}, got {_short(arr)})"
            raise CheckFailure(f"{what}: relative error {err:.2e} is above the tolerance{detail}")
        raise CheckFailure(f"{what}: expected {_short(float(exp))}, got {_short(float(arr))}")
