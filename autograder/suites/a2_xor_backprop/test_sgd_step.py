"""Hidden checks for `sgd_step`: the update, and both arguments left untouched."""

import numpy as np

from autograder.testing import expect, expect_close, expect_type, points

SEED = 2206
LR = 0.37


def _params_and_grads():
    rng = np.random.default_rng(SEED)
    shapes = {"W1": (3, 5), "b1": (5,), "W2": (5, 2), "b2": (2,)}
    params = {k: rng.standard_normal(s) for k, s in shapes.items()}
    grads = {k: rng.standard_normal(s) for k, s in shapes.items()}
    return params, grads


@points(1, hint="Return {k: params[k] - lr * grads[k] for k in params}.")
def test_sgd_values(student):
    """sgd_step returns params - lr * grads for every key"""
    params, grads = _params_and_grads()
    new = student.sgd_step(params, grads, LR)
    expect_type(new, dict, "sgd_step's result")
    expect(set(new) == set(params),
           f"sgd_step's result: expected the keys {sorted(params)}, got {sorted(map(str, new))}")
    for key in params:
        expect_close(new[key], params[key] - LR * grads[key], f"sgd_step(params, grads, lr={LR})['{key}']",
                     rtol=1e-12, atol=1e-15, hidden=True)


@points(1, hint="Build a new dict of new arrays; `params[k] -= ...` changes the caller's arrays.")
def test_sgd_arguments_unchanged(student):
    """sgd_step leaves params and grads exactly as they were"""
    params, grads = _params_and_grads()
    p_h, g_h = student.send(params), student.send(grads)
    new = student.sgd_step(p_h, g_h, LR)
    expect_type(new, dict, "sgd_step's result")
    after = {"params": p_h.fetch(), "grads": g_h.fetch()}
    for label, before in (("params", params), ("grads", grads)):
        expect(set(after[label]) == set(before), f"sgd_step changed the keys of its argument {label}")
        changed = [k for k in before if not np.array_equal(np.asarray(after[label][k]), before[k])]
        expect(not changed, f"sgd_step changed {', '.join(f'{label}[{k!r}]' for k in changed)} in place; "
               "it must return a new dict and leave its arguments as they were")
