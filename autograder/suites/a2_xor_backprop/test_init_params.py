"""Hidden checks for `init_params`: keys, shapes, and the exact draws of default_rng(seed)."""

import numpy as np

from autograder.suites.a2_xor_backprop._reference import ref_init
from autograder.testing import expect, expect_equal, expect_shape, expect_type, points

KEYS = ("W1", "b1", "W2", "b2")


def _params(student, n_in, n_hidden, n_out, seed):
    got = student.init_params(n_in, n_hidden, n_out, seed=seed)
    expect_type(got, dict, f"init_params({n_in}, {n_hidden}, {n_out})")
    expect(set(got) == set(KEYS), f"init_params({n_in}, {n_hidden}, {n_out}): expected the keys "
           f"W1, b1, W2, b2, got {sorted(map(str, got))}")
    return got


@points(1, hint="W1 is (n_in, n_hidden), b1 (n_hidden,), W2 (n_hidden, n_out), b2 (n_out,).")
def test_init_shapes(student):
    """init_params returns W1, b1, W2, b2 with the right shapes"""
    for n_in, n_hidden, n_out in [(2, 4, 1), (5, 8, 2), (3, 1, 3)]:
        got = _params(student, n_in, n_hidden, n_out, 0)
        ref = ref_init(n_in, n_hidden, n_out, 0)
        for key in KEYS:
            expect_shape(got[key], ref[key].shape, f"init_params({n_in}, {n_hidden}, {n_out})['{key}']")


@points(2, hint="rng = np.random.default_rng(seed); draw W1 = rng.standard_normal((n_in, n_hidden)) first, "
                "then W2 = rng.standard_normal((n_hidden, n_out)); biases are zeros.")
def test_init_values(student):
    """init_params draws W1 then W2 from default_rng(seed), biases zero"""
    for n_in, n_hidden, n_out, seed in [(2, 4, 1, 0), (3, 5, 2, 11), (4, 3, 1, 1234)]:
        got = _params(student, n_in, n_hidden, n_out, seed)
        ref = ref_init(n_in, n_hidden, n_out, seed)
        for key in KEYS:
            expect_equal(np.asarray(got[key], dtype=np.float64), ref[key],
                         f"init_params({n_in}, {n_hidden}, {n_out}, seed={seed})['{key}']")
