"""Hidden checks of perceptron_update(w, b, x, y, lr)."""

import numpy as np

from autograder.suites.a1_perceptron._reference import ref_update
from autograder.testing import expect, expect_close, fail, points


def _check(student, w, b, x, y, lr, what, hidden=False):
    got_w, got_b = student.perceptron_update(w, b, x, y, lr)
    exp_w, exp_b = ref_update(w, b, x, y, lr)
    expect_close(got_w, exp_w, what=f"{what}: w_new", rtol=1e-12, atol=1e-12, hidden=hidden)
    expect_close(got_b, exp_b, what=f"{what}: b_new", rtol=1e-12, atol=1e-12, hidden=hidden)


@points(1, hint="A missed positive has y - y_hat = +1: add lr * x to w and lr to b.")
def test_false_negative(student):
    """a missed positive (y=1, predicted 0) moves w towards x and raises b"""
    _check(student, np.array([-1.0, 0.5]), 0.2, np.array([2.0, 1.0]), 1, 0.25,
           "update with w=[-1, 0.5], b=0.2, x=[2, 1], y=1, lr=0.25")


@points(1, hint="A false alarm has y - y_hat = -1: subtract lr * x from w and lr from b.")
def test_false_positive(student):
    """a false alarm (y=0, predicted 1) moves w away from x and lowers b"""
    _check(student, np.array([1.0, 1.0, 0.0]), 0.0, np.array([2.0, -1.0, 3.0]), 0, 0.1,
           "update with w=[1, 1, 0], b=0, x=[2, -1, 3], y=0, lr=0.1")


@points(1, hint="When the prediction is right, y - y_hat = 0 and nothing may change.")
def test_correct_is_noop(student):
    """a correctly classified sample changes nothing (both classes)"""
    _check(student, np.array([1.0, -2.0]), 0.5, np.array([3.0, 1.0]), 1, 0.5,
           "update with w=[1, -2], b=0.5, x=[3, 1], y=1 (already right)")
    _check(student, np.array([1.0, -2.0]), 0.5, np.array([0.0, 1.0]), 0, 0.5,
           "update with w=[1, -2], b=0.5, x=[0, 1], y=0 (already right)")


@points(1, hint="Build new arrays (`w_new = w + ...`); `w += ...` changes the caller's array.")
def test_inputs_not_mutated(student):
    """perceptron_update leaves its arguments unchanged and returns a new, changed pair"""
    w0, x0 = np.array([0.5, -1.0, 0.25]), np.array([1.0, 2.0, 3.0])
    call = "perceptron_update(w=[0.5, -1, 0.25], b=0.1, x=[1, 2, 3], y=1, lr=1)"
    w_remote, x_remote = student.send(w0.copy()), student.send(x0.copy())
    got_w, got_b = student.perceptron_update(w_remote, 0.1, x_remote, 1, 1.0)
    expect(np.array_equal(w_remote.fetch(), w0), "perceptron_update modified the w it was given")
    expect(np.array_equal(x_remote.fetch(), x0), "perceptron_update modified the x it was given")
    try:
        got_w, got_b = np.asarray(got_w, dtype=np.float64), float(got_b)
    except (TypeError, ValueError):
        fail(f"{call} should return (w_new, b_new): an array and a number")
    expect(got_w.shape == w0.shape and bool(np.all(np.isfinite(got_w))) and np.isfinite(got_b),
           f"{call} should return a finite w_new of shape (3,) and a finite b_new")
    expect(not (np.array_equal(got_w, w0) and got_b == 0.1),
           f"{call} returned its inputs unchanged, but this sample is misclassified (z = -0.65, y = 1), "
           "so the update must change them")


@points(1, hint="Use the step of w . x + b as the prediction, and lr * (y - y_hat) as the step size.")
def test_random_updates(student):
    """updates match the reference on random cases"""
    rng = np.random.default_rng(301)
    for _ in range(12):
        d = int(rng.integers(1, 6))
        _check(student, rng.normal(size=d), float(rng.normal()), rng.normal(size=d),
               int(rng.integers(0, 2)), float(rng.choice([0.01, 0.1, 1.0])), "a random update", hidden=True)
