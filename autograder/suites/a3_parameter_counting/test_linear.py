"""Hidden checks for `linear_params`: one fully connected layer."""

import numpy as np
from torch import nn

from autograder.testing import expect, expect_equal, points

SEED = 301
N_RANDOM = 25


def _ref_linear_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """Weights of the (n_out, n_in) matrix plus n_out biases when present."""
    return n_in * n_out + (n_out if bias else 0)


def _torch_linear_count(n_in: int, n_out: int, bias: bool) -> int:
    """PyTorch's own count of an nn.Linear (built on the meta device: no memory)."""
    layer = nn.Linear(n_in, n_out, bias=bias, device="meta")
    return sum(p.numel() for p in layer.parameters())


WORKED_LAYERS = [(784, 256, 200_960), (256, 128, 32_896), (128, 10, 1_290)]


@points(1, hint="A layer has n_in * n_out weights and one bias per output: n_in * n_out + n_out.")
def test_worked_example_layers(student):
    """the three layers of the worked example [784, 256, 128, 10]"""
    for n_in, n_out, expected in WORKED_LAYERS:
        assert _ref_linear_params(n_in, n_out) == expected
        expect_equal(student.linear_params(n_in, n_out), expected, what=f"linear_params({n_in}, {n_out})")


@points(1, hint="With bias=False the layer has no bias vector: only n_in * n_out weights.")
def test_no_bias(student):
    """bias=False counts the weights only"""
    for n_in, n_out in [(784, 256), (3, 7), (1, 1)]:
        expected = _ref_linear_params(n_in, n_out, bias=False)
        expect_equal(student.linear_params(n_in, n_out, bias=False), expected,
                     what=f"linear_params({n_in}, {n_out}, bias=False)")


@points(1, hint="Check the formula on layers that are not square and on tiny ones (1 input, 1 output).")
def test_against_pytorch(student):
    """random layer shapes, with and without bias, against PyTorch's own count of nn.Linear"""
    rng = np.random.default_rng(SEED)
    for _ in range(N_RANDOM):
        n_in, n_out = (int(v) for v in rng.integers(1, 1001, size=2))
        bias = bool(rng.integers(0, 2))
        expected = _torch_linear_count(n_in, n_out, bias)
        assert expected == _ref_linear_params(n_in, n_out, bias)
        expect_equal(student.linear_params(n_in, n_out, bias=bias), expected,
                     what="linear_params on a random layer shape", hidden=True)


@points(1, hint="A count is a whole number: return an int (e.g. `int(...)`), not a float.")
def test_returns_int(student):
    """linear_params returns an integer"""
    got = student.linear_params(10, 5)
    expect(isinstance(got, (int, np.integer)) and not isinstance(got, bool),
           f"linear_params(10, 5): expected an int, got {type(got).__name__}")
