"""Hidden checks for `count_parameters` on modules built by the grader.

The modules are standard torch.nn layers and containers; they cross to the
student's process by value, with shared parameters kept shared and
`requires_grad` kept.
"""

import numpy as np
import torch
from torch import nn

from autograder.testing import expect_equal, points

SEED = 304


def _ref_count(model: nn.Module, trainable_only: bool = True) -> int:
    """Scalars in every distinct Parameter (by identity), frozen ones left out if asked; buffers never."""
    seen: set[int] = set()
    total = 0
    for module in model.modules():
        for p in module._parameters.values():
            if p is None or id(p) in seen:
                continue
            seen.add(id(p))
            if trainable_only and not p.requires_grad:
                continue
            total += p.numel()
    return total


def _ref_linear(n_in: int, n_out: int, bias: bool = True) -> int:
    return n_in * n_out + (n_out if bias else 0)


def _ref_conv2d(c_in: int, c_out: int, kh: int, kw: int, groups: int = 1, bias: bool = True) -> int:
    """c_out filters of shape (c_in / groups, kh, kw), plus one bias per filter."""
    return c_out * (c_in // groups) * kh * kw + (c_out if bias else 0)


def _rng(offset: int) -> np.random.Generator:
    return np.random.default_rng(SEED + offset)


def _widths(rng: np.random.Generator, n: int, low: int = 1, high: int = 200) -> list[int]:
    return [int(w) for w in rng.integers(low, high + 1, size=n)]


@points(1, hint="Add up `p.numel()` over `model.parameters()`.")
def test_plain_mlp(student):
    """a Linear/ReLU stack, and a lone Linear layer"""
    torch.manual_seed(SEED)
    a, b, c, d = _widths(_rng(0), 4)
    model = nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Linear(b, c), nn.Tanh(), nn.Linear(c, d))
    expected = _ref_linear(a, b) + _ref_linear(b, c) + _ref_linear(c, d)
    assert expected == _ref_count(model)
    expect_equal(student.count_parameters(model), expected, what="count_parameters(an MLP)", hidden=True)
    expect_equal(student.count_parameters(nn.Linear(784, 256)), 200_960,
                 what="count_parameters(nn.Linear(784, 256))")


@points(1, hint="Do not assume Linear layers: count every tensor that `model.parameters()` yields, "
                "whatever its shape (a conv weight is 4-D).")
def test_conv2d(student):
    """convolutional layers (with and without bias, grouped)"""
    torch.manual_seed(SEED)
    c1, c2 = (4 * w for w in _widths(_rng(1), 2, 1, 8))
    model = nn.Sequential(
        nn.Conv2d(3, c1, 3), nn.ReLU(),
        nn.Conv2d(c1, c2, (3, 5), bias=False), nn.ReLU(),
        nn.Conv2d(c2, c2, 3, groups=4), nn.Flatten(),
    )
    expected = (_ref_conv2d(3, c1, 3, 3) + _ref_conv2d(c1, c2, 3, 5, bias=False)
                + _ref_conv2d(c2, c2, 3, 3, groups=4))
    assert expected == _ref_count(model)
    expect_equal(student.count_parameters(model), expected, what="count_parameters(a stack of Conv2d layers)",
                 hidden=True)


@points(1, hint="An Embedding(num, dim) is a (num, dim) weight table; count it like any other parameter. "
                "`model` may be any container, such as an nn.ModuleDict.")
def test_embedding(student):
    """an Embedding and a Linear head inside an nn.ModuleDict"""
    torch.manual_seed(SEED)
    vocab, dim, classes = _widths(_rng(2), 3, 2, 300)
    model = nn.ModuleDict({"embed": nn.Embedding(vocab, dim), "head": nn.Linear(dim, classes)})
    expected = vocab * dim + _ref_linear(dim, classes)
    assert expected == _ref_count(model)
    expect_equal(student.count_parameters(model), expected,
                 what="count_parameters(Embedding + Linear)", hidden=True)


