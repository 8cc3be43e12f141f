"""The grader's own computations for a4_pytorch_loop, run in the grader process.

Networks here are one hidden layer, ``logits = relu(X W1^T + b1) W2^T + b2``,
held as a dict of float64 tensors ``W1 (h, d), b1 (h,), W2 (k, h), b2 (k,)``.
The training loops (SGD, Adam) are written out by hand in float64, so the
student's float32 results are compared with an independent re-run from the
same initial weights over the same batches.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from autograder.testing import expect, fail

Params = dict[str, torch.Tensor]
NAMES = ("W1", "b1", "W2", "b2")

# Float32 in the student's process against float64 here, over a handful of steps.
WEIGHT_RTOL = 1e-4
WEIGHT_ATOL = 1e-5
LOSS_RTOL = 1e-5
LOSS_ATOL = 1e-6


def classification_data(seed: int, n: int, d: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` float32 inputs ``(n, d)`` and int64 labels in ``[0, k)`` from ``seed``."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(np.float32)
    y = rng.integers(0, k, size=n).astype(np.int64)
    return X, y


def init_params(seed: int, d: int, h: int, k: int) -> dict[str, np.ndarray]:
    """Float32 weights drawn like PyTorch's Linear default: uniform in +-1/sqrt(fan_in)."""
    rng = np.random.default_rng(seed)

    def uniform(fan_in: int, shape: tuple[int, ...]) -> np.ndarray:
        bound = 1.0 / math.sqrt(fan_in)
        return rng.uniform(-bound, bound, size=shape).astype(np.float32)

    return {"W1": uniform(d, (h, d)), "b1": uniform(d, (h,)),
            "W2": uniform(h, (k, h)), "b2": uniform(h, (k,))}


