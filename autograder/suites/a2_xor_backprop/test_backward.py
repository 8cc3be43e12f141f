"""Hidden checks for `backward`.

Every gradient is compared with centred finite differences of the grader's own
float64 forward pass and loss, on networks of several shapes and batch sizes.
`backward` gets the cache from the student's own `forward`, whatever it holds.
Backprop is told from a numerical gradient by value, never by time: the
gradients must equal the grader's exact (extended-precision) backprop to 1e-13,
which float64 backprop meets with a margin of about 285x and every finite-
difference scheme measured misses by 46x or more (MARKING.md). The "no
autodiff" rule is observed in the student process while forward and backward
run (a profile hook, the notebook's names, sys.modules); that observation can
only fail a check, whose pass also needs correct gradients.
"""

import numpy as np
import pytest

from autograder.suites.a2_xor_backprop._reference import ref_backprop, ref_bce, ref_forward
from autograder.testing import expect, expect_type, fail, points

SEED = 2205
KEYS = ("W1", "b1", "W2", "b2")
GRAD_TOL = 1e-6          # _norm_rel_error of each parameter's gradient: ||a - b|| / max(1e-8, ||a|| + ||b||)
FD_STEP = 1e-5           # centred differences in float64: error about 1e-10, far below GRAD_TOL
CASES = [(2, 4, 1, 4), (3, 3, 1, 1), (5, 8, 2, 16), (4, 6, 2, 7), (2, 5, 1, 16), (5, 3, 2, 2)]

# Exactness: relative error (norm over each parameter) against the grader's analytic backprop in
# extended precision. Measured (benchmarks/thresholds.py a2; table in MARKING.md): float64 backprop
# written four ways 1.4e-16 to 3.5e-16; centred differences (h 1e-5, 1e-6) 1.7e-10 to 4.5e-9;
# fourth-order differences (h 2e-3, 5e-4) 4.6e-12 to 2.8e-11; backprop in float32 about 1e-7.
EXACT_TOL = 1e-13
EXACT_CASES = [(4, 6, 2, 7), (5, 8, 2, 16), (3, 5, 1, 12)]


def _ref_loss(params, X, y):
    """The grader's loss of ``params`` on ``(X, y)``."""
    return ref_bce(ref_forward(params, X)[1], y)


def _ref_numerical_grads(params, X, y):
    """Centred finite differences of the grader's loss, one parameter entry at a time."""
    grads = {}
    for key in KEYS:
        g = np.zeros_like(params[key])
        for i in np.ndindex(*params[key].shape):
            shifted = {k: v.copy() for k, v in params.items()}
            shifted[key][i] = params[key][i] + FD_STEP
            plus = _ref_loss(shifted, X, y)
            shifted[key][i] = params[key][i] - FD_STEP
            minus = _ref_loss(shifted, X, y)
            g[i] = (plus - minus) / (2 * FD_STEP)
        grads[key] = g
    return grads


def _case(seed, n_in, n_hidden, n_out, batch):
    rng = np.random.default_rng(seed)
    params = {"W1": rng.standard_normal((n_in, n_hidden)), "b1": 0.5 * rng.standard_normal(n_hidden),
              "W2": rng.standard_normal((n_hidden, n_out)), "b2": 0.5 * rng.standard_normal(n_out)}
    X = rng.standard_normal((batch, n_in))
    y = rng.integers(0, 2, size=(batch, n_out)).astype(np.float64)
    return params, X, y


def _norm_rel_error(a, b):
    """Relative error of two whole arrays: ``||a - b|| / max(1e-8, ||a|| + ||b||)`` (Frobenius norms).

    One number for a whole gradient, so a few tiny entries cannot dominate it; this is not
    ``autograder.testing.rel_error``, the largest elementwise relative error.
    """
    return float(np.linalg.norm(a - b) / max(1e-8, np.linalg.norm(a) + np.linalg.norm(b)))


def _student_grads(student, params, X, y, what):
    out = student.forward(params, X)
    expect(isinstance(out, (tuple, list)) and len(out) == 2,
           f"{what}: forward must return a pair (y_hat, cache)")
    grads = student.backward(params, out[1], y)
    expect_type(grads, dict, f"{what}: backward's result")
    missing = [k for k in KEYS if k not in grads]
    expect(not missing, f"{what}: backward's dict has no key {', '.join(repr(k) for k in missing)} "
           "(expected the keys of params: W1, b1, W2, b2)")
    return grads


