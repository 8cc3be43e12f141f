"""The grader's own perceptron (float64), for comparing with the student's."""

from __future__ import annotations

import numpy as np


def ref_step(z: np.ndarray) -> np.ndarray:
    return (np.asarray(z) >= 0).astype(int)


def ref_update(w: np.ndarray, b: float, x: np.ndarray, y: int, lr: float) -> tuple[np.ndarray, float]:
    err = y - int(ref_step(np.dot(x, w) + b))
    return np.asarray(w, float) + lr * err * np.asarray(x, float), float(b + lr * err)


def ref_train(X: np.ndarray, y: np.ndarray, lr: float = 0.1, epochs: int = 100
              ) -> tuple[np.ndarray, float, list[int]]:
    w, b, errors = np.zeros(X.shape[1]), 0.0, []
    for _ in range(epochs):
        mistakes = 0
        for xi, yi in zip(X, y):
            mistakes += int(ref_step(xi @ w + b)) != yi
            w, b = ref_update(w, b, xi, int(yi), lr)
        errors.append(mistakes)
        if mistakes == 0:
            break
    return w, b, errors


def separable(seed: int, n: int, d: int, margin: float) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Points at least ``margin`` from a random unit hyperplane; returns X, y, R and gamma.

    R and gamma are for the augmented inputs (x, 1), so Novikoff's bound (R/gamma)^2 holds
    for a perceptron with a bias started at zero.
    """
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(d + 1)
    u /= np.linalg.norm(u)
    X = np.empty((0, d))
    while len(X) < n:
        cand = rng.uniform(-2, 2, size=(4 * n, d))
        dist = np.c_[cand, np.ones(len(cand))] @ u
        X = np.vstack([X, cand[np.abs(dist) >= margin]])[:n]
    y = (np.c_[X, np.ones(n)] @ u >= 0).astype(int)
    R = float(np.max(np.linalg.norm(np.c_[X, np.ones(n)], axis=1)))
    gamma = float(np.min(np.abs(np.c_[X, np.ones(n)] @ u)))
    return X, y, R, gamma
