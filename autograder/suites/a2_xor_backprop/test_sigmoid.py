"""Hidden checks for `sigmoid`: values on random arrays, and stability at |z| up to 1e4."""

import numpy as np

from autograder.suites.a2_xor_backprop._reference import ref_sigmoid
from autograder.testing import expect_close, fail, points

SEED = 2201
EXTREMES = np.array([-1e4, -1e3, -750.0, -710.0, -40.0, -1.0, 0.0, 1.0, 40.0, 710.0, 750.0, 1e3, 1e4])


@points(1, hint="sigma(z) = 1 / (1 + exp(-z)), applied elementwise; keep the input's shape.")
def test_sigmoid_values(student):
    """sigmoid matches the logistic function on arrays of several shapes"""
    rng = np.random.default_rng(SEED)
    for shape in [(7,), (3, 5), (2, 3, 4)]:
        z = rng.uniform(-30.0, 30.0, size=shape)
        expect_close(student.sigmoid(z), ref_sigmoid(z), f"sigmoid on a random array of shape {shape}",
                     rtol=1e-9, atol=1e-15, hidden=True)
    # "an array of any shape (or a number)": integer input is still the logistic function
    ints = np.array([-3, -1, 0, 2, 5])
    expect_close(np.asarray(student.sigmoid(ints), dtype=np.float64), ref_sigmoid(ints),
                 "sigmoid on the integer array [-3, -1, 0, 2, 5] (values between 0 and 1, not rounded to "
                 "integers)", rtol=1e-9, atol=1e-15)
    expect_close(np.asarray(student.sigmoid(0.5), dtype=np.float64), ref_sigmoid(0.5),
                 "sigmoid(0.5), a plain number", rtol=1e-9, atol=1e-15)


@points(2, hint="Use 1 / (1 + exp(-z)) where z >= 0 and exp(z) / (1 + exp(z)) where z < 0, "
                "so np.exp never sees a large positive number.")
def test_sigmoid_extremes(student):
    """sigmoid gives 0 and 1 at |z| up to 1e4 with no overflow, divide or invalid-value warning"""
    status, got = student.helper("call_strict", student.get("sigmoid"), EXTREMES)
    if status != "ok":
        fail(f"sigmoid(z) for z between -1e4 and 1e4, under np.errstate(over='raise', divide='raise', "
             f"invalid='raise'), raised {got}")
    expect_close(got, ref_sigmoid(EXTREMES), "sigmoid at z = [-1e4, -1e3, -750, -710, -40, -1, 0, 1, 40, "
                 "710, 750, 1e3, 1e4]", rtol=1e-9, atol=1e-15)
