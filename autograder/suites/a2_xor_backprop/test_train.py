"""Hidden checks for `train`.

A short run on a hidden data set is compared step by step with the grader's own
full-batch gradient descent from the contract's initialisation. On XOR, the
student's `train` runs with its defaults for seeds the grader chooses, and the
grader judges the returned parameters with its own forward pass and loss.
"""

import numpy as np
import pytest

from autograder.suites.a2_xor_backprop._reference import ref_backprop, ref_bce, ref_forward, ref_init
from autograder.testing import expect, expect_shape, expect_type, fail, points

SEED = 2207
XOR_SEEDS = (13, 29, 47, 71, 86)
MIN_SOLVED = 4             # of len(XOR_SEEDS)
LOSS_DROP = 0.1            # the final loss must be below this fraction of the first
KEYS = ("W1", "b1", "W2", "b2")
X_XOR = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
Y_XOR = np.array([[0.0], [1.0], [1.0], [0.0]])
SHORT = {"n_hidden": 5, "lr": 0.5, "epochs": 3}  # the short run's arguments (data from SEED)


def _ref_step(params, X, y, lr):
    a1, y_hat = ref_forward(params, X)
    grads = ref_backprop(params, X, y, a1, y_hat)
    return {k: params[k] - lr * grads[k] for k in params}


def _ref_train(X, y, n_hidden, lr, epochs, seed):
    """The grader's full-batch gradient descent: every params along the way, and the losses."""
    params = ref_init(X.shape[1], n_hidden, y.shape[1], seed)
    path, losses = [params], []
    for _ in range(epochs):
        losses.append(ref_bce(ref_forward(params, X)[1], y))
        params = _ref_step(params, X, y, lr)
        path.append(params)
    return path, losses


def _short_data():
    rng = np.random.default_rng(SEED)
    X = rng.standard_normal((8, 3))
    y = rng.integers(0, 2, size=(8, 2)).astype(np.float64)
    return X, y


def _checked(result, n_in, n_hidden, n_out, what):
    """Unpack (params, losses) and check params' keys and shapes."""
    expect(isinstance(result, (tuple, list)) and len(result) == 2,
           f"{what}: expected a pair (params, losses)")
    params, losses = result
    expect_type(params, dict, f"{what}: params")
    expect(all(k in params for k in KEYS), f"{what}: params must have the keys W1, b1, W2, b2")
    shapes = {"W1": (n_in, n_hidden), "b1": (n_hidden,), "W2": (n_hidden, n_out), "b2": (n_out,)}
    for key in KEYS:
        expect_shape(params[key], shapes[key], f"{what}: params['{key}']")
    return {k: np.asarray(params[k], dtype=np.float64) for k in KEYS}, losses


def _same(a, b):
    return all(np.allclose(a[k], b[k], rtol=1e-9, atol=1e-12) for k in KEYS)


@pytest.fixture(scope="module")
def xor_runs(student):
    """The student's train on XOR with its defaults, one run per grader seed."""
    return [_checked(student.train(X_XOR, Y_XOR, seed=seed), 2, 4, 1, "train on XOR") for seed in XOR_SEEDS]


@points(2, hint="Start from init_params(X.shape[1], n_hidden, y.shape[1], seed); each epoch: forward, "
                "loss, backward, sgd_step with lr, on the whole batch.")
def test_train_rerun(student):
    """three epochs of train match the grader's own full-batch gradient descent"""
    X, y = _short_data()
    seed = SEED + 1
    got, _ = _checked(student.train(X, y, seed=seed, **SHORT), 3, SHORT["n_hidden"], 2,
                      "train on a hidden 8-example data set")
    path, _ = _ref_train(X, y, seed=seed, **SHORT)
    if _same(got, path[-1]):
        return
    epochs = SHORT["epochs"]
    for steps, params in enumerate(path):
        if _same(got, params):
            fail(f"after train(..., epochs={epochs}) the parameters equal the grader's after {steps} "
                 f"update{'s' if steps != 1 else ''}; expected exactly {epochs}")
    bad = [k for k in KEYS if not np.allclose(got[k], path[-1][k], rtol=1e-9, atol=1e-12)]
    fail(f"after {epochs} epochs on a hidden data set, params {', '.join(bad)} differ from the grader's "
         "re-run of full-batch gradient descent from init_params(seed)")


@points(1, hint="Append bce_loss(y_hat, y) each epoch before the update: "
                "losses[i] is the loss before update i.")
def test_train_losses(student):
    """train's losses list has one entry per epoch, the loss before each update"""
    X, y = _short_data()
    seed = SEED + 1
    _, losses = _checked(student.train(X, y, seed=seed, **SHORT), 3, SHORT["n_hidden"], 2,
                         "train on a hidden 8-example data set")
    epochs = SHORT["epochs"]
    _, ref = _ref_train(X, y, seed=seed, n_hidden=SHORT["n_hidden"], lr=SHORT["lr"], epochs=epochs + 1)
    try:
        got = np.asarray(losses, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        fail("train's losses: expected a list of floats")
    expect(got.size == epochs, f"train(..., epochs={epochs}) returned {got.size} losses; expected {epochs}")
    if np.allclose(got, ref[:epochs], rtol=1e-9, atol=1e-12):
        return
    if np.allclose(got, ref[1:], rtol=1e-9, atol=1e-12):
        fail("losses[i] is the loss after update i; expected the loss before it (record, then update)")
    fail(f"train's {epochs} losses on a hidden data set differ from the grader's losses before each update")


@points(3, hint="With the defaults (4 hidden units, lr 1.0, 5000 epochs, init from init_params) every seed "
                "should solve XOR; check backward and the update.")
def test_xor_solved(xor_runs):
    """train with its defaults solves XOR (accuracy 1.0) for at least 4 of 5 seeds"""
    accuracies = [float(np.mean((ref_forward(params, X_XOR)[1] >= 0.5) == (Y_XOR == 1)))
                  for params, _ in xor_runs]
    solved = sum(acc == 1.0 for acc in accuracies)
    expect(solved >= MIN_SOLVED,
           f"XOR solved for {solved} of {len(XOR_SEEDS)} seeds (accuracy by seed, measured by the grader's "
           f"forward pass on your trained params: {', '.join(f'{a:.2f}' for a in accuracies)}); "
           f"at least {MIN_SOLVED} needed")


@points(1, hint="Gradient descent should drive the loss down by far more than 10x in 5000 epochs on XOR.")
def test_loss_falls(xor_runs):
    """train's final loss on XOR is below a tenth of the loss at initialisation, for at least 4 of 5 seeds"""
    ratios = []
    for seed, (params, _) in zip(XOR_SEEDS, xor_runs):
        first = ref_bce(ref_forward(ref_init(2, 4, 1, seed), X_XOR)[1], Y_XOR)
        last = ref_bce(ref_forward(params, X_XOR)[1], Y_XOR)
        ratios.append(last / first)
    fell = sum(r < LOSS_DROP for r in ratios)
    expect(fell >= MIN_SOLVED,
           f"the final loss (computed by the grader from your trained params) fell below a tenth of the "
           f"initial loss for {fell} of {len(XOR_SEEDS)} seeds (final / initial: "
           f"{', '.join(f'{r:.3g}' for r in ratios)}); at least {MIN_SOLVED} needed")
