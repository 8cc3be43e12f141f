"""Hidden checks for `predict`: 0/1 integers from y_hat >= 0.5, on the grader's own forward pass."""

import numpy as np

from autograder.suites.a2_xor_backprop._reference import ref_forward
from autograder.testing import expect, expect_equal, expect_shape, points

SEED = 2208


def _check_ints(got, what):
    dtype = np.asarray(got).dtype
    expect(np.issubdtype(dtype, np.integer), f"{what}: expected integers, got dtype {dtype}")


@points(1, hint="Threshold the forward pass: (y_hat >= 0.5).astype(int), shape (N, K).")
def test_predict_values(student):
    """predict returns 0/1 integers of shape (N, K) matching y_hat >= 0.5"""
    rng = np.random.default_rng(SEED)
    for n_in, n_hidden, n_out, batch in [(2, 4, 1, 9), (3, 5, 2, 12)]:
        params = {"W1": 2 * rng.standard_normal((n_in, n_hidden)), "b1": rng.standard_normal(n_hidden),
                  "W2": 2 * rng.standard_normal((n_hidden, n_out)), "b2": rng.standard_normal(n_out)}
        X = rng.standard_normal((batch, n_in))
        y_hat = ref_forward(params, X)[1]
        assert np.min(np.abs(y_hat - 0.5)) > 1e-6, "suite error: a hidden case sits on the threshold"
        what = f"predict on a {n_in}-{n_hidden}-{n_out} network, batch of {batch}"
        got = student.predict(params, X)
        expect_shape(got, (batch, n_out), what)
        _check_ints(got, what)
        expect_equal(np.asarray(got).astype(np.int64), (y_hat >= 0.5).astype(np.int64), what, hidden=True)


@points(1, hint="The threshold is inclusive: y_hat exactly 0.5 predicts 1 (use >=).")
def test_predict_threshold(student):
    """predict gives 1 where y_hat is exactly 0.5 and 0 just below it"""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    for b2, expected, label in [(0.0, 1, "exactly 0.5"), (-1e-9, 0, "just below 0.5")]:
        params = {"W1": np.ones((2, 3)), "b1": np.zeros(3), "W2": np.zeros((3, 1)), "b2": np.array([b2])}
        what = f"predict where every y_hat is {label}"
        got = student.predict(params, X)
        expect_shape(got, (4, 1), what)
        _check_ints(got, what)
        expect_equal(np.asarray(got).astype(np.int64), np.full((4, 1), expected, dtype=np.int64), what)
