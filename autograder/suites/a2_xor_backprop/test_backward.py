"""Hidden checks for `backward`.

Every gradient is compared with centred finite differences of the grader's own
float64 forward pass and loss, on networks of several shapes and batch sizes.
`backward` gets the cache from the student's own `forward`, whatever it holds.
A timing check on a network with thousands of parameters tells backprop from
a numerical gradient, and a static check rules out autodiff libraries.
"""

import ast
import time

import numpy as np
import pytest

from autograder.testing import expect, expect_type, fail, points

SEED = 2205
KEYS = ("W1", "b1", "W2", "b2")
GRAD_TOL = 1e-6          # relative error |a - b| / max(1e-8, |a| + |b|), over each parameter's gradient
FD_STEP = 1e-5           # centred differences in float64: error about 1e-10, far below GRAD_TOL
CASES = [(2, 4, 1, 4), (3, 3, 1, 1), (5, 8, 2, 16), (4, 6, 2, 7), (2, 5, 1, 16), (5, 3, 2, 2)]

# Timing: backward may cost at most TIME_RATIO forward calls plus TIME_SLACK seconds, both measured
# here as wall-clock round trips (so serialisation is on both sides). Backprop costs about two
# forward passes; a numerical gradient costs two per parameter (20,360 here).
BIG_NET = (48, 192, 4, 16)  # inputs, hidden, outputs, batch: 10,180 parameters
TIME_RATIO = 30.0
TIME_SLACK = 0.05
TIME_LIMIT = 20.0           # seconds one timed call may run

BANNED = {"torch", "jax", "jaxlib", "jnp", "autograd", "tensorflow", "theano", "mxnet"}


def _ref_sigmoid(z):
    ez = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + ez), ez / (1.0 + ez))


def _ref_loss(params, X, y):
    a1 = _ref_sigmoid(X @ params["W1"] + params["b1"])
    p = np.clip(_ref_sigmoid(a1 @ params["W2"] + params["b2"]), 1e-12, 1 - 1e-12)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


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


def _rel_error(a, b):
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
    named = [(n * k, f"{n * k} = N*K times too large: a sum where the loss takes a mean over all "
                      "N*K entries"),
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
            if _rel_error(got.T, true) < GRAD_TOL:
                return problem, "the right values, transposed: swap the order of the product"
            return problem, "transposed?"
        if got.size == true.size and _rel_error(got.reshape(true.shape), true) < GRAD_TOL:
            return problem, "the right values in the wrong shape"
        if key.startswith("b") and got.shape == (n,):
            return problem, "summed over the wrong axis? a bias gradient sums over the batch, axis 0"
        return problem, None
    if not np.all(np.isfinite(got)):
        return f"{name} has NaN or infinite entries", None
    err = _rel_error(got, true)
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
    if true.ndim == 2 and true.shape[0] == true.shape[1] and _rel_error(got.T, true) < GRAD_TOL:
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
        if _rel_error(b, a) >= GRAD_TOL:
            ratio = float(np.sum(a * b) / max(np.sum(a * a), 1e-300))
            fail(f"grads['{key}'] for the batch repeated twice is {ratio:.3g} times the one for the batch "
                 "itself; a mean over the batch gives the same gradient")
        expect(a.shape == true[key].shape and _rel_error(a, true[key]) < GRAD_TOL,
               f"grads['{key}'] does not match finite differences on a 3-5-2 network")


def _timed(call):
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


@points(2, hint="Backprop reuses the forward pass's cache and costs about two forward passes; "
                "do not estimate gradients by perturbing parameters one at a time.")
def test_backward_is_backprop(student):
    """backward on a network with thousands of parameters costs a small multiple of forward"""
    n_in, n_hidden, n_out, batch = BIG_NET
    rng = np.random.default_rng(SEED + 99)
    params = {"W1": 0.1 * rng.standard_normal((n_in, n_hidden)), "b1": np.zeros(n_hidden),
              "W2": 0.1 * rng.standard_normal((n_hidden, n_out)), "b2": np.zeros(n_out)}
    n_params = sum(v.size for v in params.values())
    X = rng.standard_normal((batch, n_in))
    y = rng.integers(0, 2, size=(batch, n_out)).astype(np.float64)
    p_h, X_h, y_h = student.send(params), student.send(X), student.send(y)
    with student.time_limit(TIME_LIMIT):
        out = student.forward(p_h, X_h)
        expect(isinstance(out, (tuple, list)) and len(out) == 2, "forward must return a pair (y_hat, cache)")
        cache_h = student.send(out[1])
        t_forward = min(_timed(lambda: student.forward(p_h, X_h)) for _ in range(5))
        limit = TIME_RATIO * t_forward + TIME_SLACK
        times = []
        for _ in range(3):
            times.append(_timed(lambda: student.backward(p_h, cache_h, y_h)))
            if times[-1] <= limit or times[-1] > 10 * limit:
                break
    t_backward = min(times)
    expect(t_backward <= limit,
           f"backward took {t_backward * 1e3:.0f} ms on a {n_in}-{n_hidden}-{n_out} network "
           f"({n_params:,} parameters, batch of {batch}) where forward took {t_forward * 1e3:.1f} ms; "
           f"allowed: {TIME_RATIO:g} x forward + {TIME_SLACK * 1e3:.0f} ms. A numerical gradient needs two "
           "forward passes per parameter; backprop needs about two in all")


def _banned_uses(source):
    """Banned library names that a cell imports or uses."""
    lines = ["pass" if line.lstrip().startswith(("%", "!")) else line for line in source.split("\n")]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value.split(".")[0])  # __import__("torch"), importlib.import_module("jax")
    return found & BANNED


@points(1, hint="This assignment is NumPy only: remove the torch / jax / autograd import and write "
                "the gradients yourself.")
def test_no_autodiff_import(student):
    """the solution cells import no torch, jax or autograd (and backward is implemented)"""
    params, X, y = _case(SEED + 60, 2, 3, 1, 4)
    _student_grads(student, params, X, y, "2-3-1 network, batch of 4")
    sources = list(student.solution_sources())
    for name in ("sigmoid", "init_params", "forward", "bce_loss", "backward", "sgd_step", "train", "predict"):
        sources.append(student.source(name))
    banned = set().union(*(_banned_uses(src) for src in sources))
    expect(not banned, f"your solution cells use {', '.join(sorted(banned))}; this assignment is NumPy only")
