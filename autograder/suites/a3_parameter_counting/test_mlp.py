"""Hidden checks for `mlp_params`: a stack of fully connected layers."""

import itertools

import numpy as np
import pytest
from torch import nn

from autograder.testing import expect_equal, points

SEED = 302
N_RANDOM = 30


def _ref_mlp_params(layer_sizes: list[int], bias: bool = True) -> int:
    """One layer n_i -> n_{i+1} per consecutive pair: weights plus (optionally) biases."""
    total = 0
    for n_in, n_out in itertools.pairwise(layer_sizes):
        total += n_in * n_out + (n_out if bias else 0)
    return total


def _torch_mlp_count(layer_sizes: list[int], bias: bool) -> int:
    """PyTorch's own count of the same stack of nn.Linear layers (meta device: no memory)."""
    layers = [nn.Linear(a, b, bias=bias, device="meta") for a, b in itertools.pairwise(layer_sizes)]
    return sum(p.numel() for p in nn.Sequential(*layers).parameters())


def _random_layer_lists(seed: int, n: int) -> list[list[int]]:
    """n layer lists of length 2-6 with widths 1-1000."""
    rng = np.random.default_rng(seed)
    return [[int(w) for w in rng.integers(1, 1001, size=int(rng.integers(2, 7)))] for _ in range(n)]


@points(1, hint="Sum linear_params over consecutive pairs of sizes: 784->256, 256->128, 128->10.")
def test_worked_example(student):
    """the worked example [784, 256, 128, 10] has 235,146 parameters"""
    sizes = [784, 256, 128, 10]
    assert _ref_mlp_params(sizes) == 235_146
    expect_equal(student.mlp_params(sizes), 235_146, what="mlp_params([784, 256, 128, 10])")


@points(1, hint="Four layers here: 784->512, 512->256, 256->128, 128->10. "
                "The input has no biases of its own.")
def test_practice_problem(student):
    """the practice problem [784, 512, 256, 128, 10]"""
    sizes = [784, 512, 256, 128, 10]
    expected = _ref_mlp_params(sizes)
    assert expected == 567_434
    expect_equal(student.mlp_params(sizes), expected, what="mlp_params([784, 512, 256, 128, 10])")


@pytest.mark.parametrize("bias", [True, False], ids=["bias", "no_bias"])
@points(1, hint="Compute the count from the sizes you are given (no fixed answers), "
                "one layer per consecutive pair, and pass `bias` on to every layer.")
def test_random_layer_lists(student, bias):
    """random layer lists (2-6 sizes, widths 1-1000) against PyTorch's own count"""
    for sizes in _random_layer_lists(SEED + int(bias), N_RANDOM):
        expected = _torch_mlp_count(sizes, bias)
        assert expected == _ref_mlp_params(sizes, bias)
        expect_equal(student.mlp_params(sizes, bias=bias), expected,
                     what=f"mlp_params(random layer list, bias={bias})", hidden=True)