@points(1, hint="Running mean and variance are buffers, not parameters: count `model.parameters()`, "
                "not `model.state_dict()` or `model.buffers()`.")
def test_batchnorm_buffers_excluded(student):
    """BatchNorm layers: scale and shift counted, running statistics not"""
    torch.manual_seed(SEED)
    a, b, c = _widths(_rng(3), 3, 2, 100)
    mlp = nn.Sequential(nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU(), nn.Linear(b, c))
    mlp.train()
    mlp(torch.randn(8, a))  # running statistics now hold values
    conv = nn.Sequential(nn.Conv2d(3, 6, 3), nn.BatchNorm2d(6), nn.ReLU())
    cases = [
        ("an MLP with BatchNorm1d", mlp, _ref_linear(a, b) + 2 * b + _ref_linear(b, c)),
        ("a Conv2d with BatchNorm2d", conv, _ref_conv2d(3, 6, 3, 3) + 2 * 6),
    ]
    for what, model, expected in cases:
        assert expected == _ref_count(model)
        for trainable_only in (True, False):
            expect_equal(student.count_parameters(model, trainable_only=trainable_only), expected,
                         what=f"count_parameters({what}, trainable_only={trainable_only})", hidden=True)


@points(1, hint="A Parameter shared by two layers is stored and trained once: count it once. "
                "`model.parameters()` yields each distinct Parameter once; "
                "looping over `model.modules()` does not.")
def test_tied_weight(student):
    """a weight shared by an Embedding and the output Linear layer is counted once"""
    torch.manual_seed(SEED)
    vocab, dim = _widths(_rng(4), 2, 2, 300)
    model = nn.Sequential(nn.Embedding(vocab, dim), nn.Linear(dim, vocab))
    model[1].weight = model[0].weight  # tied: both (vocab, dim)
    expected = vocab * dim + vocab
    assert expected == _ref_count(model)
    for trainable_only in (True, False):
        expect_equal(student.count_parameters(model, trainable_only=trainable_only), expected,
                     what=f"count_parameters(tied embedding model, trainable_only={trainable_only})",
                     hidden=True)


def _partly_frozen() -> tuple[nn.Module, int, int]:
    """An MLP whose first layer is frozen, and whose third layer has a frozen bias."""
    torch.manual_seed(SEED)
    a, b, c, d = _widths(_rng(5), 4, 2, 200)
    model = nn.Sequential(nn.Linear(a, b), nn.ReLU(), nn.Linear(b, c), nn.ReLU(), nn.Linear(c, d))
    for p in model[0].parameters():
        p.requires_grad_(False)
    model[2].bias.requires_grad_(False)
    total = _ref_linear(a, b) + _ref_linear(b, c) + _ref_linear(c, d)
    trainable = b * c + _ref_linear(c, d)
    assert (total, trainable) == (_ref_count(model, False), _ref_count(model, True))
    return model, total, trainable


@points(1, hint="Skip parameters with `p.requires_grad == False` when trainable_only is True (the default).")
def test_frozen_excluded(student):
    """frozen parameters are left out by default and with trainable_only=True"""
    model, _, trainable = _partly_frozen()
    expect_equal(student.count_parameters(model), trainable,
                 what="count_parameters(a partly frozen MLP)", hidden=True)
    expect_equal(student.count_parameters(model, trainable_only=True), trainable,
                 what="count_parameters(a partly frozen MLP, trainable_only=True)", hidden=True)


@points(1, hint="With trainable_only=False every parameter counts, frozen or not.")
def test_frozen_included_when_asked(student):
    """trainable_only=False counts frozen parameters too"""
    model, total, _ = _partly_frozen()
    expect_equal(student.count_parameters(model, trainable_only=False), total,
                 what="count_parameters(a partly frozen MLP, trainable_only=False)", hidden=True)