def sequential(params: dict[str, np.ndarray], dropout: float = 0.0) -> nn.Sequential:
    """A float32 ``Linear -> ReLU [-> Dropout] -> Linear`` holding ``params`` (to send to the student)."""
    h, d = params["W1"].shape
    k = params["W2"].shape[0]
    first, last = nn.Linear(d, h), nn.Linear(h, k)
    layers: list[nn.Module] = [first, nn.ReLU()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(last)
    net = nn.Sequential(*layers)
    with torch.no_grad():
        first.weight.copy_(torch.from_numpy(params["W1"]))
        first.bias.copy_(torch.from_numpy(params["b1"]))
        last.weight.copy_(torch.from_numpy(params["W2"]))
        last.bias.copy_(torch.from_numpy(params["b2"]))
    return net


def as64(params: dict[str, Any]) -> Params:
    """The parameters as float64 CPU tensors."""
    return {n: torch.as_tensor(np.asarray(params[n]) if isinstance(params[n], np.ndarray) else params[n])
            .detach().cpu().to(torch.float64).clone() for n in NAMES}


def split_state(state: Any, d: int, h: int, k: int, what: str) -> Params:
    """Find W1, b1, W2, b2 of a one-hidden-layer net in a state_dict by their shapes (float64)."""
    if not isinstance(state, dict):
        fail(f"{what}: state_dict() should give a dict of tensors, got {type(state).__name__}")
    tensors = {name: t for name, t in state.items() if isinstance(t, torch.Tensor)}
    shapes = {"W1": (h, d), "b1": (h,), "W2": (k, h), "b2": (k,)}
    got = sorted(tuple(t.shape) for t in tensors.values())
    if got != sorted(shapes.values()):
        fail(f"{what}: expected parameters of shapes {sorted(shapes.values())} (two Linear layers, "
             f"{d} -> {h} -> {k}), got {got}")
    out = {}
    for name, shape in shapes.items():
        match = next(t for t in tensors.values() if tuple(t.shape) == shape)
        out[name] = match.detach().cpu().to(torch.float64)
    return out


def logits(params: Params, X: Any) -> torch.Tensor:
    """``relu(X W1^T + b1) W2^T + b2`` in float64, shape ``(n, k)``."""
    x = torch.as_tensor(X).detach().cpu().to(torch.float64)
    hidden = torch.relu(x @ params["W1"].T + params["b1"])
    return hidden @ params["W2"].T + params["b2"]


def mean_loss(params: Params, X: Any, y: Any) -> float:
    """Cross-entropy averaged over every sample."""
    return float(F.cross_entropy(logits(params, X), torch.as_tensor(y).long(), reduction="mean"))


def accuracy(params: Params, X: Any, y: Any) -> float:
    """Fraction of samples whose largest logit is the label."""
    pred = logits(params, X).argmax(dim=1).numpy()
    return float(np.mean(pred == np.asarray(y)))


def batches(X: np.ndarray, y: np.ndarray, batch_size: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Consecutive batches in the given order (a non-shuffled loader's order)."""
    return [(X[i:i + batch_size], y[i:i + batch_size]) for i in range(0, len(X), batch_size)]


def _grads(params: Params, xb: np.ndarray, yb: np.ndarray) -> tuple[float, dict[str, torch.Tensor]]:
    leaves = {n: p.clone().requires_grad_(True) for n, p in params.items()}
    loss = F.cross_entropy(logits(leaves, xb), torch.as_tensor(yb).long())
    grads = torch.autograd.grad(loss, [leaves[n] for n in NAMES])
    return float(loss), dict(zip(NAMES, grads))


def sgd_epoch(params: Params, data: list[tuple[np.ndarray, np.ndarray]], lr: float) -> tuple[Params, float]:
    """One epoch of plain SGD (fresh gradients every step); the new params and the per-sample mean loss."""
    params = {n: p.clone() for n, p in params.items()}
    total, count = 0.0, 0
    for xb, yb in data:
        loss, grads = _grads(params, xb, yb)
        total += loss * len(yb)
        count += len(yb)
        params = {n: params[n] - lr * grads[n] for n in NAMES}
    return params, total / count


def adam(params: Params, data: list[tuple[np.ndarray, np.ndarray]], lr: float, epochs: int,
         betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> Params:
    """``epochs`` passes of Adam (PyTorch's defaults, bias-corrected), fresh gradients every step."""
    params = {n: p.clone() for n, p in params.items()}
    m = {n: torch.zeros_like(p) for n, p in params.items()}
    v = {n: torch.zeros_like(p) for n, p in params.items()}
    b1, b2 = betas
    t = 0
    for _ in range(epochs):
        for xb, yb in data:
            t += 1
            _, grads = _grads(params, xb, yb)
            for n in NAMES:
                m[n] = b1 * m[n] + (1 - b1) * grads[n]
                v[n] = b2 * v[n] + (1 - b2) * grads[n] ** 2
                denom = (v[n] / (1 - b2 ** t)).sqrt() + eps
                params[n] = params[n] - lr * (m[n] / (1 - b1 ** t)) / denom
    return params


def digits() -> tuple[np.ndarray, np.ndarray]:
    """The digits data set as the notebook loads it: float32 ``(1797, 64)`` in [0, 1], int64 labels."""
    from sklearn.datasets import load_digits

    data = load_digits()
    return (data.data / 16.0).astype(np.float32), data.target.astype(np.int64)


def expect_moved(log: dict[str, Any], device: torch.device, what: str) -> None:
    """Every batch the loader handed out had its inputs and its labels moved to ``device``."""
    expect(log["batches"] > 0, f"{what} never took a batch from the loader")
    landed: dict[tuple[int, str], set[str]] = {}
    for number, role, where in log["moves"]:
        landed.setdefault((number, role), set()).add(torch.device(where).type)
    for number in range(log["batches"]):
        for role in ("inputs", "labels"):
            seen = landed.get((number, role), set())
            expect(bool(seen), f"{what}: the {role} of batch {number + 1} were never moved with "
                                     f".to(device) (device was {device.type})")
            expect(device.type in seen, f"{what}: the {role} of batch {number + 1} were moved to "
                                        f"{sorted(seen)}, not to the given device {device.type}")


SMALL = (6, 5, 3)  # inputs, hidden units, classes of the small networks the loop checks send
CPU = torch.device("cpu")


def remote_case(student: Any, seed: int, n: int, batch_size: int, *, hidden: int = SMALL[1],
                dropout: float = 0.0, host: bool = False, device: torch.device = CPU) -> tuple[Any, ...]:
    """Data, initial weights, and handles to the model and a non-shuffled loader in the student's process."""
    d, _, k = SMALL
    X, y = classification_data(seed, n, d, k)
    params = init_params(seed, d, hidden, k)
    model = student.send(sequential(params, dropout))
    model.to(device)
    loader = student.helper("make_loader", X, y, batch_size, host=host)
    return X, y, params, model, loader
