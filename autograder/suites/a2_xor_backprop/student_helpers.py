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
    except Exception as exc:  # the student's code raised: reported to the grader as text
        return ("raised", f"{type(exc).__name__}: {exc}"[:300])


AUTODIFF = ("torch", "jax", "jaxlib", "autograd", "tensorflow", "theano", "mxnet")


def _top(name):
    return str(name or "").split(".")[0]


def _banned_module_of(value):
    """The banned top-level package ``value`` is (a module) or comes from, or None."""
    import types

    try:
        if isinstance(value, types.ModuleType):
            top = _top(getattr(value, "__name__", ""))
        else:
            top = _top(getattr(value, "__module__", None) or type(value).__module__)
    except Exception:  # a value that cannot be inspected is not an autodiff module
        return None
    return top if top in AUTODIFF else None


def autodiff_report(forward, backward, params, X, y):
    """Run ``backward(params, forward(params, X)[1], y)`` while watching for autodiff libraries.

    Returns a dict: ``grads`` (what backward returned), ``raised`` (what the student's code
    raised, as text, or ""), ``called`` (banned packages whose Python
    or C functions ran during the two calls, seen by a profile hook), ``bound`` (banned modules or
    objects bound to names in the notebook's namespace) and ``loaded`` (banned packages in
    ``sys.modules``). The grader checks ``grads`` itself; the rest only adds reasons to fail.
    """
    import sys

    called = set()

    def profile(frame, event, arg):
        if event == "call":
            top = _top(frame.f_globals.get("__name__"))
        elif event == "c_call":
            top = _top(getattr(arg, "__module__", None))
            if top not in AUTODIFF:
                top = _top(type(getattr(arg, "__self__", None)).__module__)
        else:
            return
        if top in AUTODIFF:
            called.add(top)

    previous = sys.getprofile()
    sys.setprofile(profile)
    grads, raised = None, ""
    try:
        stage = "forward"
        out = forward(params, X)
        stage = "backward"
        grads = backward(params, out[1], y)
    except Exception as exc:  # the student's code raised: reported to the grader as text
        raised = f"`{stage}` raised {type(exc).__name__}: {exc}"[:300]
    finally:
        sys.setprofile(previous)
    main = sys.modules.get("__main__")
    bound = set()
    for value in list(vars(main).values()) if main is not None else []:
        top = _banned_module_of(value)
        if top:
            bound.add(top)
    return {"grads": grads, "raised": raised, "called": sorted(called), "bound": sorted(bound),
            "loaded": sorted(m for m in AUTODIFF if m in sys.modules)}
