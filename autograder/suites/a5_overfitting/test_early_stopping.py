"""Hidden checks of EarlyStopping(patience, min_delta): step, best_loss, best_epoch, restore.

The unit checks feed hand-made loss sequences. The training-run checks train a
real network here, in the grader, keep a copy of it in the student's process
(synced after every epoch with ``load_state_dict``, which copies in place), and
compare the student's stopping epoch and restored weights with the grader's own
bookkeeping of the same run.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from autograder.testing import expect, expect_close, fail, points, to_numpy

LOSS_TOL = 1e-12       # best_loss is one of the losses we sent: it must come back unchanged
RUN_SEED = 5           # data split and initial weights of the grader's training run
RUN_MAX_EPOCHS = 80    # the reference stops well before this (epoch ~40)


class _RefEarlyStopping:
    """The grader's early stopping: counts calls, no weights."""

    def __init__(self, patience: int = 5, min_delta: float = 0.0) -> None:
        self.patience = patience
        self.min_delta = min_delta
        self.best_loss = float("inf")
        self.best_epoch = -1
        self.counter = 0
        self.calls = 0

    def step(self, val_loss: float) -> bool:
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.counter = val_loss, self.calls, 0
        else:
            self.counter += 1
        self.calls += 1
        return self.counter >= self.patience


def _ref_stop_call(losses: list[float], patience: int, min_delta: float) -> int | None:
    ref = _RefEarlyStopping(patience, min_delta)
    for i, loss in enumerate(losses):
        if ref.step(loss):
            return i
    return None


def _truth(value, what: str) -> bool:
    """step's answer as a bool (None, as a bare `return`, counts as False)."""
    if value is None:
        return False
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, torch.Tensor) and value.numel() == 1 and value.dtype == torch.bool:
        return bool(value.item())
    fail(f"{what}: step should return a bool (True = stop), got {type(value).__name__}")
    return False


def _small_model() -> nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return nn.Linear(3, 2)


def _feed_until_stop(student, losses, patience, min_delta) -> int | None:
    """Call step once per loss, as a training loop would; the call that returned True, or None."""
    model = student.send(_small_model())
    stopper = student.EarlyStopping(patience=patience, min_delta=min_delta)
    for i, loss in enumerate(losses):
        if _truth(stopper.step(loss, model), f"EarlyStopping(patience={patience}, min_delta={min_delta})"):
            return i
    return None


def _check_stop(student, losses, patience, min_delta):
    expected = _ref_stop_call(losses, patience, min_delta)
    got = _feed_until_stop(student, losses, patience, min_delta)
    want = "never return True" if expected is None else f"return True first at call {expected}"
    did = "it never did" if got is None else f"it did first at call {got}"
    expect(got == expected,
           f"EarlyStopping(patience={patience}, min_delta={min_delta}) fed {losses} one call at a time "
           f"(calls counted from 0): expected step to {want}; {did}")


_STOP = {
    "improvement_resets_the_count": ([1.0, 0.8, 0.85, 0.9, 0.7, 0.75, 0.76, 0.77, 0.5], 3),
    "patience_1": ([0.5, 0.6, 0.4], 1),
    "equal_loss_is_not_better": ([2.0, 1.5, 1.5, 1.5, 1.4], 2),
    "patience_5_plateau": ([1.0, 0.9, 0.8, 0.7, 0.72, 0.71, 0.69, 0.7, 0.7, 0.71, 0.72, 0.73], 5),
}


@points(1, hint="Count the calls without improvement since the last improvement (reset to 0 on an "
                "improvement); return True as soon as that count reaches patience (>=).")
@pytest.mark.parametrize("case", list(_STOP))
def test_stop_call(student, case):
    """step returns True at exactly the right call (min_delta = 0)"""
    losses, patience = _STOP[case]
    _check_stop(student, losses, patience, 0.0)


_MIN_DELTA = {
    "small_gains_do_not_count": ([1.0, 0.97, 0.96, 0.99, 0.5], 3, 0.05),
    "gains_above_min_delta_count": ([1.0, 0.85, 0.8, 0.74, 0.7, 0.66], 2, 0.1),
}


