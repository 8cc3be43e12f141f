"""Hidden checks of train_perceptron(X, y, lr, epochs)."""

import numpy as np
import pytest

from autograder.suites.a1_perceptron._reference import ref_step, ref_train, separable
from autograder.testing import expect, expect_close, expect_equal, fail, points

GATES_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)


def _compare(student, X, y, what, hidden=False, **kw):
    w, b, errors = student.train_perceptron(X, y, **kw)
    exp_w, exp_b, exp_errors = ref_train(X, y, **kw)
    expect_equal([int(e) for e in errors], exp_errors, what=f"{what}: errors per epoch", hidden=hidden)
    expect_close(w, exp_w, what=f"{what}: w", rtol=1e-9, atol=1e-12, hidden=hidden)
    expect_close(b, exp_b, what=f"{what}: b", rtol=1e-9, atol=1e-12, hidden=hidden)


@points(1, hint="Start from zeros, visit samples in order, count a mistake before updating on it.")
@pytest.mark.parametrize("gate,labels", [("AND", [0, 0, 0, 1]), ("OR", [0, 1, 1, 1])])
def test_gate_exact(student, gate, labels):
    """(w, b, errors) on AND and OR match the reference exactly (lr 0.1)"""
    _compare(student, GATES_X, np.array(labels), f"train_perceptron on {gate}")


@points(1, hint="Follow the rule exactly: zero start, samples in the given order, one update per sample.")
@pytest.mark.parametrize("seed", [11, 12, 13])
def test_separable_exact(student, seed):
    """(w, b, errors) match the reference on random separable data"""
    X, y, _, _ = separable(seed, n=30, d=3, margin=0.1)
    _compare(student, X, y, "train_perceptron on a random separable set", hidden=True, lr=0.5, epochs=200)


def _separates(w, b, X, y, what):
    """Fail unless the returned (w, b) classify every sample of (X, y) correctly (the grader's own predictions)."""
    try:
        w64 = np.asarray(w, dtype=np.float64).reshape(-1)
        b64 = float(np.asarray(b, dtype=np.float64))
    except (TypeError, ValueError):
        fail(f"{what}: w should be an array of {X.shape[1]} numbers and b a number")
    expect(w64.shape == (X.shape[1],), f"{what}: w should have shape ({X.shape[1]},), got {w64.shape}")
    expect(bool(np.all(np.isfinite(w64))) and np.isfinite(b64), f"{what}: w or b is NaN or infinite")
    wrong = int(np.sum(ref_step(X @ w64 + b64) != y))
    expect(wrong == 0, f"{what}: the returned w and b misclassify {wrong} of the {len(y)} training samples, "
                       "yet the last epoch reported 0 errors (the grader predicted with your w and b)")


@points(1, hint="Stop right after the first epoch with zero mistakes (and include that epoch's 0).")
def test_early_stop(student):
    """training stops after the first epoch with zero errors, and the returned w, b classify every sample"""
    X, y, _, _ = separable(21, n=40, d=2, margin=0.2)
    w, b, errors = student.train_perceptron(X, y, lr=1.0, epochs=500)
    errors = [int(e) for e in errors]
    expect(len(errors) > 0 and errors[-1] == 0, f"the last epoch should have 0 errors, got {errors[-3:]}")
    expect(0 not in errors[:-1], "training went on after an epoch with 0 errors")
    _separates(w, b, X, y, "train_perceptron on a separable set (lr=1.0)")


@points(1, hint="XOR never reaches 0 errors, so all `epochs` epochs must run.")
def test_xor_runs_all_epochs(student):
    """on XOR every epoch runs, every epoch has errors, and (w, b) are those of 37 epochs of the rule"""
    labels = np.array([0, 1, 1, 0])
    w, b, errors = student.train_perceptron(GATES_X, labels, lr=0.1, epochs=37)
    errors = [int(e) for e in errors]
    expect_equal(len(errors), 37, what="number of epochs run on XOR with epochs=37")
    expect(min(errors) > 0, f"XOR cannot be learned, yet an epoch reported 0 errors: {errors}")
    exp_w, exp_b, _ = ref_train(GATES_X, labels, lr=0.1, epochs=37)
    expect_close(w, exp_w, what="train_perceptron on XOR (lr=0.1, epochs=37): w after the last epoch",
                 rtol=1e-9, atol=1e-12)
    expect_close(b, exp_b, what="train_perceptron on XOR (lr=0.1, epochs=37): b after the last epoch",
                 rtol=1e-9, atol=1e-12)


@points(1, hint="Count every sample whose prediction was wrong before its update.")
def test_novikoff_bound(student):
    """total mistakes stay within Novikoff's bound (R/gamma)^2 and the returned w, b separate the data"""
    X, y, R, gamma = separable(31, n=60, d=4, margin=0.15)
    w, b, errors = student.train_perceptron(X, y, lr=0.3, epochs=1000)
    total = sum(int(e) for e in errors)
    bound = (R / gamma) ** 2
    expect(int(errors[-1]) == 0, "training on separable data did not converge")
    expect(0 < total <= bound, f"{total} mistakes in all; the convergence theorem allows at most {bound:.0f}")
    _separates(w, b, X, y, "train_perceptron on a separable set (lr=0.3)")


@points(1, hint="Do not modify X or y (copy before converting or shuffling).")
def test_inputs_not_mutated(student):
    """train_perceptron leaves X and y unchanged (and trains: the returned w, b separate the data)"""
    X, y, _, _ = separable(41, n=10, d=2, margin=0.1)
    X_remote, y_remote = student.send(X.copy()), student.send(y.copy())
    w, b, _ = student.train_perceptron(X_remote, y_remote)
    expect(np.array_equal(X_remote.fetch(), X), "train_perceptron modified X")
    expect(np.array_equal(y_remote.fetch(), y), "train_perceptron modified y")
    _separates(w, b, X, y, "train_perceptron on a small separable set")
