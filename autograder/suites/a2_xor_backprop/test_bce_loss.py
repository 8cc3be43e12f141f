"""Hidden checks for `bce_loss`: values, clipping at exactly 0 and 1, and the mean over the batch."""

import numpy as np

from autograder.suites.a2_xor_backprop._reference import ref_bce
from autograder.testing import expect, expect_close, points

SEED = 2204


def _loss(student, y_hat, y, what):
    got = student.bce_loss(y_hat, y)
    expect(isinstance(got, (int, float, np.floating)) or (isinstance(got, np.ndarray) and got.ndim == 0),
           f"{what}: expected a float, got {type(got).__name__}"
           + (f" of shape {got.shape}" if isinstance(got, np.ndarray) else ""))
    return float(got)


@points(1, hint="Mean over all N*K entries of -(y log p + (1 - y) log(1 - p)), returned as a float.")
def test_bce_values(student):
    """bce_loss equals the mean binary cross-entropy on batches of several shapes"""
    rng = np.random.default_rng(SEED)
    for shape in [(4, 1), (6, 2), (1, 1), (10, 3)]:
        y_hat = rng.uniform(0.02, 0.98, size=shape)
        y = rng.integers(0, 2, size=shape).astype(np.float64)
        what = f"bce_loss on a random batch of shape {shape}"
        expect_close(_loss(student, y_hat, y, what), ref_bce(y_hat, y), what, rtol=1e-9, hidden=True)


@points(1, hint="Clip first: p = np.clip(y_hat, 1e-12, 1 - 1e-12), then take the logs.")
def test_bce_clipping(student):
    """bce_loss stays finite, and clips at 1e-12, when y_hat is exactly 0 or 1"""
    y_hat = np.array([[0.0], [1.0], [0.0], [1.0], [0.5]])
    y = np.array([[1.0], [0.0], [0.0], [1.0], [1.0]])
    what = "bce_loss(y_hat=[0, 1, 0, 1, 0.5], y=[1, 0, 0, 1, 1])"
    got = _loss(student, y_hat, y, what)
    expect(bool(np.isfinite(got)), f"{what}: expected a finite loss, got {got}")
    expect_close(got, ref_bce(y_hat, y), what, rtol=1e-6)


@points(1, hint="Use the mean, not the sum: a batch repeated three times has the same loss.")
def test_bce_batch_mean(student):
    """bce_loss is a mean: a batch repeated three times has the same loss"""
    rng = np.random.default_rng(SEED + 1)
    y_hat = rng.uniform(0.05, 0.95, size=(5, 2))
    y = rng.integers(0, 2, size=(5, 2)).astype(np.float64)
    once = _loss(student, y_hat, y, "bce_loss on a batch of 5")
    thrice = _loss(student, np.tile(y_hat, (3, 1)), np.tile(y, (3, 1)),
                   "bce_loss on that batch repeated 3 times")
    expect(np.isclose(thrice, once, rtol=1e-9, atol=0.0),
           f"bce_loss on a batch repeated 3 times is {thrice / once:.3g} times the loss on the batch itself; "
           "expected the same value")
    expect_close(once, ref_bce(y_hat, y), "bce_loss on a random batch of shape (5, 2)",
                 rtol=1e-9, hidden=True)
