"""The grader's own 2-layer network (float64), for comparing with the student's.

The network of the assignment: ``a1 = sigmoid(X @ W1 + b1)``, ``y_hat = sigmoid(a1 @ W2 + b2)``,
the loss is the mean binary cross-entropy over all ``N*K`` entries of ``y_hat``, with ``y_hat``
clipped to ``[1e-12, 1 - 1e-12]``.
"""

from __future__ import annotations

import numpy as np

BCE_EPS = 1e-12  # y_hat is clipped to [BCE_EPS, 1 - BCE_EPS] before the logs


def ref_sigmoid(z: object) -> np.ndarray:
    """Logistic function in float64, exp only of non-positive numbers (underflow to 0 is fine)."""
    z = np.asarray(z, dtype=np.float64)
    ez = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + ez), ez / (1.0 + ez))


def ref_init(n_in: int, n_hidden: int, n_out: int, seed: int) -> dict[str, np.ndarray]:
    """The contract's initialisation: W1 then W2 drawn from ``default_rng(seed)``, zero biases."""
    rng = np.random.default_rng(seed)
    W1 = rng.standard_normal((n_in, n_hidden))
    W2 = rng.standard_normal((n_hidden, n_out))
    return {"W1": W1, "b1": np.zeros(n_hidden), "W2": W2, "b2": np.zeros(n_out)}


def ref_forward(params: dict[str, np.ndarray], X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The hidden activations ``a1`` and the output ``y_hat``."""
    a1 = ref_sigmoid(X @ params["W1"] + params["b1"])
    return a1, ref_sigmoid(a1 @ params["W2"] + params["b2"])


def ref_bce(y_hat: object, y: np.ndarray) -> float:
    """Mean binary cross-entropy over all entries, ``y_hat`` clipped to ``[BCE_EPS, 1 - BCE_EPS]``."""
    p = np.clip(np.asarray(y_hat, dtype=np.float64), BCE_EPS, 1 - BCE_EPS)
    return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))


def ref_backprop(params: dict[str, np.ndarray], X: np.ndarray, y: np.ndarray, a1: np.ndarray,
                 y_hat: np.ndarray) -> dict[str, np.ndarray]:
    """The exact gradients of the mean BCE, from the forward pass's ``a1`` and ``y_hat``.

    Works in the arrays' own dtype (float64, or ``np.longdouble`` for the exactness check).
    """
    d2 = (y_hat - y) / y_hat.size
    d1 = (d2 @ params["W2"].T) * a1 * (1 - a1)
    return {"W1": X.T @ d1, "b1": d1.sum(axis=0), "W2": a1.T @ d2, "b2": d2.sum(axis=0)}