@points(1, hint="An improvement is val_loss < best_loss - min_delta; smaller gains count as no improvement.")
@pytest.mark.parametrize("case", list(_MIN_DELTA))
def test_min_delta(student, case):
    """with min_delta > 0, step stops at exactly the right call"""
    losses, patience, min_delta = _MIN_DELTA[case]
    _check_stop(student, losses, patience, min_delta)


_BEST = {
    "recovery": ([1.0, 0.8, 0.85, 0.9, 0.7, 0.75, 0.76, 0.77], 3, 0.0),
    "tie_keeps_the_first": ([2.0, 1.5, 1.4, 1.4, 1.6], 3, 0.0),
    "min_delta_0.05": ([1.0, 0.97, 0.96, 0.99], 3, 0.05),
    "min_delta_0.1": ([1.0, 0.85, 0.8, 0.74, 0.7, 0.66], 2, 0.1),
}


@points(1, hint="Update best_loss and best_epoch only on an improvement; best_epoch is the 0-based "
                "number of that step call.")
@pytest.mark.parametrize("case", list(_BEST))
def test_best_attributes(student, case):
    """best_loss and best_epoch after a run"""
    losses, patience, min_delta = _BEST[case]
    ref = _RefEarlyStopping(patience, min_delta)
    for loss in losses:
        ref.step(loss)
    model = student.send(_small_model())
    stopper = student.EarlyStopping(patience=patience, min_delta=min_delta)
    for loss in losses:
        stopper.step(loss, model)
    what = f"EarlyStopping(patience={patience}, min_delta={min_delta}) after {losses}"
    best_epoch = stopper.best_epoch.fetch()
    expect(isinstance(best_epoch, (int, np.integer)) and not isinstance(best_epoch, (bool, np.bool_))
           and int(best_epoch) == ref.best_epoch,
           f"{what}: expected best_epoch {ref.best_epoch}, got {best_epoch!r}")
    expect_close(stopper.best_loss.fetch(), ref.best_loss, what=f"{what}: best_loss", rtol=LOSS_TOL, atol=0.0)


def _state(seed: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {"weight": torch.randn(2, 3, generator=g), "bias": torch.randn(2, generator=g)}


def _same_state(got: dict, expected: dict) -> bool:
    return (isinstance(got, dict) and set(got) == set(expected)
            and all(np.array_equal(to_numpy(got[k]), to_numpy(expected[k])) for k in expected))


@points(2, hint="Store the weights only when the loss improves, and store a copy "
                "(copy.deepcopy(model.state_dict()) or v.detach().clone() per entry): state_dict() "
                "returns the live tensors, which later updates overwrite in place.")
def test_restore_best_not_last(student):
    """restore brings back the weights of the best call, even after the model changed in place"""
    model = student.send(_small_model())
    stopper = student.EarlyStopping(patience=10)
    losses = [1.0, 0.6, 0.7, 0.8, 0.9]
    states = [_state(300 + i) for i in range(len(losses))]
    for loss, state in zip(losses, states):
        model.load_state_dict(state)  # copies into the same tensors, like an optimizer step
        stopper.step(loss, model)
    model.load_state_dict(_state(399))  # training went on after the last call
    stopper.restore(model)
    got = model.state_dict()
    if _same_state(got, _state(399)):
        fail("after restore the model holds the weights it had when restore was called, not those of the "
             "best call (call 1): the stored weights changed when the model did (store a copy, not the live "
             "state_dict tensors)")
    if _same_state(got, states[-1]):
        fail("after restore the model holds the weights of the last call to step (call 4), which was not an "
             "improvement: store the weights only when the loss improves (best call: 1)")
    expect(_same_state(got, states[1]),
           "after restore the weights differ from those of the best call (call 1)")


# --- a training run driven by the grader ---------------------------------------------------------

def _run_data(device: torch.device) -> tuple[torch.Tensor, ...]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    X = torch.tensor(digits.data / 16.0, dtype=torch.float32)  # (1797, 64)
    y = torch.tensor(digits.target, dtype=torch.int64)         # (1797,)
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(RUN_SEED))
    train, val = order[:80], order[80:380]
    return X[train].to(device), y[train].to(device), X[val].to(device), y[val].to(device)


