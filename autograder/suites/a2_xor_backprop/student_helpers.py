"""Grader helpers that run inside the student's process for a2_xor_backprop.

Nothing here decides a score: the grader still compares the returned values
with its own reference.
"""

import warnings

import numpy as np


def call_strict(fn, *args):
    """Call ``fn(*args)`` with NumPy overflow, divide and invalid errors raised.

    Returns ``("ok", value)``, or ``("raised", "Type: message")`` when the call
    raised or warned (a RuntimeWarning counts as raised).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
                return ("ok", fn(*args))
    except Exception as exc:  # reported to the grader as text
        return ("raised", f"{type(exc).__name__}: {exc}"[:300])
