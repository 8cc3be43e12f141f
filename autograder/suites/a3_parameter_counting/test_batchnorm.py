"""Hidden checks for `batchnorm_params`: learnable scale and shift, no buffers."""

import numpy as np
from torch import nn

from autograder.testing import expect_equal, points

SEED = 305


def _ref_batchnorm_params(n_features: int) -> int:
    """One scale (gamma) and one shift (beta) per feature."""
    return 2 * n_features


@points(1, hint="BatchNorm learns a scale and a shift per feature; "
                "the running mean and variance are buffers.")
def test_batchnorm_256(student):
    """batchnorm_params(256), the BatchNorm1d(256) of the course"""
    expect_equal(student.batchnorm_params(256), _ref_batchnorm_params(256), what="batchnorm_params(256)")


@points(1, hint="Count only what `nn.BatchNorm1d(n).parameters()` yields, not its state_dict.")
def test_against_pytorch(student):
    """random feature counts against the trainable parameters of nn.BatchNorm1d"""
    rng = np.random.default_rng(SEED)
    for n in [1, *(int(v) for v in rng.integers(2, 2049, size=10))]:
        layer = nn.BatchNorm1d(n)
        expected = sum(p.numel() for p in layer.parameters() if p.requires_grad)
        assert expected == _ref_batchnorm_params(n)
        expect_equal(student.batchnorm_params(n), expected,
                     what="batchnorm_params on a random size", hidden=True)
