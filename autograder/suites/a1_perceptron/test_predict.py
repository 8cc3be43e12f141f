"""Hidden checks of predict(X, w, b)."""

import numpy as np

from autograder.suites.a1_perceptron._reference import ref_step
from autograder.testing import expect, expect_equal, expect_shape, points


@points(1, hint="Compute all weighted sums at once with `X @ w + b`, then apply `step`.")
def test_predict_matches_reference(student):
    """predict matches the reference on random batches (several sizes)"""
    rng = np.random.default_rng(201)
    for n, d in [(1, 3), (20, 2), (13, 5)]:
        X, w, b = rng.normal(size=(n, d)), rng.normal(size=d), float(rng.normal())
        got = np.asarray(student.predict(X, w, b))
        expect_shape(got, (n,), f"predict on X of shape {(n, d)}")
        expect(got.dtype.kind in "iu", f"predict should return ints, got dtype {got.dtype}")
        expect_equal(got, ref_step(X @ w + b), what=f"predict on a random {(n, d)} batch", hidden=True)


@points(1, hint="A sample exactly on the boundary (w . x + b = 0) is class 1.")
def test_predict_on_boundary(student):
    """a sample exactly on the decision boundary is predicted as 1"""
    X = np.array([[1.0, 1.0], [0.5, 0.5], [0.0, 0.0]])
    got = np.asarray(student.predict(X, np.array([1.0, 1.0]), -1.0))
    expect_equal(got.tolist(), [1, 1, 0], what="predict([[1, 1], [0.5, 0.5], [0, 0]], w=[1, 1], b=-1)")
