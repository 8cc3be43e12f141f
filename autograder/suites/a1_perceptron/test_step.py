"""Hidden checks of step(z)."""

import numpy as np
import pytest

from autograder.suites.a1_perceptron._reference import ref_step
from autograder.testing import expect, expect_equal, points


@points(1, hint="The neuron fires at exactly zero: compare with `z >= 0`, not `z > 0`.")
def test_step_at_zero(student):
    """step fires (returns 1) at exactly z = 0"""
    got = student.step(np.array([0.0, -0.0, -1e-12, 1e-12]))
    expect_equal(np.asarray(got).tolist(), [1, 1, 0, 1], what="step([0.0, -0.0, -1e-12, 1e-12])")
    expect(int(np.asarray(student.step(0.0))) == 1, "step(0.0) should be 1")


@points(1, hint="Return integers (0/1), e.g. `(z >= 0).astype(int)`, not booleans or floats.")
def test_step_values_and_dtype(student):
    """step matches the reference on random inputs and returns integers"""
    z = np.random.default_rng(101).normal(0, 3, size=50)
    got = np.asarray(student.step(z))
    expect(got.dtype.kind in "iu", f"step should return an int array, got dtype {got.dtype}")
    expect_equal(got, ref_step(z), what="step on 50 random values", hidden=True)


@points(1, hint="Work elementwise on the whole array (NumPy comparison), without flattening it.")
@pytest.mark.parametrize("shape", [(7,), (2, 3), (2, 2, 2)], ids=["1d", "2d", "3d"])
def test_step_shape(student, shape):
    """step keeps the shape of its input"""
    z = np.random.default_rng(102).normal(size=shape)
    got = np.asarray(student.step(z))
    expect_equal(got.shape, shape, what=f"step(z).shape for z of shape {shape}")
