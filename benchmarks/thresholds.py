"""Measure the numeric bars of the hidden suites against several correct implementations.

Usage: ``python benchmarks/thresholds.py [a2] [a4] [a5]`` (all three when none is named).
Prints one table per bar: min / median / max per implementation, the bar, and the margin.
Cheap on purpose (about two minutes on one CPU core in all); the numbers go into each
assignment's MARKING.md.

- a2: relative error of ``backward`` against the grader's extended-precision backprop
  (the exactness bar of ``test_backward_is_backprop``), for four correct float64 backprops
  and for finite-difference and float32 variants that must fail.
- a4: held-out accuracy after ``fit`` with its defaults (the bar of ``test_heldout_accuracy``),
  for the answer key and two independent correct implementations, on 30 splits, run exactly
  as the check runs them; plus known-wrong loops on the three graded splits.
- a5: the epoch at which the grader's own early-stopping run stops (``RUN_MAX_EPOCHS`` of
  ``test_early_stopping``) over 30 seeds, for both graded cases.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable

import numpy as np

N_SEEDS = 30


def _row(name: str, values: list[float], fmt: str = "{:.4f}") -> str:
    return (f"| {name} | {fmt.format(min(values))} | {fmt.format(statistics.median(values))} | "
            f"{fmt.format(max(values))} |")


# --- a2 --------------------------------------------------------------------------------------

def a2() -> None:
    from autograder.suites.a2_xor_backprop import test_backward as tb

    def sig(z):
        ez = np.exp(-np.abs(z))
        return np.where(z >= 0, 1 / (1 + ez), ez / (1 + ez))

    def key(p, X, y):
        a1 = sig(X @ p["W1"] + p["b1"])
        yh = sig(a1 @ p["W2"] + p["b2"])
        d2 = (yh - y) / yh.size
        d1 = (d2 @ p["W2"].T) * a1 * (1 - a1)
        return {"W1": X.T @ d1, "b1": d1.sum(0), "W2": a1.T @ d2, "b2": d2.sum(0)}

    def through_dp(p, X, y):
        z1 = X @ p["W1"] + p["b1"]
        a1 = 1 / (1 + np.exp(-z1))
        yh = 1 / (1 + np.exp(-(a1 @ p["W2"] + p["b2"])))
        q = np.clip(yh, 1e-12, 1 - 1e-12)
        dz2 = -(y / q - (1 - y) / (1 - q)) / yh.size * yh * (1 - yh)
        dz1 = (dz2 @ p["W2"].T) * a1 * (1 - a1)
        return {"W1": X.T @ dz1, "b1": dz1.sum(0), "W2": a1.T @ dz2, "b2": dz2.sum(0)}

    def divide_last(p, X, y):
        n, k = y.shape
        a1 = sig(X @ p["W1"] + p["b1"])
        e = sig(a1 @ p["W2"] + p["b2"]) - y
        d1 = (e @ p["W2"].T) * a1 * (1 - a1)
        dW1 = np.zeros_like(p["W1"])
        for i in range(n):
            dW1 += np.outer(X[i], d1[i])
        return {"W1": dW1 / (n * k), "b1": d1.sum(0) / (n * k),
                "W2": np.einsum("nh,nk->hk", a1, e) / (n * k), "b2": e.mean(0) / k}

    def naive_sigmoid(p, X, y):
        a1 = 1 / (1 + np.exp(-(X @ p["W1"] + p["b1"])))
        yh = 1 / (1 + np.exp(-(a1 @ p["W2"] + p["b2"])))
        d2 = (yh - y) / (y.shape[0] * y.shape[1])
        d1 = d2 @ p["W2"].T * (a1 - a1 ** 2)
        return {"W1": X.T @ d1, "b1": d1.sum(0), "W2": a1.T @ d2, "b2": d2.sum(0)}

    def float32(p, X, y):
        g = key({k: v.astype(np.float32) for k, v in p.items()}, X.astype(np.float32), y.astype(np.float32))
        return {k: v.astype(np.float64) for k, v in g.items()}

    def finite(h: float, order: int) -> Callable:
        def grads(p, X, y):
            out = {}
            for name in p:
                g = np.zeros_like(p[name])
                for i in np.ndindex(*p[name].shape):
                    def loss(d, name=name, i=i):
                        q = {k: v.copy() for k, v in p.items()}
                        q[name][i] += d
                        return tb._ref_loss(q, X, y)
                    if order == 2:
                        g[i] = (loss(h) - loss(-h)) / (2 * h)
                    else:
                        g[i] = (-loss(2 * h) + 8 * loss(h) - 8 * loss(-h) + loss(-2 * h)) / (12 * h)
                out[name] = g
            return out
        return grads

    impls = {"answer key": key, "through dL/dp (clipped p)": through_dp, "divide by N*K last, einsum, loop":
             divide_last, "naive sigmoid, a - a**2": naive_sigmoid, "float32 backprop (must fail)": float32,
             "centred differences h=1e-5 (must fail)": finite(1e-5, 2),
             "centred differences h=1e-6 (must fail)": finite(1e-6, 2),
             "4th-order differences h=2e-3 (must fail)": finite(2e-3, 4),
             "4th-order differences h=5e-4 (must fail)": finite(5e-4, 4)}
    print("\n## a2: exactness of backward (relative error, the check's three cases)\n")
    print("| implementation | min | median | max |\n|---|---:|---:|---:|")
    for name, fn in impls.items():
        errs = []
        for index, case in enumerate(tb.EXACT_CASES):
            params, X, y = tb._case(tb.SEED + 80 + index, *case)
            true = tb._ref_exact_grads(params, X, y)
            got = fn(params, X, y)
            errs.append(max(tb._exact_error(got[k], true[k]) for k in tb.KEYS))
        print(_row(name, errs, "{:.1e}"))
    print(f"\nbar: relative error < {tb.EXACT_TOL:g}")


# --- a4 --------------------------------------------------------------------------------------

def _a4_models():
    import torch
    import torch.nn.functional as F
    from torch import nn

    class KeyMLP(nn.Module):
        """The answer key: Linear -> ReLU -> Dropout -> Linear, PyTorch's default init."""

        def __init__(self, n_in=64, n_hidden=128, n_out=10, dropout=0.2):
            super().__init__()
            self.net = nn.Sequential(nn.Linear(n_in, n_hidden), nn.ReLU(), nn.Dropout(dropout),
                                     nn.Linear(n_hidden, n_out))

        def forward(self, x):
            return self.net(x)

    class KaimingMLP(nn.Module):
        """Output layer built first, He-normal weights and zero biases, functional ReLU and dropout."""

        def __init__(self, n_in=64, n_hidden=128, n_out=10, dropout=0.2):
            super().__init__()
            self.out = nn.Linear(n_hidden, n_out)
            self.hidden = nn.Linear(n_in, n_hidden)
            self.p = dropout
            nn.init.kaiming_normal_(self.hidden.weight, nonlinearity="relu")
            nn.init.zeros_(self.hidden.bias)
            nn.init.xavier_uniform_(self.out.weight)
            nn.init.zeros_(self.out.bias)

        def forward(self, x):
            return self.out(F.dropout(F.relu(self.hidden(x)), self.p, self.training))

    class XavierMLP(nn.Module):
        """Separate attributes, Xavier-normal weights, small constant biases, nn.Dropout module first."""

        def __init__(self, n_in=64, n_hidden=128, n_out=10, dropout=0.2):
            super().__init__()
            self.drop = nn.Dropout(dropout)
            self.fc1 = nn.Linear(n_in, n_hidden)
            self.fc2 = nn.Linear(n_hidden, n_out)
            for layer in (self.fc1, self.fc2):
                nn.init.xavier_normal_(layer.weight)
                nn.init.constant_(layer.bias, 0.01)

        def forward(self, x):
            return self.fc2(self.drop(torch.relu(self.fc1(x))))

    return KeyMLP, KaimingMLP, XavierMLP