def _factor_note(c, n, k, size):
    """Name a constant factor between a gradient and the true one (None when it says nothing)."""
    def near(x, target):
        return abs(x - target) <= 1e-3 * abs(target)

    if c == 0.0:
        return "it is all zeros"
    if near(c, -1.0):
        return "the sign is flipped (the gradient of -L: descent would climb)"
    named = [(n * k, (f"{n * k} = N*K times too large: a sum where the loss takes a mean over all "
                      "N*K entries")),
             (n, f"{n} = N times too large: summed over the batch instead of averaged"),
             (k, f"{k} = K times too large: the mean runs over the K outputs too"),
             (1.0 / n, f"N = {n} times too small: divided by the batch size twice?"),
             (1.0 / (n * k), f"N*K = {n * k} times too small: divided twice?"),
             (2.0, "2 times too large"), (0.5, "2 times too small")]
    for target, note in named:
        if target != 1.0 and near(c, target):
            return note
    return f"the true gradient times {c:.4g}" if size > 1 else None


def _diagnose(key, got, true, n, k):
    """What is wrong with one gradient: (the problem, its likely cause or None); None when it passes."""
    name = f"grads['{key}']"
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{name} is not an array of numbers", None
    if got.shape != true.shape:
        problem = f"{name}: expected shape {true.shape}, got {got.shape}"
        if true.ndim == 2 and got.shape == true.shape[::-1]:
            if _norm_rel_error(got.T, true) < GRAD_TOL:
                return problem, "the right values, transposed: swap the order of the product"
            return problem, "transposed?"
        if got.size == true.size and _norm_rel_error(got.reshape(true.shape), true) < GRAD_TOL:
            return problem, "the right values in the wrong shape"
        if key.startswith("b") and got.shape == (n,):
            return problem, "summed over the wrong axis? a bias gradient sums over the batch, axis 0"
        return problem, None
    if not np.all(np.isfinite(got)):
        return f"{name} has NaN or infinite entries", None
    err = _norm_rel_error(got, true)
    if err < GRAD_TOL:
        return None
    problem = f"{name}: relative error {err:.1e}"
    denom = float(np.sum(true * true))
    if denom > 0:
        c = float(np.sum(got * true) / denom)
        if c == 0.0 or np.linalg.norm(got - c * true) <= 1e-5 * np.linalg.norm(got):
            factor = _factor_note(c, n, k, got.size)
            if factor:
                return problem, factor
    if true.ndim == 2 and true.shape[0] == true.shape[1] and _norm_rel_error(got.T, true) < GRAD_TOL:
        return problem, "the transpose of the right gradient"
    return problem, None


def _summary(found):
    """One line for all wrong gradients; a cause they share is said once."""
    causes = {cause for _, cause in found}
    if len(found) == len(KEYS) and len(causes) == 1 and None not in causes:
        return f"every gradient is wrong: {causes.pop()}"
    return "; ".join(problem + (f" ({cause})" if cause else "") for problem, cause in found)


@pytest.mark.parametrize("index", range(len(CASES)),
                         ids=[f"{d}-{h}-{k}_batch{n}" for d, h, k, n in CASES])
@points(1, hint="Check each line against section 6: the output error is (y_hat - y) / (N*K), the "
                "hidden error needs the sigmoid's derivative a1 * (1 - a1), each gradient has its "
                "parameter's shape, and bias gradients sum over the batch (axis 0).")
def test_gradient_check(student, index):
    """every gradient from backward matches centred finite differences (relative error below 1e-6)"""
    n_in, n_hidden, n_out, batch = CASES[index]
    params, X, y = _case(SEED + index, *CASES[index])
    what = f"{n_in}-{n_hidden}-{n_out} network, batch of {batch}"
    grads = _student_grads(student, params, X, y, what)
    true = _ref_numerical_grads(params, X, y)
    found = [d for key in KEYS if (d := _diagnose(key, grads[key], true[key], batch, n_out))]
    if found:
        fail(f"{what}: {_summary(found)} [compared with centred finite differences, tolerance {GRAD_TOL:g}]")


@points(1, hint="The loss is a mean over the batch, so its gradient is too: divide by N*K once.")
def test_gradient_batch_mean(student):
    """gradients for a batch repeated twice equal the gradients for the batch itself"""
    params, X, y = _case(SEED + 50, 3, 5, 2, 6)
    once = _student_grads(student, params, X, y, "3-5-2 network, batch of 6")
    twice = _student_grads(student, params, np.tile(X, (2, 1)), np.tile(y, (2, 1)),
                           "3-5-2 network, the same batch repeated twice")
    true = _ref_numerical_grads(params, X, y)
    for key in KEYS:
        a = np.asarray(once[key], dtype=np.float64)
        b = np.asarray(twice[key], dtype=np.float64)
        expect(a.shape == b.shape, f"grads['{key}'] has shape {a.shape} for a batch of 6 but {b.shape} "
               "for 12 examples; a parameter's gradient has the parameter's shape whatever the batch size")
        if _norm_rel_error(b, a) >= GRAD_TOL:
            ratio = float(np.sum(a * b) / max(np.sum(a * a), 1e-300))
            fail(f"grads['{key}'] for the batch repeated twice is {ratio:.3g} times the one for the batch "
                 "itself; a mean over the batch gives the same gradient")
        expect(a.shape == true[key].shape and _norm_rel_error(a, true[key]) < GRAD_TOL,
               f"grads['{key}'] does not match finite differences on a 3-5-2 network")


