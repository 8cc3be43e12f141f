"""Hidden checks of diagnose(train_losses, val_losses, patience, tol).

Synthetic curves come from seeded generators; boundary cases use values that
are exact in binary floating point, so every correct way of writing the rule
(a product, a ratio, a difference) gives the same answer.
"""

import numpy as np
import pytest

from autograder.testing import expect_equal, points


def _ref_diagnose(train: list[float], val: list[float], patience: int = 3, tol: float = 0.01) -> str:
    n = len(val)
    b = int(np.argmin(np.asarray(val, dtype=np.float64)))  # first minimum
    if b <= n - 1 - patience and val[-1] > val[b] * (1 + tol) and train[-1] < train[b]:
        return "overfitting"
    if train[-1] > 0.5 * train[0]:
        return "underfitting"
    return "good fit"


def _curves(kind: str, seed: int) -> tuple[list[float], list[float]]:
    """(train_losses, val_losses) of a given shape, from a seed."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 60))
    t = np.arange(n, dtype=np.float64)
    if kind == "u_shaped":  # training falls to ~0, validation bottoms out early then climbs
        bottom = int(rng.integers(n // 5, n // 2))
        train = 2.3 * np.exp(-t / rng.uniform(4.0, 8.0)) + 0.005
        val = 0.45 + 0.002 * (t - bottom) ** 2 + rng.uniform(0.0, 0.002, n)
    elif kind == "flat_high":  # both stay near chance level (ln 10 = 2.3)
        train = 2.3 - 0.2 * (1 - np.exp(-t / 10)) + rng.uniform(0.0, 0.002, n)
        val = 2.35 - 0.15 * (1 - np.exp(-t / 10)) + rng.uniform(0.0, 0.002, n)
    elif kind == "both_falling":  # still improving on both sets at the end
        train = 2.3 * np.exp(-t / rng.uniform(6.0, 10.0)) + 0.05
        val = 0.35 + 1.95 * np.exp(-t / rng.uniform(10.0, 14.0)) + rng.uniform(0.0, 1e-4, n)
    elif kind == "noisy":  # a falling or U-shaped trend under a lot of noise
        train = 2.3 * np.exp(-t / 8) + 0.02 + rng.uniform(0.0, 0.02, n)
        bottom = int(rng.integers(n // 3, n + 10))
        val = 0.5 + 0.0008 * (t - bottom) ** 2 + rng.normal(0.0, 0.03, n)
    else:
        raise ValueError(kind)
    return [float(v) for v in train], [float(v) for v in val]


def _check(student, train, val, what, hidden=False, **kw):
    got = student.diagnose(train, val, **kw)
    expect_equal(got, _ref_diagnose(train, val, **kw), what=what, hidden=hidden)


@points(1, hint="Training loss falling while validation loss rises for several epochs is 'overfitting'.")
@pytest.mark.parametrize("seed", [201, 202, 203], ids=["curve_1", "curve_2", "curve_3"])
def test_u_shaped(student, seed):
    """a U-shaped validation curve with a falling training curve is 'overfitting'"""
    _check(student, *_curves("u_shaped", seed), "diagnose on a U-shaped validation curve", hidden=True)


@points(1, hint="When the training loss has not halved (train[-1] > 0.5 * train[0]) the model is "
                "'underfitting'.")
@pytest.mark.parametrize("seed", [211, 212], ids=["curve_1", "curve_2"])
def test_flat_and_high(student, seed):
    """two flat, high loss curves are 'underfitting'"""
    _check(student, *_curves("flat_high", seed), "diagnose on two flat, high curves", hidden=True)


@points(1, hint="If the validation loss is still at its best at the end and the training loss halved, "
                "it is a 'good fit'.")
@pytest.mark.parametrize("seed", [221, 222], ids=["curve_1", "curve_2"])
def test_both_falling(student, seed):
    """two curves that are both still falling are a 'good fit'"""
    _check(student, *_curves("both_falling", seed), "diagnose on two falling curves", hidden=True)


@points(1, hint="Apply the three overfitting conditions exactly, then the underfitting test, "
                "then 'good fit'.")
@pytest.mark.parametrize("seed", [231, 245, 247, 249],
                         ids=["curve_1", "curve_2", "curve_3", "curve_4"])
def test_noisy(student, seed):
    """noisy curves get the label the rule gives"""
    _check(student, *_curves("noisy", seed), "diagnose on noisy curves", hidden=True)


_HALVING = [2.0, 1.5, 1.0, 0.75, 0.5, 0.375, 0.25, 0.125, 0.0625, 0.03125]
_WINDOW = {
    # best epoch exactly `patience` epochs before the last: the rise has lasted long enough
    "best_at_window_edge": (_HALVING[:8], [2.0, 1.5, 1.0, 0.75, 0.5, 0.625, 0.75, 1.0], 3),
    # best epoch one epoch later: too recent to call
    "best_inside_window": (_HALVING[:8], [2.0, 1.5, 1.0, 0.75, 0.625, 0.5, 0.75, 1.0], 3),
    "patience_5_met": (_HALVING, [2.0, 1.5, 1.0, 0.75, 0.5, 0.5625, 0.625, 0.6875, 0.75, 0.8125], 5),
    "patience_6_not_met": (_HALVING, [2.0, 1.5, 1.0, 0.75, 0.5, 0.5625, 0.625, 0.6875, 0.75, 0.8125], 6),
}


@points(1, hint="The best epoch must satisfy b <= n - 1 - patience, using the `patience` argument.")
@pytest.mark.parametrize("case", list(_WINDOW))
def test_patience_window(student, case):
    """overfitting needs the best epoch at least `patience` epochs before the last"""
    train, val, patience = _WINDOW[case]
    b = int(np.argmin(val))
    _check(student, train, val,
           f"diagnose with the best of {len(val)} epochs at epoch {b}, patience={patience}",
           patience=patience)


_TOL_TRAIN = [1.0, 0.5, 0.25, 0.125, 0.0625, 0.03125, 0.015625, 0.0078125]
_TOL = {
    # the last validation loss equals best * (1 + tol) exactly: not a rise ("clearly above" is strict)
    "exactly_tol": ([1.0, 0.75, 0.5, 0.5625, 0.59375, 0.609375, 0.6171875, 0.625], 0.25),
    "just_above_tol": ([1.0, 0.75, 0.5, 0.5625, 0.59375, 0.609375, 0.6171875, 0.6328125], 0.25),
    "below_default_tol": ([2.0, 1.5, 1.0, 1.001953125, 1.00390625, 1.005859375, 1.0078125, 1.0078125], None),
    "above_default_tol": ([2.0, 1.5, 1.0, 1.00390625, 1.0078125, 1.01171875, 1.015625, 1.015625], None),
}


@points(1, hint="The validation loss must end strictly above best * (1 + tol), with the `tol` argument.")
@pytest.mark.parametrize("case", list(_TOL))
def test_tolerance(student, case):
    """overfitting needs val_losses[-1] > val_losses[b] * (1 + tol), strictly"""
    val, tol = _TOL[case]
    kw = {} if tol is None else {"tol": tol}
    rise = val[-1] / min(val) - 1
    _check(student, _TOL_TRAIN, val, f"diagnose with the validation loss ending {rise:.2%} above its best, "
           f"tol={0.01 if tol is None else tol}", **kw)


_TRAIN_FALL = {
    # validation rises, but training loss is the same at the end as at the best epoch
    "train_flat_after_best": [2.0, 0.5, 0.5, 0.5, 0.5, 0.5],
    # validation and training loss both rise after the best epoch (training diverged)
    "train_rising_after_best": [2.0, 0.25, 0.5, 0.75, 1.0, 1.5],
}


@points(1, hint="Overfitting also needs the training loss to have kept falling: "
                "train[-1] < train[b], strictly.")
@pytest.mark.parametrize("case", list(_TRAIN_FALL))
def test_training_must_fall(student, case):
    """a rising validation loss is not overfitting unless the training loss kept falling"""
    val = [1.0, 0.5, 0.625, 0.75, 0.875, 1.0]
    _check(student, _TRAIN_FALL[case], val,
           f"diagnose when the training loss did not fall after the best epoch ({case})")


_UNDERFIT = {
    "exactly_halved": [2.0, 1.5, 1.25, 1.0],   # train[-1] == 0.5 * train[0]: not underfitting
    "not_quite_halved": [2.0, 1.5, 1.25, 1.0078125],
}


@points(1, hint="Underfitting is train[-1] > 0.5 * train[0], strictly; exactly half is a good fit.")
@pytest.mark.parametrize("case", list(_UNDERFIT))
def test_underfitting_threshold(student, case):
    """underfitting means the training loss ended strictly above half its first value"""
    train = _UNDERFIT[case]
    _check(student, train, [2.5, 2.0, 1.75, 1.5], f"diagnose with training loss {train[0]} -> {train[-1]}")


@points(1, hint="Use the FIRST epoch with the lowest validation loss as b (best_epoch), not a later tie.")
def test_first_minimum(student):
    """with two equal validation minima the rule uses the first"""
    train = _HALVING[:8]
    val = [1.0, 0.5, 0.75, 0.875, 0.9375, 0.5, 0.625, 0.75]
    _check(student, train, val, "diagnose when epochs 1 and 5 share the lowest validation loss")
