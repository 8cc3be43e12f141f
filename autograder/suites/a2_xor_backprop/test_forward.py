"""Hidden checks for `forward`: the prediction against the grader's own forward pass."""

import numpy as np
import pytest

from autograder.suites.a2_xor_backprop._reference import ref_forward
from autograder.testing import expect, expect_close, expect_shape, points

SEED = 2203
CASES = [(2, 4, 1, 4), (3, 6, 2, 9), (5, 3, 1, 1)]  # (inputs, hidden, outputs, batch)


def _case(index, n_in, n_hidden, n_out, batch):
    rng = np.random.default_rng(SEED + index)
    params = {"W1": rng.standard_normal((n_in, n_hidden)), "b1": 0.5 * rng.standard_normal(n_hidden),
              "W2": rng.standard_normal((n_hidden, n_out)), "b2": 0.5 * rng.standard_normal(n_out)}
    return params, rng.standard_normal((batch, n_in))


@pytest.mark.parametrize("index", range(len(CASES)),
                         ids=[f"{d}-{h}-{k}_batch{n}" for d, h, k, n in CASES])
@points(1, hint="z1 = X @ W1 + b1, a1 = sigmoid(z1), z2 = a1 @ W2 + b2, y_hat = sigmoid(z2); "
                "return (y_hat, cache).")
def test_forward_values(student, index):
    """forward returns (y_hat, cache) with y_hat equal to the grader's forward pass"""
    n_in, n_hidden, n_out, batch = CASES[index]
    params, X = _case(index, *CASES[index])
    out = student.forward(params, X)
    what = f"forward on a {n_in}-{n_hidden}-{n_out} network, batch of {batch}"
    expect(isinstance(out, (tuple, list)) and len(out) == 2, f"{what}: expected a pair (y_hat, cache)")
    expect_shape(out[0], (batch, n_out), f"{what}: y_hat")
    expect_close(out[0], ref_forward(params, X)[1], f"{what}: y_hat", rtol=1e-9, atol=1e-15, hidden=True)