def _a4_fit(model, train, val, style: str, epochs=20, lr=1e-3):
    """fit with the contract's defaults, in one of several loop styles (or a known-wrong one)."""
    import torch
    from torch import nn

    criterion = nn.CrossEntropyLoss()
    opt_cls = torch.optim.SGD if style == "sgd" else torch.optim.Adam
    optimizer = opt_cls(model.parameters(), lr=lr)
    for _ in range(epochs):
        model.train()
        for xb, yb in train:
            if style == "key":
                optimizer.zero_grad()
                criterion(model(xb), yb).backward()
                optimizer.step()
            elif style == "model_zero_grad_end":  # correct: gradients cleared after each step instead
                loss = nn.functional.cross_entropy(model(xb), yb, reduction="sum") / len(yb)
                loss.backward()
                optimizer.step()
                model.zero_grad(set_to_none=False)
            elif style == "no_zero_grad":
                criterion(model(xb), yb).backward()
                optimizer.step()
            elif style == "zero_between":
                criterion(model(xb), yb).backward()
                optimizer.zero_grad()
                optimizer.step()
            elif style == "step_first":
                optimizer.zero_grad()
                optimizer.step()
                criterion(model(xb), yb).backward()
            elif style == "sgd":
                optimizer.zero_grad()
                criterion(model(xb), yb).backward()
                optimizer.step()
        model.eval()
        with torch.no_grad():
            for xb, yb in val:
                criterion(model(xb), yb)
    return model


