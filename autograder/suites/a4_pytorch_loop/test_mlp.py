"""Hidden checks of MLP(n_in, n_hidden, n_out, dropout): shapes, logits, dropout.

The model stays in the student's process; the grader reads its weights with
``state_dict()`` and computes the expected outputs itself in float64.
"""

import numpy as np
import pytest
import torch

from autograder.suites.a4_pytorch_loop import _reference as ref
from autograder.testing import expect, expect_close, expect_shape, points

SEED = 4402
D, H, K = 5, 7, 3


def _make(student, d, h, k, dropout):
    return student.MLP(n_in=d, n_hidden=h, n_out=k, dropout=dropout)


@pytest.mark.parametrize("sizes", [(64, 128, 10), (D, H, K)], ids=["default", "small"])
@points(1, hint="Two nn.Linear layers: n_in -> n_hidden and n_hidden -> n_out, each with a bias.")
def test_layer_shapes(student, sizes):
    """the parameters are exactly two Linear layers of the requested sizes"""
    d, h, k = sizes
    model = student.MLP() if sizes == (64, 128, 10) else _make(student, d, h, k, 0.2)
    call = "MLP()" if sizes == (64, 128, 10) else f"MLP(n_in={d}, n_hidden={h}, n_out={k})"
    ref.split_state(model.state_dict(), d, h, k, call)


@points(2, hint="forward should return the raw scores of the last Linear layer (logits): no softmax, "
                "since nn.CrossEntropyLoss applies log-softmax itself.")
def test_forward_returns_logits(student):
    """in eval mode the output is relu(x W1^T + b1) W2^T + b2 (logits, no softmax), shape (n, n_out)"""
    model = _make(student, D, H, K, 0.5)
    params = ref.split_state(model.state_dict(), D, H, K, f"MLP(n_in={D}, n_hidden={H}, n_out={K})")
    model.eval()
    x = torch.from_numpy(np.random.default_rng(SEED).standard_normal((6, D)).astype(np.float32))
    out = model(x)
    expect(isinstance(out, torch.Tensor), f"model(x) should return a tensor, got {type(out).__name__}")
    expect_shape(out, (6, K), "model(x) for x of shape (6, 5)")
    expected = ref.logits(params, x)
    sums_to_one = torch.allclose(out.double().sum(dim=1), torch.ones(6, dtype=torch.float64), atol=1e-5)
    expect(not sums_to_one, "model(x) returned rows that sum to 1, i.e. probabilities: forward should return "
                            "the logits of the last Linear layer, with no softmax")
    expect_close(out, expected, "model(x) in eval mode against the grader's forward pass",
                 rtol=1e-5, atol=1e-6)
    one = model(x[:1])
    expect_shape(one, (1, K), "model(x) for a single sample of shape (1, 5)")


def _dropout_probe(student, p: float):
    """A model whose hidden units are all 1 and whose outputs copy the first hidden units.

    In eval mode every output is then the same value; in train mode a dropped unit
    gives an output below it and a kept one an output above it, so the fraction of
    outputs below the eval-mode output is the fraction of units dropped (a softmax
    on top would keep that order).
    """
    d, h, k = 3, 400, 200
    model = _make(student, d, h, k, p)
    state = model.state_dict()
    ref.split_state(state, d, h, k, f"MLP(n_in={d}, n_hidden={h}, n_out={k}, dropout={p})")
    probe = {"W1": torch.zeros(h, d), "b1": torch.ones(h), "W2": torch.eye(k, h), "b2": torch.zeros(k)}
    shapes = {tuple(v.shape): n for n, v in probe.items()}
    new_state = {name: probe[shapes[tuple(t.shape)]].to(t.dtype) for name, t in state.items()}
    model.load_state_dict(new_state)
    return model


@pytest.mark.parametrize("p", [0.5, 0.2])
@points(1, hint="Put nn.Dropout(dropout) between the ReLU and the last Linear; nn.Dropout is active "
                "after model.train() and does nothing after model.eval().")
def test_dropout_train_only(student, p):
    """dropout drops about a fraction `dropout` of hidden units in train mode, and nothing in eval mode"""
    model = _dropout_probe(student, p)
    x = torch.zeros(20, 3)
    model.eval()
    eval_out = model(x).double()
    again = model(x).double()
    expect(torch.equal(eval_out, again), f"MLP(dropout={p}) in eval mode gave different outputs for the same "
                                         "input: dropout should be off in eval mode")
    expect(bool((eval_out == eval_out[0, 0]).all()),
           f"MLP(dropout={p}) in eval mode: with every hidden unit equal, every output should be equal "
           "(dropout must not act in eval mode)")
    model.train()
    train_out = model(x).double()
    dropped = float((train_out < eval_out[0, 0] - 1e-6).double().mean())
    kept_above = bool(((train_out < eval_out[0, 0] - 1e-6) | (train_out > eval_out[0, 0] + 1e-6)).all())
    expect(abs(dropped - p) < 0.05,
           f"MLP(dropout={p}) in train mode dropped a fraction {dropped:.3f} of the hidden units, expected "
           f"about {p}")
    expect(kept_above, f"MLP(dropout={p}) in train mode: kept units should be scaled up by 1/(1 - p), as "
                       "nn.Dropout does")


@points(1, hint="With dropout=0.0 the model must behave the same in train and eval mode.")
def test_dropout_zero(student):
    """with dropout=0.0, train mode and eval mode give the same outputs"""
    model = _make(student, D, H, K, 0.0)
    x = torch.from_numpy(np.random.default_rng(SEED + 1).standard_normal((8, D)).astype(np.float32))
    model.train()
    train_out = model(x)
    model.eval()
    eval_out = model(x)
    expect_close(train_out, eval_out, "MLP(dropout=0.0): train-mode output against eval-mode output",
                 rtol=1e-6, atol=1e-7)
