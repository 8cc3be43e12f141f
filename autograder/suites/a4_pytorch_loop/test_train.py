"""Hidden checks of train_one_epoch(model, loader, optimizer, criterion, device).

The grader sends a small network of its own (so these checks do not depend on
the student's MLP), a loader of known batches and a recording optimizer, then
compares the weights after the epoch with its own float64 loop from the same
initial weights over the same batches.
"""

import numpy as np
import pytest

from autograder.suites.a4_pytorch_loop import _reference as ref
from autograder.testing import expect, expect_close, points

SEED = 4403
D, H, K = ref.SMALL
LR = 0.5
CPU = ref.CPU


def _number(value, what):
    expect(isinstance(value, (int, float, np.floating)) and not isinstance(value, bool),
           f"{what} should return the mean loss as a Python float (use loss.item()), got "
           f"{type(value).__name__}")
    return float(value)


def _order_problem(events, n_batches):
    """What went wrong with zero_grad / backward / step, from the recording optimizer's events, or None."""
    backs = [e for e in events if e[0] == "backward"]
    steps = [e for e in events if e[0] == "step"]
    zero_grads = sum(1 for e in events if e[0] == "zero_grad")
    if len(backs) != n_batches:
        return f"loss.backward() ran {len(backs)} times over {n_batches} batches: once per batch"
    if len(steps) != n_batches:
        return f"optimizer.step() ran {len(steps)} times over {n_batches} batches: once per batch"
    order = [e[0] for e in events if e[0] != "zero_grad"]
    for b in range(n_batches):
        if order[2 * b:2 * b + 2] != ["backward", "step"]:
            return (f"in batch {b + 1}, optimizer.step() ran before loss.backward(): step applies the "
                    "gradients that backward has just computed, so backward must come first")
    for b, (_, cleared) in enumerate(backs):
        if not cleared:
            return (f"when loss.backward() ran for batch {b + 1}, the gradients of batch {b} were still "
                    f"there, and PyTorch adds new gradients to old ones (zero_grad was called {zero_grads} "
                    f"times over {n_batches} batches): clear them at the start of every step")
    for b, (_, had_grad) in enumerate(steps):
        if not had_grad:
            return (f"optimizer.step() found no gradients in batch {b + 1}: they were cleared between "
                    "loss.backward() and optimizer.step()")
    return None


@points(3, hint="Every batch: optimizer.zero_grad(), then outputs = model(inputs), loss = criterion(outputs, "
                "labels), loss.backward(), optimizer.step(), in that order.")
def test_loop_order(student):
    """gradients are cleared before every backward, and step follows backward, in every batch"""
    X, y, params, model, loader = ref.remote_case(student, SEED, 10, 4)
    optimizer = student.helper("recording_sgd", model, LR)
    student.train_one_epoch(model, loader, optimizer, student.helper("cross_entropy"), CPU)
    problem = _order_problem(student.helper("events", optimizer), n_batches=3)
    expect(problem is None, f"train_one_epoch with SGD over batches of 4, 4 and 2: {problem}")
    expected, _ = ref.sgd_epoch(ref.as64(params), ref.batches(X, y, 4), LR)
    got = ref.split_state(model.state_dict(), D, H, K, "the model after train_one_epoch")
    for name in ref.NAMES:
        expect_close(got[name], expected[name], f"{name} after one SGD epoch against the grader's own "
                     "loop from the same weights and batches", rtol=ref.WEIGHT_RTOL, atol=ref.WEIGHT_ATOL,
                     hidden=True)


@pytest.mark.parametrize("n,batch_size", [(10, 4), (13, 5)], ids=["4-4-2", "5-5-3"])
@points(1, hint="Add loss.item() * len(labels) for each batch and divide by the number of samples: the "
                "short last batch must count for fewer samples than a full one.")
def test_mean_loss_per_sample(student, n, batch_size):
    """the returned loss is the mean over samples, so a short last batch weighs less"""
    X, y, params, model, loader = ref.remote_case(student, SEED + n, n, batch_size)
    optimizer = student.helper("recording_sgd", model, 0.0)  # lr 0: the weights stay put
    got = _number(student.train_one_epoch(model, loader, optimizer, student.helper("cross_entropy"), CPU),
                  "train_one_epoch")
    p64 = ref.as64(params)
    expected = ref.mean_loss(p64, X, y)
    batch_means = [ref.mean_loss(p64, xb, yb) for xb, yb in ref.batches(X, y, batch_size)]
    sizes = " + ".join(str(len(yb)) for _, yb in ref.batches(X, y, batch_size))
    if abs(got - float(np.mean(batch_means))) < 1e-6 * max(1.0, abs(got)):
        expect(False, f"train_one_epoch over batches of {sizes} samples (lr=0) returned the mean of the "
                      "batch means; the mean per sample weighs each batch by its size")
    expect_close(got, expected, f"train_one_epoch over batches of {sizes} samples (lr=0): the mean loss per "
                 "sample", rtol=ref.LOSS_RTOL, atol=ref.LOSS_ATOL, hidden=True)


@points(2, hint="Call model.train() at the start of train_one_epoch: the model may arrive in eval mode "
                "(evaluate leaves it there), and dropout only acts in train mode.")
def test_train_mode(student):
    """the model trains in train mode, even when it arrives in eval mode"""
    X, y, params, model, loader = ref.remote_case(student, SEED + 1, 12, 4, hidden=32, dropout=0.5)
    model.eval()
    recorder = student.helper("watch_modes", model)
    optimizer = student.helper("recording_sgd", model, 0.0)
    got = _number(student.train_one_epoch(model, loader, optimizer, student.helper("cross_entropy"), CPU),
                  "train_one_epoch")
    records = student.helper("mode_records", recorder)
    expect(len(records) > 0, "train_one_epoch never called the model")
    modes = sorted({r["mode"] for r in records})
    expect(modes == ["train"], f"the model ran in {' and '.join(modes)} mode during train_one_epoch; "
                               "expected train mode")
    expect(model.training.fetch() is True, "after train_one_epoch the model is not in train mode")
    eval_loss = ref.mean_loss(ref.as64(params), X, y)
    expect(abs(got - eval_loss) > 1e-6, "with dropout 0.5 the training loss equals the dropout-free loss: "
                                        "dropout did not act, so the model was not in train mode")


@points(2, hint="Move every batch to the device you are given: `inputs, labels = inputs.to(device), "
                "labels.to(device)` before the forward pass (the model is already there).")
def test_batches_on_device(student, device):
    """every batch (inputs and labels) is moved to the given device before use"""
    X, y, params, model, loader = ref.remote_case(student, SEED + 2, 8, 4, host=True, device=device)
    optimizer = student.helper("recording_sgd", model, 0.0)
    got = _number(student.train_one_epoch(model, loader, optimizer, student.helper("cross_entropy"), device),
                  "train_one_epoch")
    ref.expect_moved(student.helper("moves", loader), device, "train_one_epoch")
    expect_close(got, ref.mean_loss(ref.as64(params), X, y), f"train_one_epoch on {device.type} (lr=0): "
                 "the mean loss", rtol=ref.LOSS_RTOL, atol=ref.LOSS_ATOL, hidden=True)

