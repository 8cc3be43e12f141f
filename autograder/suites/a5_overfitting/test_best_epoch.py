"""Hidden checks of best_epoch(val_losses)."""

import numpy as np
import pytest

from autograder.testing import expect, expect_equal, points


def _ref_best_epoch(val_losses: list[float]) -> int:
    return int(np.argmin(np.asarray(val_losses, dtype=np.float64)))  # first of equal minima


def _u_shaped(seed: int, n: int) -> list[float]:
    """A validation curve that falls, bottoms out at a random epoch, and rises; no ties."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    bottom = int(rng.integers(n // 4, 3 * n // 4))
    curve = 0.4 + 0.003 * (t - bottom) ** 2 + rng.uniform(0.0, 1e-3, n)
    return [float(v) for v in curve]


def _index(student, losses, what, hidden=False):
    got = student.best_epoch(losses)
    expect(isinstance(got, (int, np.integer)) and not isinstance(got, (bool, np.bool_)),
           f"{what}: expected an int index, got {type(got).__name__}")
    expect_equal(int(got), _ref_best_epoch(losses), what=what, hidden=hidden)


@points(1, hint="Return the index (0-based) of the smallest value, as an int.")
@pytest.mark.parametrize("seed,n", [(101, 30), (102, 150)], ids=["30_epochs", "150_epochs"])
def test_best_epoch_u_shaped(student, seed, n):
    """best_epoch finds the minimum of a U-shaped validation curve"""
    _index(student, _u_shaped(seed, n), f"best_epoch on a U-shaped curve of {n} epochs", hidden=True)


@points(1, hint="The minimum can be the first or the last epoch; a list of one loss has best epoch 0.")
@pytest.mark.parametrize("losses", [[2.3, 1.1, 0.7, 0.6, 0.55], [0.4, 0.5, 0.8, 1.3], [0.7]],
                         ids=["still_falling", "rising_from_start", "one_epoch"])
def test_best_epoch_ends(student, losses):
    """best_epoch when the minimum is at the first or the last epoch"""
    _index(student, losses, f"best_epoch({losses})")


@points(1, hint="On ties take the FIRST epoch with the lowest loss (np.argmin does; a reversed search "
                "does not).")
@pytest.mark.parametrize("losses", [[0.9, 0.5, 0.7, 0.5, 0.8], [1.0, 0.25, 0.25, 0.25]],
                         ids=["two_minima", "plateau"])
def test_best_epoch_ties(student, losses):
    """on equal minima best_epoch returns the first one"""
    _index(student, losses, f"best_epoch({losses})")
