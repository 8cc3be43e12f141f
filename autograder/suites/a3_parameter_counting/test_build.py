"""Hidden checks for `build_mlp`: layer types, order, sizes and parameter count.

`build_mlp` returns an nn.Sequential of standard layers; the suite fetches it by
value (rebuilt in the grader) and inspects and counts it with PyTorch itself.
"""

import itertools

import numpy as np
import pytest
import torch
from torch import nn

from autograder.testing import expect, expect_equal, expect_shape, expect_type, fail, points

SEED = 303
ORDER_SIZES = [6, 5, 4, 3]
COMBOS = [(0.0, False), (0.3, False), (0.0, True), (0.3, True)]


def _module(value, what: str) -> nn.Module:
    """The returned model as a real module in the grader (fetched by value when it is a handle)."""
    model = value.fetch() if hasattr(type(value), "fetch") else value
    expect_type(model, nn.Sequential, what)
    return model


def _on_model(compute, call: str, doing: str):
    """Run a grader-side computation on the student's model; its exception becomes a check failure.

    The model is the student's answer, so an error it raises here (a layer sized for the wrong
    width, say) is reported as the student's, naming the call that built it.
    """
    try:
        return compute()
    except Exception as exc:  # the student's model raised inside the grader's computation
        text = " ".join(str(exc).split())[:300]
        fail(f"the model from {call} raised {type(exc).__name__} when the grader {doing}: {text}")


def _ref_layer_kinds(layer_sizes: list[int], dropout: float, batchnorm: bool) -> list[type]:
    """Linear [BatchNorm1d] ReLU [Dropout] per hidden layer, then a bare Linear."""
    kinds: list[type] = []
    n_layers = len(layer_sizes) - 1
    for i in range(n_layers):
        kinds.append(nn.Linear)
        if i < n_layers - 1:
            kinds += [nn.BatchNorm1d] if batchnorm else []
            kinds.append(nn.ReLU)
            kinds += [nn.Dropout] if dropout > 0 else []
    return kinds


def _ref_build_count(layer_sizes: list[int], batchnorm: bool) -> int:
    """Weights and biases of every Linear, plus a scale and a shift per hidden feature with batch norm."""
    total = sum(a * b + b for a, b in itertools.pairwise(layer_sizes))
    if batchnorm:
        total += sum(2 * width for width in layer_sizes[1:-1])
    return total


def _names(kinds) -> list[str]:
    return [k.__name__ for k in kinds]


def _random_layer_lists(seed: int, n: int) -> list[list[int]]:
    """n layer lists of length 2-5 with widths 1-64 (small: the model crosses by value)."""
    rng = np.random.default_rng(seed)
    return [[int(w) for w in rng.integers(1, 65, size=int(rng.integers(2, 6)))] for _ in range(n)]


@pytest.mark.parametrize("dropout,batchnorm", COMBOS,
                         ids=["plain", "dropout", "batchnorm", "dropout_batchnorm"])
@points(1, hint="Per hidden layer: Linear, then BatchNorm1d (only if batchnorm), ReLU, then Dropout "
                "(only if dropout > 0). The last Linear has nothing after it.")
def test_layer_order(student, dropout, batchnorm):
    """layer types and order for each combination of dropout and batchnorm"""
    call = f"build_mlp({ORDER_SIZES}, dropout={dropout}, batchnorm={batchnorm})"
    model = _module(student.build_mlp(list(ORDER_SIZES), dropout=dropout, batchnorm=batchnorm), call)
    got = _on_model(lambda: [type(layer).__name__ for layer in model], call, "listed its layers")
    expected = _names(_ref_layer_kinds(ORDER_SIZES, dropout, batchnorm))
    expect(got == expected, f"{call}: expected layers {expected}, got {got}")


@points(1, hint="With two sizes there is only the output layer: a single bare Linear, "
                "whatever dropout and batchnorm say.")