def _ref_exact_grads(params, X, y):
    """The grader's own backprop in extended precision (np.longdouble)."""
    L = np.longdouble
    P = {k: np.asarray(v, dtype=L) for k, v in params.items()}
    X, y = np.asarray(X, dtype=L), np.asarray(y, dtype=L)
    a1 = 1 / (1 + np.exp(-(X @ P["W1"] + P["b1"])))
    y_hat = 1 / (1 + np.exp(-(a1 @ P["W2"] + P["b2"])))
    return ref_backprop(P, X, y, a1, y_hat)


def _exact_error(got, true):
    """``_norm_rel_error`` of one gradient in extended precision; inf when it is not a finite array of that shape."""
    try:
        got = np.asarray(got, dtype=np.longdouble)
    except (TypeError, ValueError):
        return float("inf")
    if got.shape != true.shape or not np.all(np.isfinite(got)):
        return float("inf")
    return float(np.linalg.norm(got - true) / max(1e-8, float(np.linalg.norm(got) + np.linalg.norm(true))))


@points(2, hint="Backprop gives the exact gradient (up to float64 rounding): apply the chain rule once, "
                "reusing forward's cache, in float64. Perturbing parameters one at a time (finite "
                "differences) only estimates it, to about 1e-10.")
def test_backward_is_backprop(student):
    """backward's gradients are exact to float64 rounding (backprop, not a finite-difference estimate)"""
    for index, case in enumerate(EXACT_CASES):
        n_in, n_hidden, n_out, batch = case
        params, X, y = _case(SEED + 80 + index, *case)
        what = f"{n_in}-{n_hidden}-{n_out} network, batch of {batch}"
        grads = _student_grads(student, params, X, y, what)
        true = _ref_exact_grads(params, X, y)
        errors = {key: _exact_error(grads[key], true[key]) for key in KEYS}
        bad = {key: err for key, err in errors.items() if not err < EXACT_TOL}
        if any(not np.isfinite(err) for err in bad.values()):
            fail(f"{what}: grads {', '.join(k for k, e in bad.items() if not np.isfinite(e))} are not finite "
                 "arrays of their parameters' shapes")
        if bad:
            worst_key = max(bad, key=bad.get)
            near = all(err < GRAD_TOL for err in errors.values())
            fail(f"{what}: grads['{worst_key}'] has relative error {bad[worst_key]:.1e} against the exact "
                 f"gradient; backprop in float64 is within {EXACT_TOL:g}"
                 + (" (close, but not exact: a finite-difference estimate, or arithmetic in float32?)"
                    if near else ""))


def _preloaded(student):
    """The modules the grader's own process set-up imported into every student process, when the engine says.

    ``Submission.preloaded`` (a tuple of module names) is read only when the engine defines it; a bare
    attribute lookup on ``student`` would name a notebook global instead.
    """
    if not (hasattr(type(student), "preloaded") or "preloaded" in vars(student)):
        return None
    value = student.preloaded
    if isinstance(value, (tuple, list, set, frozenset)) and all(isinstance(m, str) for m in value):
        return {m.split(".")[0] for m in value}
    return None


def _autodiff_problem(report, preloaded):
    """Why the report shows an autodiff library at work, or None."""
    called = set(report.get("called") or [])
    bound = set(report.get("bound") or [])
    # sys.modules only counts for packages the grader's own process set-up did not import
    loaded = set(report.get("loaded") or []) - set(preloaded) if preloaded is not None else set()
    if called:
        return f"{', '.join(sorted(called))} ran while your forward and backward ran"
    if bound:
        return f"your notebook imports {', '.join(sorted(bound))} (a name in it refers to that library)"
    if loaded:
        return f"your notebook imported {', '.join(sorted(loaded))}"
    return None


@points(1, hint="This assignment is NumPy only: remove the torch / jax / autograd import and write "
                "the gradients yourself.")
def test_no_autodiff_import(student):
    """no torch, jax or autograd is imported or used, and backward's gradients are right"""
    params, X, y = _case(SEED + 60, 2, 3, 1, 4)
    what = "2-3-1 network, batch of 4"
    report = student.helper("autodiff_report", student.get("forward"), student.get("backward"), params, X, y)
    expect(not report["raised"], f"{what}: {report['raised']}")
    grads = report["grads"]
    expect_type(grads, dict, f"{what}: backward's result")
    true = _ref_numerical_grads(params, X, y)
    for key in KEYS:
        expect(key in grads and _diagnose(key, grads[key], true[key], 4, 1) is None,
               f"{what}: grads['{key}'] does not match finite differences")
    problem = _autodiff_problem(report, _preloaded(student))
    expect(problem is None, f"{problem}; this assignment is NumPy only")