class _Run:
    """A small MLP trained full-batch with Adam in the grader; one validation loss per epoch."""

    def __init__(self, device: torch.device) -> None:
        self.X_tr, self.y_tr, self.X_va, self.y_va = _run_data(device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(RUN_SEED)
            self.model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 10)).to(device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-2)
        self.snapshots: list[dict[str, torch.Tensor]] = []  # weights after each epoch, on the CPU

    def epoch(self) -> float:
        self.optimizer.zero_grad()
        F.cross_entropy(self.model(self.X_tr), self.y_tr).backward()
        self.optimizer.step()
        with torch.no_grad():
            val_loss = F.cross_entropy(self.model(self.X_va), self.y_va).item()
        self.snapshots.append({k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()})
        return val_loss


_RUNS = {"patience_3": (3, 0.0), "patience_4_min_delta_0.005": (4, 5e-3)}


@points(1, hint="step must return True at the first call where patience calls in a row brought no "
                "improvement of more than min_delta.")
@pytest.mark.parametrize("case", list(_RUNS))
def test_training_run_stop(student, device, case):
    """in a real training run, step stops at the right epoch"""
    patience, min_delta = _RUNS[case]
    run = _Run(device)
    model = student.send(run.model)
    stopper = student.EarlyStopping(patience=patience, min_delta=min_delta)
    ref = _RefEarlyStopping(patience, min_delta)
    what = f"training run with EarlyStopping(patience={patience}, min_delta={min_delta})"
    for epoch in range(RUN_MAX_EPOCHS):
        val_loss = run.epoch()
        model.load_state_dict(run.model.state_dict())
        said_stop = _truth(stopper.step(val_loss, model), what)
        ref_stop = ref.step(val_loss)
        if said_stop and not ref_stop:
            fail(f"{what}: step returned True at epoch {epoch}, but the best epoch so far was "
                 f"{ref.best_epoch} and only {ref.counter} epoch(s) since then brought no improvement")
        if ref_stop and not said_stop:
            fail(f"{what}: expected step to return True at epoch {epoch} ({patience} epochs without an "
                 f"improvement of more than {min_delta} since epoch {ref.best_epoch}), it returned False")
        if ref_stop:
            return
    fail(f"{what}: the grader's run did not stop within {RUN_MAX_EPOCHS} epochs (grader setup problem)")


@points(2, hint="Keep a copy of the weights at every improvement, and only then, and load it in restore(); "
                "a state_dict() kept without copying follows the model to its last epoch.")
@pytest.mark.parametrize("case", list(_RUNS))
def test_training_run_restore(student, device, case):
    """after a real training run, restore brings back exactly the best epoch's weights"""
    patience, min_delta = _RUNS[case]
    run = _Run(device)
    model = student.send(run.model)
    stopper = student.EarlyStopping(patience=patience, min_delta=min_delta)
    ref = _RefEarlyStopping(patience, min_delta)
    for _ in range(RUN_MAX_EPOCHS):  # run until the grader's bookkeeping says stop
        val_loss = run.epoch()
        model.load_state_dict(run.model.state_dict())
        stopper.step(val_loss, model)
        if ref.step(val_loss):
            break
    best, last = ref.best_epoch, len(run.snapshots) - 1
    later = {k: v + 0.5 for k, v in run.snapshots[last].items()}  # the model moves on before restore
    model.load_state_dict(later)
    stopper.restore(model)
    got = model.state_dict()
    what = (f"training run with EarlyStopping(patience={patience}, min_delta={min_delta}), "
            f"stopped at epoch {last}")
    if _same_state(got, run.snapshots[best]):
        return
    if _same_state(got, later):
        fail(f"{what}: after restore the model holds the weights it had when restore was called, not those "
             f"of the best epoch ({best}): the stored weights changed when the model did (store a copy, not "
             "the live state_dict tensors)")
    matches = [e for e, snap in enumerate(run.snapshots) if _same_state(got, snap)]
    if last in matches:
        fail(f"{what}: after restore the model holds the weights of the last epoch ({last}), which was not an "
             f"improvement: store the weights only when the validation loss improves (best epoch: {best})")
    if matches:
        fail(f"{what}: after restore the model holds the weights of epoch {matches[0]}, "
             f"expected epoch {best}")
    fail(f"{what}: after restore the weights match no epoch of the run; expected those of epoch {best}")
