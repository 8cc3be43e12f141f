"""Hidden checks of fit(model, train_loader, val_loader, epochs, lr, device) -> history.

The grader re-runs Adam itself from the same initial weights over the same
batches, recomputes the last validation numbers from the final weights, and
measures accuracy on digits that never leave the grader process.
"""

import math

import numpy as np
import torch

from autograder.suites.a4_pytorch_loop import _reference as ref
from autograder.testing import expect, expect_close, points

SEED = 4405
D, H, K = 6, 5, 3
CPU = torch.device("cpu")
KEYS = ("train_loss", "val_loss", "val_acc")

# Held-out accuracy: three splits of digits (20% held out), each trained with fit's defaults.
# Measured (benchmarks/thresholds.py a4; table in MARKING.md), 30 splits each: the answer key
# 0.939-0.986, two independent correct implementations 0.933-0.986 and 0.944-0.981; the known-wrong
# loops on these three splits: no zero_grad 0.869-0.939, the others 0.09-0.23. The bar sits midway
# between the worst correct run (0.933) and no zero_grad's worst graded split (0.869).
HELDOUT_SPLITS = (0, 4, 7)
HELDOUT_FRACTION = 0.2
HELDOUT_BAR = 0.90
FIT_SECONDS = 120.0


def _setup(student, seed, n_train, n_val, batch_size, *, host=False, device=CPU):
    X, y = ref.classification_data(seed, n_train, D, K)
    Xv, yv = ref.classification_data(seed + 1, n_val, D, K)
    params = ref.init_params(seed, D, H, K)
    model = student.send(ref.sequential(params))
    train = student.helper("make_loader", X, y, batch_size, host=host)
    val = student.helper("make_loader", Xv, yv, batch_size, host=host)
    return (X, y, Xv, yv), params, model, train, val


def _history(hist, epochs, call):
    expect(isinstance(hist, dict), f"{call} should return a dict, got {type(hist).__name__}")
    missing = [k for k in KEYS if k not in hist]
    expect(not missing, f"{call}: the history is missing {', '.join(repr(k) for k in missing)}")
    for key in KEYS:
        values = hist[key]
        expect(isinstance(values, list) and len(values) == epochs,
               f"{call}: history[{key!r}] should be a list of {epochs} numbers (one per epoch), got "
               + (f"{len(values)} values" if isinstance(values, (list, tuple)) else type(values).__name__))
        for v in values:
            expect(isinstance(v, (int, float, np.floating)) and not isinstance(v, bool) and math.isfinite(v),
                   f"{call}: history[{key!r}] should hold finite Python floats, got {v!r}")
    expect(all(0.0 <= a <= 1.0 for a in hist["val_acc"]),
           f"{call}: validation accuracies should be fractions in [0, 1], got {hist['val_acc']}")
    return hist


@points(2, hint="Each epoch: append train_one_epoch's loss, then evaluate on val_loader and append its "
                "loss and accuracy, under the keys 'train_loss', 'val_loss' and 'val_acc'.")
def test_history(student):
    """one train loss, val loss and val accuracy per epoch; the last ones match the final weights"""
    (_X, _y, Xv, yv), _params, model, train, val = _setup(student, SEED, 40, 20, 8)
    call = "fit(model, train_loader, val_loader, epochs=3, lr=0.01)"
    hist = _history(student.fit(model, train, val, epochs=3, lr=0.01, device=CPU), 3, call)
    final = ref.split_state(model.state_dict(), D, H, K, "the model after fit")
    expect_close(hist["val_loss"][-1], ref.mean_loss(final, Xv, yv),
                 f"{call}: the last val_loss against the grader's loss of the final weights on the "
                 "validation data", rtol=ref.LOSS_RTOL, atol=ref.LOSS_ATOL, hidden=True)
    expect_close(hist["val_acc"][-1], ref.accuracy(final, Xv, yv),
                 f"{call}: the last val_acc against the grader's accuracy of the final weights", rtol=0,
                 atol=1e-9, hidden=True)


@points(2, hint="Build `torch.optim.Adam(model.parameters(), lr=lr)` and `nn.CrossEntropyLoss()` once, "
                "before the epoch loop, and pass them to train_one_epoch.")
def test_adam_and_lr(student):
    """fit trains with Adam at the given learning rate (default 1e-3) and cross-entropy"""
    for epochs, kwargs in ((2, {"lr": 0.01}), (1, {})):
        (X, y, _, _), params, model, train, val = _setup(student, SEED + 10 + epochs, 24, 10, 8)
        shown = ", ".join(f"{k}={v}" for k, v in {"epochs": epochs, **kwargs}.items())
        student.fit(model, train, val, epochs=epochs, device=CPU, **kwargs)
        expected = ref.adam(ref.as64(params), ref.batches(X, y, 8), kwargs.get("lr", 1e-3), epochs)
        got = ref.split_state(model.state_dict(), D, H, K, "the model after fit")
        for name in ref.NAMES:
            expect_close(got[name], expected[name],
                         f"fit({shown}): {name} against the grader's own Adam loop from the same weights "
                         "and batches", rtol=ref.WEIGHT_RTOL, atol=ref.WEIGHT_ATOL, hidden=True)