def test_single_layer(student):
    """a network with no hidden layer is one bare Linear"""
    call = "build_mlp([5, 2], dropout=0.5, batchnorm=True)"
    model = _module(student.build_mlp([5, 2], dropout=0.5, batchnorm=True), call)
    got = [type(layer).__name__ for layer in model]
    expect(got == ["Linear"], f"{call}: expected layers ['Linear'], got {got}")


@points(1, hint="Linear i maps layer_sizes[i] to layer_sizes[i+1] with a bias; BatchNorm1d gets the "
                "width of the layer before it; Dropout gets the probability you were given.")
def test_layer_sizes(student):
    """each Linear, BatchNorm1d and Dropout has the right size, bias and probability"""
    rng = np.random.default_rng(SEED)
    for _ in range(3):
        sizes = [int(w) for w in rng.integers(1, 65, size=int(rng.integers(3, 6)))]
        model = _module(student.build_mlp(list(sizes), dropout=0.25, batchnorm=True), "build_mlp(...)")
        linears = [m for m in model if isinstance(m, nn.Linear)]
        expect_equal(len(linears), len(sizes) - 1, what="number of Linear layers for a random layer list")
        for i, layer in enumerate(linears):
            got = (layer.in_features, layer.out_features, layer.bias is not None)
            expect(got == (sizes[i], sizes[i + 1], True),
                   f"Linear layer {i}: expected (in_features, out_features, has bias) == "
                   f"(layer_sizes[{i}], layer_sizes[{i + 1}], True); it differs on a hidden case")
        norms = [m.num_features for m in model if isinstance(m, nn.BatchNorm1d)]
        expect(norms == sizes[1:-1], "BatchNorm1d layers: expected num_features equal to the hidden widths "
                                     "layer_sizes[1:-1], in order; they differ on a hidden case")
        probs = [m.p for m in model if isinstance(m, nn.Dropout)]
        expect(len(probs) == len(sizes) - 2 and all(p == 0.25 for p in probs),
               f"Dropout layers with dropout=0.25: expected {len(sizes) - 2} of them with p=0.25, "
               f"got p values {probs}")


@pytest.mark.parametrize("batchnorm", [False, True], ids=["plain", "batchnorm"])
@points(1, hint="Each Linear needs its bias; each BatchNorm1d adds 2 parameters per feature.")
def test_parameter_count(student, batchnorm):
    """PyTorch's count of the built model, on random layer lists"""
    for sizes in _random_layer_lists(SEED + 1 + int(batchnorm), 6):
        model = _module(student.build_mlp(list(sizes), dropout=0.1, batchnorm=batchnorm), "build_mlp(...)")
        got = _on_model(lambda model=model: sum(p.numel() for p in model.parameters()),
                        f"build_mlp(random layer list, batchnorm={batchnorm})", "counted its parameters")
        expect_equal(got, _ref_build_count(sizes, batchnorm),
                     what=f"number of parameters of build_mlp(random layer list, batchnorm={batchnorm})",
                     hidden=True)


@points(1, hint="The model must map a (N, layer_sizes[0]) batch to (N, layer_sizes[-1]) logits.")
def test_forward_shape(student):
    """the built model maps (N, n_0) inputs to (N, n_L) outputs"""
    sizes = [7, 12, 9, 4]
    call = "build_mlp([7, 12, 9, 4], dropout=0.2, batchnorm=True)"
    model = _module(student.build_mlp(list(sizes), dropout=0.2, batchnorm=True), call)
    model.eval()
    x = torch.randn(5, sizes[0], generator=torch.Generator().manual_seed(SEED))

    def forward():
        with torch.no_grad():
            return model(x)

    out = _on_model(forward, call, "ran it on a (5, 7) batch (each BatchNorm1d must have the width of the "
                                   "Linear layer before it)")
    expect_shape(out, (5, sizes[-1]), what=f"{call} on a (5, 7) batch")
