"""Hidden checks of evaluate(model, loader, criterion, device) -> (mean_loss, accuracy).

The grader sends a small network of its own and a loader of known batches, and
computes the expected loss and accuracy itself from the same weights.
"""

import numpy as np
import torch

from autograder.suites.a4_pytorch_loop import _reference as ref
from autograder.testing import expect, expect_close, points

SEED = 4404
D, H, K = ref.SMALL
CPU = ref.CPU


def _evaluate(student, model, loader, device):
    out = student.evaluate(model, loader, student.helper("cross_entropy"), device)
    expect(isinstance(out, (tuple, list)) and len(out) == 2,
           f"evaluate should return a pair (mean_loss, accuracy), got {type(out).__name__}"
           + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else ""))
    for value, name in zip(out, ("mean_loss", "accuracy")):
        expect(isinstance(value, (int, float, np.floating)) and not isinstance(value, bool),
               f"evaluate's {name} should be a Python float (use .item()), got {type(value).__name__}")
    return float(out[0]), float(out[1])


@points(2, hint="Sum loss.item() * len(labels) and the number of correct argmax predictions over all "
                "batches, then divide both by the number of samples (accuracy is a fraction, not a percent).")
def test_matches_reference(student):
    """mean loss per sample and accuracy in [0, 1] match the grader's, with a short last batch"""
    X, y, params, model, loader = ref.remote_case(student, SEED, 30, 8)
    loss, acc = _evaluate(student, model, loader, CPU)
    expect(0.0 <= acc <= 1.0, f"evaluate's accuracy should be a fraction in [0, 1], got {acc}")
    p64 = ref.as64(params)
    expect_close(loss, ref.mean_loss(p64, X, y), "evaluate's mean loss per sample (batches of 8, 8, 8 and 6)",
                 rtol=ref.LOSS_RTOL, atol=ref.LOSS_ATOL, hidden=True)
    expect_close(acc, ref.accuracy(p64, X, y), "evaluate's accuracy (correct argmax predictions / samples)",
                 rtol=0, atol=1e-9, hidden=True)


@points(2, hint="Call model.eval() at the start of evaluate, so that dropout is switched off.")
def test_eval_mode(student):
    """the model runs in eval mode (dropout off), even when it arrives in train mode"""
    X, y, params, model, loader = ref.remote_case(student, SEED + 1, 24, 8, hidden=32, dropout=0.5)
    model.train()
    recorder = student.helper("watch_modes", model)
    loss, _ = _evaluate(student, model, loader, CPU)
    records = student.helper("mode_records", recorder)
    expect(len(records) > 0, "evaluate never called the model")
    modes = sorted({r["mode"] for r in records})
    expect(modes == ["eval"],
           f"the model ran in {' and '.join(modes)} mode during evaluate; expected eval mode")
    expect_close(loss, ref.mean_loss(ref.as64(params), X, y),
                 "evaluate's mean loss, which in eval mode has no dropout", rtol=ref.LOSS_RTOL,
                 atol=ref.LOSS_ATOL, hidden=True)


@points(2, hint="Wrap the loop in `with torch.no_grad():` so that no graph is built, and never call "
                "backward or step in evaluate.")
def test_no_grad_params_unchanged(student):
    """evaluate builds no autograd graph and leaves the parameters unchanged"""
    _X, _y, _params, model, loader = ref.remote_case(student, SEED + 2, 20, 8)
    before = model.state_dict()
    recorder = student.helper("watch_modes", model)
    _evaluate(student, model, loader, CPU)
    records = student.helper("mode_records", recorder)
    expect(len(records) > 0, "evaluate never called the model")
    expect(not any(r["grad_enabled"] for r in records),
           "autograd was on while evaluate ran the model: use `with torch.no_grad():`")
    expect(not any(r.get("output_requires_grad") for r in records),
           "the model's outputs in evaluate carry an autograd graph (requires_grad=True)")
    after = model.state_dict()
    for name, value in before.items():
        expect(name in after and torch.equal(after[name], value), f"evaluate changed the parameter {name!r}")


@points(2, hint="Move every batch to the device you are given: `inputs, labels = inputs.to(device), "
                "labels.to(device)` before the forward pass.")
def test_batches_on_device(student, device):
    """every batch (inputs and labels) is moved to the given device before use"""
    X, y, params, model, loader = ref.remote_case(student, SEED + 3, 16, 8, host=True, device=device)
    loss, acc = _evaluate(student, model, loader, device)
    ref.expect_moved(student.helper("moves", loader), device, "evaluate")
    p64 = ref.as64(params)
    expect_close(loss, ref.mean_loss(p64, X, y), f"evaluate's mean loss on {device.type}", rtol=ref.LOSS_RTOL,
                 atol=ref.LOSS_ATOL, hidden=True)
    expect_close(acc, ref.accuracy(p64, X, y), f"evaluate's accuracy on {device.type}", rtol=0, atol=1e-9,
                 hidden=True)