def _expect_model_moved(student, watcher, device, call):
    requested = {torch.device(d).type for d in student.helper("model_moves", watcher)}
    expect(device.type in requested, f"{call} never moved the model with model.to(device) "
                                     f"(device was {device.type})")


def _expect_trained(student, model, params, X, y, call):
    """The model's weights after one epoch of fit equal the grader's own Adam re-run (lr 1e-3, batches of 8)."""
    expected = ref.adam(ref.as64(params), ref.batches(X, y, 8), 1e-3, 1)
    got = ref.split_state(model.state_dict(), D, H, K, f"the model after {call}")
    for name in ref.NAMES:
        expect_close(got[name], expected[name],
                     f"{call}: {name} against the grader's own Adam epoch from the same weights and batches "
                     "(fit must train the model it is given, there)", rtol=ref.WEIGHT_RTOL,
                     atol=ref.WEIGHT_ATOL, hidden=True)


@points(2, hint="Start fit with `model.to(device)`, and let train_one_epoch and evaluate move each batch.")
def test_on_device(student, device):
    """fit moves the model to the given device and trains and evaluates there"""
    (X, y, _, _), params, model, train, val = _setup(student, SEED + 20, 16, 8, 8, host=True)
    watcher = student.helper("watch_moves", model)
    call = f"fit(..., epochs=1, device={device.type!r})"
    _history(student.fit(model, train, val, epochs=1, device=device), 1, call)
    _expect_model_moved(student, watcher, device, call)
    where = student.helper("parameter_devices", model)
    expect(all(torch.device(d).type == device.type for d in where),
           f"after {call} the model's parameters are on {where}, not on {device.type}")
    ref.expect_moved(student.helper("moves", train), device, f"{call}, training batches")
    ref.expect_moved(student.helper("moves", val), device, f"{call}, validation batches")
    _expect_trained(student, model, params, X, y, call)


@points(1, hint="Begin fit with `if device is None: device = get_device()`.")
def test_default_device(student):
    """with device=None, fit uses get_device() (here: no CUDA, so the CPU) and trains there"""
    (X, y, _, _), params, model, train, val = _setup(student, SEED + 30, 16, 8, 8, host=True)
    watcher = student.helper("watch_moves", model)
    call = "fit(..., epochs=1) with device=None and no CUDA available"
    status, hist = student.helper("call_without_cuda", student.get("fit"), model, train, val, epochs=1)
    expect(status == "ok", f"{call}: `fit` raised {hist}")
    _history(hist, 1, call)
    _expect_model_moved(student, watcher, CPU, call)
    ref.expect_moved(student.helper("moves", train), CPU, f"{call}, training batches")
    _expect_trained(student, model, params, X, y, call)


def _holdout(split: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    perm = np.random.default_rng(split).permutation(n)
    n_held = round(HELDOUT_FRACTION * n)
    return perm[:n_held], perm[n_held:]


@points(4, hint="Train with fit's defaults (Adam, lr=1e-3, 20 epochs, cross-entropy on logits) and make sure "
                "every step of the loop is right: the other checks of train_one_epoch, evaluate and MLP "
                "point to the step at fault.")
def test_heldout_accuracy(student, device):
    """after fit with defaults, MLP() reaches at least 0.90 accuracy on held-out digits it never saw"""
    X, y = ref.digits()
    for i, split in enumerate(HELDOUT_SPLITS):
        held, rest = _holdout(split, len(X))
        student.helper("set_seed", split)
        train = student.helper("make_loader", X[rest], y[rest], 64, shuffle=True, seed=1000 + split,
                               host=True)
        val = student.helper("make_loader", X[rest[:256]], y[rest[:256]], 256, host=True)
        model = student.MLP()
        watcher = student.helper("watch_moves", model)
        with student.time_limit(FIT_SECONDS):
            student.fit(model, train, val, device=device)
        _expect_model_moved(student, watcher, device, "fit(MLP(), train_loader, val_loader)")
        params = ref.split_state(model.state_dict(), 64, 128, 10, "MLP() after fit")
        acc = ref.accuracy(params, X[held], y[held])
        expect(acc >= HELDOUT_BAR, f"after fit with its defaults, MLP() classified {acc:.3f} of the held-out "
                                   f"digits correctly on split {i + 1} of {len(HELDOUT_SPLITS)}; "
                                   f"it should reach at least {HELDOUT_BAR}")
