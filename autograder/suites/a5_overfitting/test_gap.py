"""Hidden checks of generalization_gap(train_acc, val_acc)."""

import pytest

from autograder.testing import expect_close, points

TOL = 1e-12  # the gap is one subtraction: exact up to rounding


def _ref_gap(train_acc: float, val_acc: float) -> float:
    return float(train_acc) - float(val_acc)


@points(1, hint="Return train_acc - val_acc: training accuracy first.")
@pytest.mark.parametrize("train_acc,val_acc", [(1.0, 0.876), (0.9375, 0.8125)],
                         ids=["memorised", "partly"])
def test_gap_values(student, train_acc, val_acc):
    """generalization_gap is train_acc - val_acc"""
    got = student.generalization_gap(train_acc, val_acc)
    expect_close(got, _ref_gap(train_acc, val_acc),
                 what=f"generalization_gap({train_acc}, {val_acc})", rtol=TOL, atol=TOL)


@points(1, hint="Keep the sign: when validation accuracy is higher the gap is negative (no abs()).")
def test_gap_negative(student):
    """a model better on validation than on training data has a negative gap"""
    got = student.generalization_gap(0.85, 0.9)
    expect_close(got, _ref_gap(0.85, 0.9), what="generalization_gap(0.85, 0.9)", rtol=TOL, atol=TOL)