def a4() -> None:
    import torch

    from autograder.suites.a4_pytorch_loop import _reference as ref
    from autograder.suites.a4_pytorch_loop import student_helpers as helpers
    from autograder.suites.a4_pytorch_loop import test_fit as tf

    torch.set_num_threads(1)
    KeyMLP, KaimingMLP, XavierMLP = _a4_models()
    X, y = ref.digits()

    def held_acc(make, style, split):
        held, rest = tf._holdout(split, len(X))
        helpers.set_seed(split)
        train = helpers.make_loader(X[rest], y[rest], 64, shuffle=True, seed=1000 + split)
        val = helpers.make_loader(X[rest[:256]], y[rest[:256]], 256)
        model = _a4_fit(make(), train, val, style)
        params = ref.split_state(model.state_dict(), 64, 128, 10, "model")
        return ref.accuracy(params, X[held], y[held])

    correct = {"answer key (default init, Sequential, zero_grad first)": (KeyMLP, "key"),
               "He/Xavier init, output layer built first, functional dropout, zero_grad last": (KaimingMLP,
                                                                                                "model_zero_grad_end"),
               "Xavier-normal init, Dropout built first, separate layers": (XavierMLP, "key")}
    print(f"\n## a4: held-out accuracy after fit with its defaults ({N_SEEDS} splits, 20% held out)\n")
    print("| implementation | min | median | max |\n|---|---:|---:|---:|")
    lows = []
    for name, (make, style) in correct.items():
        accs = [held_acc(make, style, split) for split in range(N_SEEDS)]
        lows.append(min(accs))
        print(_row(name, accs))
    print(f"\nbar {tf.HELDOUT_BAR}; lowest correct run {min(lows):.4f}; margin {min(lows) - tf.HELDOUT_BAR:+.4f}")
    wrong = {"no zero_grad": "no_zero_grad", "zero_grad between backward and step": "zero_between",
             "step before backward": "step_first", "SGD instead of Adam": "sgd"}
    print(f"\nknown-wrong loops on the graded splits {tf.HELDOUT_SPLITS} (the check needs every one >= bar):\n")
    print("| known-wrong | accuracies | fails the bar |\n|---|---|---|")
    for name, style in wrong.items():
        accs = [held_acc(KeyMLP, style, split) for split in tf.HELDOUT_SPLITS]
        print(f"| {name} | {', '.join(f'{a:.4f}' for a in accs)} | {min(accs) < tf.HELDOUT_BAR} |")


# --- a5 --------------------------------------------------------------------------------------

def a5() -> None:
    import torch

    from autograder.suites.a5_overfitting import test_early_stopping as te

    torch.set_num_threads(1)
    print(f"\n## a5: epoch at which the grader's early-stopping run stops ({N_SEEDS} seeds)\n")
    print("| case | min | median | max |\n|---|---:|---:|---:|")
    original = te.RUN_SEED
    worst = 0
    try:
        for case, (patience, min_delta) in te._RUNS.items():
            stops = []
            for seed in range(N_SEEDS):
                te.RUN_SEED = seed
                run, ref = te._Run(torch.device("cpu")), te._RefEarlyStopping(patience, min_delta)
                limit = 10 * te.RUN_MAX_EPOCHS
                stops.append(next((e for e in range(limit) if ref.step(run.epoch())), limit - 1))
            worst = max(worst, max(stops))
            print(_row(case, stops, "{:.0f}"))
    finally:
        te.RUN_SEED = original
    print(f"\nbar RUN_MAX_EPOCHS = {te.RUN_MAX_EPOCHS}; latest stop {worst}; margin {te.RUN_MAX_EPOCHS - worst} epochs")


if __name__ == "__main__":
    chosen = sys.argv[1:] or ["a2", "a4", "a5"]
    for section in chosen:
        {"a2": a2, "a4": a4, "a5": a5}[section]()
