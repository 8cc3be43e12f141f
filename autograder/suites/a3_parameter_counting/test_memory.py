"""Hidden checks for `param_memory_mb`: bytes per dtype, mebibytes."""

import numpy as np
import pytest
import torch

from autograder.testing import expect_close, points

SEED = 306
RTOL = 1e-12
MIB = 2**20
BYTES = {"float16": 2, "float32": 4, "float64": 8}


def _ref_param_memory_mb(n_params: int, n_bytes: int) -> float:
    """n_params * bytes per element, in mebibytes."""
    return n_params * n_bytes / MIB


def _sizes() -> list[int]:
    rng = np.random.default_rng(SEED)
    return [1, 235_146, 10_000_000, *(int(v) for v in rng.integers(1, 10**9, size=5))]


@pytest.mark.parametrize("dtype_name", list(BYTES))
@points(1, hint="Bytes per parameter depend on the dtype: float16 2, float32 4, float64 8 "
                "(a tensor's `element_size()` tells you); then divide by 2**20.")
def test_dtypes(student, dtype_name):
    """memory in MiB for a given dtype"""
    dtype = getattr(torch, dtype_name)
    assert torch.empty((), dtype=dtype).element_size() == BYTES[dtype_name]
    for n in _sizes():
        expect_close(student.param_memory_mb(n, dtype), _ref_param_memory_mb(n, BYTES[dtype_name]),
                     what=f"param_memory_mb(n, torch.{dtype_name})", rtol=RTOL, hidden=True)
    expect_close(student.param_memory_mb(MIB, dtype), float(BYTES[dtype_name]),
                 what=f"param_memory_mb(2**20, torch.{dtype_name})", rtol=RTOL)


@points(1, hint="The default dtype is torch.float32 (4 bytes), and 1 MiB is 2**20 bytes, not 10**6.")
def test_default_float32(student):
    """the default dtype is float32, and the unit is the mebibyte (2**20 bytes)"""
    expect_close(student.param_memory_mb(235_146), _ref_param_memory_mb(235_146, 4),
                 what="param_memory_mb(235146)", rtol=RTOL)
    expect_close(student.param_memory_mb(10_000_000), _ref_param_memory_mb(10_000_000, 4),
                 what="param_memory_mb(10_000_000)", rtol=RTOL)
