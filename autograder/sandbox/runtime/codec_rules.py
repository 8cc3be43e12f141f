"""What the value codec accepts: its errors, the decode budget, dtypes and shapes, and the layers.

Part of the codec (:mod:`codec` imports it; both sides of the boundary use it). It holds the
rules rather than the walk over a value: the exceptions, :class:`Budget` (what decoding one
reply may cost the grader), the dtypes and shapes an array may have, and the catalog of
standard ``torch.nn`` layers: which constructor arguments are read from a layer when it is
sent (:func:`init_kwargs`) and which are accepted, with their checks and parameter counts,
when one is rebuilt (:func:`layer_kwargs`).

This file must import nothing from the ``autograder`` package: the student process loads it
from a copy outside the course.
"""

from __future__ import annotations

import math
import re
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np


class CodecError(Exception):
    """A value could not be encoded or decoded safely."""


class DecodeTimeout(CodecError):
    """Decoding ran past the call's deadline."""


def torch_module() -> Any:
    """The ``torch`` module when it is imported in this process (the codec never imports it)."""
    return sys.modules.get("torch")


# --- what decoding one reply may cost ----------------------------------------------------------

class Budget:
    """What one reply may cost the grader to decode, fixed before decoding starts.

    A frame of ``n`` bytes may decode into at most ``64 + n`` nodes, ``64 + 2n`` bytes of
    arrays and tensors (every reference to a shared array counted again, dtype widening
    counted at the wider size, parameters and buffers of a module counted per reference),
    and ``64 + n`` parameter elements across module layers. With a ``deadline``
    (``time.monotonic()`` value), decoding past it raises :class:`DecodeTimeout`.

    Args:
        frame_size: the size of the frame the value came in.
        deadline: when decoding must be over (None: no limit).
    """

    def __init__(self, frame_size: int, deadline: float | None = None) -> None:
        self.nodes = 64 + frame_size
        self.nbytes = 64 + 2 * frame_size
        self.elements = 64 + frame_size
        self.deadline = deadline
        self._ticks = 0

    def node(self) -> None:
        self.nodes -= 1
        if self.nodes < 0:
            raise CodecError("the value expands far beyond its size")
        self._ticks += 1
        if self._ticks % 256 == 0:
            self.check_time()

    def data(self, n: int) -> None:
        self.nbytes -= n
        if self.nbytes < 0:
            raise CodecError("the value's arrays expand far beyond its size")
        self.check_time()

    def layer(self, elements: int) -> None:
        self.elements -= elements
        if self.elements < 0:
            raise CodecError("the module's layers are far larger than the reply that describes them")
        self.node()
        self.check_time()

    def check_time(self) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise DecodeTimeout("decoding the reply ran past the call's time limit")


# --- arrays: dtypes and shapes ---------------------------------------------------------------

_ALLOWED_DTYPES = set("biufc?")
_DTYPE_TEXT = re.compile(r"[<>|=]?[biufc?][0-9]{0,2}")
_MAX_DIMS = 32


def check_shape(shape: Any) -> tuple[int, ...]:
    """``shape`` as a tuple of sizes, checked (at most 32 dimensions of at most 2**40)."""
    if type(shape) not in (tuple, list) or len(shape) > _MAX_DIMS:
        raise CodecError("malformed shape")
    if not all(type(s) is int and 0 <= s <= 2**40 for s in shape):
        raise CodecError("malformed shape")
    return tuple(shape)


def check_dtype(dtype_str: Any) -> np.dtype:
    """The NumPy dtype named by ``dtype_str``: numbers and booleans only."""
    if type(dtype_str) is not str or not _DTYPE_TEXT.fullmatch(dtype_str):
        raise CodecError("refused dtype")
    try:
        dtype = np.dtype(dtype_str)
    except TypeError:
        raise CodecError(f"refused dtype {dtype_str}") from None
    if dtype.kind not in _ALLOWED_DTYPES or dtype.hasobject:
        raise CodecError(f"refused dtype {dtype_str}")
    return dtype


def checked_array(dtype_str: Any, shape: Any, raw: Any, budget: Budget | None) -> tuple[Any, ...]:
    """Check an array node's fields and charge its size, before anything is allocated."""
    dtype = check_dtype(dtype_str)
    dims = check_shape(shape)
    count = math.prod(dims)
    if type(raw) is not bytes or count * dtype.itemsize != len(raw):
        raise CodecError("array size does not match its shape")
    if budget is not None:
        budget.data(len(raw))
    return dtype_str, dims, raw


# --- the standard layers: what is read from one when it is sent ---------------------------------

_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")


def init_kwargs(m: Any) -> dict[str, Any] | None:
    """Constructor arguments of a standard layer, or None when it is not one we rebuild."""
    nn = torch_module().nn
    cls = type(m).__name__
    if getattr(nn, cls, None) is not type(m):
        return None
    if cls in _CONTAINERS:
        return {}
    if cls == "Linear":
        return {"in_features": m.in_features, "out_features": m.out_features, "bias": m.bias is not None}
    if cls in ("Conv1d", "Conv2d", "Conv3d"):
        return {"in_channels": m.in_channels, "out_channels": m.out_channels,
                "kernel_size": tuple(m.kernel_size), "stride": tuple(m.stride),
                "padding": m.padding if isinstance(m.padding, str) else tuple(m.padding),
                "dilation": tuple(m.dilation), "groups": m.groups, "bias": m.bias is not None,
                "padding_mode": m.padding_mode}
    if cls in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d"):
        return {"num_features": m.num_features, "eps": m.eps, "momentum": m.momentum,
                "affine": m.affine, "track_running_stats": m.track_running_stats}
    if cls == "LayerNorm":
        return {"normalized_shape": tuple(m.normalized_shape), "eps": m.eps,
                "elementwise_affine": m.elementwise_affine}
    if cls == "Embedding":
        return {"num_embeddings": m.num_embeddings, "embedding_dim": m.embedding_dim,
                "padding_idx": m.padding_idx}
    if cls in ("Dropout", "Dropout1d", "Dropout2d", "AlphaDropout"):
        return {"p": m.p}
    if cls in ("ReLU", "Sigmoid", "Tanh", "GELU", "Identity", "SiLU", "ELU", "Softplus"):
        return {}
    if cls == "LeakyReLU":
        return {"negative_slope": m.negative_slope}
    if cls in ("Softmax", "LogSoftmax"):
        return {"dim": m.dim}
    if cls == "Flatten":
        return {"start_dim": m.start_dim, "end_dim": m.end_dim}
    return None


def is_standard_module(m: Any) -> bool:
    """True when ``m`` is built only from the standard layers this codec can rebuild."""
    t = torch_module()
    if t is None or not isinstance(m, t.nn.Module):
        return False
    return all(init_kwargs(sub) is not None for sub in m.modules())


# --- the standard layers: what the grader rebuilds, with the arguments each may take ----------

def _nat(v: Any) -> bool:
    return type(v) is int and 0 <= v <= 2**31


def _flag(v: Any) -> bool:
    return type(v) is bool


def _real(v: Any) -> bool:
    return type(v) in (int, float) and math.isfinite(v)


def _opt_real(v: Any) -> bool:
    return v is None or _real(v)


def _prob(v: Any) -> bool:
    return _real(v) and 0 <= v <= 1


def _dim(v: Any) -> bool:
    return v is None or (type(v) is int and -64 <= v <= 64)


def _opt_nat(v: Any) -> bool:
    return v is None or (type(v) is int and -2**31 <= v <= 2**31)


def _nats(v: Any) -> bool:
    return _nat(v) or (type(v) is tuple and 0 < len(v) <= 8 and all(_nat(x) for x in v))


def _padding(v: Any) -> bool:
    return v in ("same", "valid") if type(v) is str else _nats(v)


def _padding_mode(v: Any) -> bool:
    return type(v) is str and v in ("zeros", "reflect", "replicate", "circular")


def _kernel(kw: dict[str, Any], n: int) -> int:
    k = kw.get("kernel_size", 1)
    ks = (k,) * n if type(k) is int else k
    return math.prod(ks)


_Check = Callable[[Any], bool]
_CONV: dict[str, _Check] = {"in_channels": _nat, "out_channels": _nat, "kernel_size": _nats, "stride": _nats,
         "padding": _padding, "dilation": _nats, "groups": _nat, "bias": _flag, "padding_mode": _padding_mode}
_NORM: dict[str, _Check] = {"num_features": _nat, "eps": _real, "momentum": _opt_real, "affine": _flag,
         "track_running_stats": _flag}


def _conv_size(n: int) -> Callable[[dict[str, Any]], int]:
    def size(kw: dict[str, Any]) -> int:
        groups = max(1, kw.get("groups", 1))
        out = kw.get("out_channels", 0)
        return out * (kw.get("in_channels", 0) // groups) * _kernel(kw, n) + (out if kw.get("bias", True) else 0)
    return size


def _norm_size(kw: dict[str, Any]) -> int:
    n = kw.get("num_features", 0)
    return (2 * n if kw.get("affine", True) else 0) + (2 * n + 1 if kw.get("track_running_stats", True) else 0)


def _layer_norm_size(kw: dict[str, Any]) -> int:
    shape = kw.get("normalized_shape", ())
    return 2 * math.prod((shape,) if type(shape) is int else shape) if kw.get("elementwise_affine", True) else 0


def _none(kw: dict[str, Any]) -> int:
    return 0


# class name -> (argument name -> check, parameter and buffer elements from the arguments)
_LAYERS: dict[str, tuple[dict[str, Callable[[Any], bool]], Callable[[dict[str, Any]], int]]] = {
    "Sequential": ({}, _none), "ModuleList": ({}, _none), "ModuleDict": ({}, _none),
    "Linear": ({"in_features": _nat, "out_features": _nat, "bias": _flag},
               lambda kw: kw.get("in_features", 0) * kw.get("out_features", 0)
               + (kw.get("out_features", 0) if kw.get("bias", True) else 0)),
    "Conv1d": (_CONV, _conv_size(1)), "Conv2d": (_CONV, _conv_size(2)), "Conv3d": (_CONV, _conv_size(3)),
    "BatchNorm1d": (_NORM, _norm_size), "BatchNorm2d": (_NORM, _norm_size), "BatchNorm3d": (_NORM, _norm_size),
    "LayerNorm": ({"normalized_shape": _nats, "eps": _real, "elementwise_affine": _flag}, _layer_norm_size),
    "Embedding": ({"num_embeddings": _nat, "embedding_dim": _nat, "padding_idx": _opt_nat},
                  lambda kw: kw.get("num_embeddings", 0) * kw.get("embedding_dim", 0)),
    **{name: ({"p": _prob}, _none) for name in ("Dropout", "Dropout1d", "Dropout2d", "AlphaDropout")},
    **{name: ({}, _none) for name in ("ReLU", "Sigmoid", "Tanh", "GELU", "Identity", "SiLU", "ELU", "Softplus")},
    "LeakyReLU": ({"negative_slope": _real}, _none),
    "Softmax": ({"dim": _dim}, _none), "LogSoftmax": ({"dim": _dim}, _none),
    "Flatten": ({"start_dim": _dim, "end_dim": _dim}, _none),
}


def layer_kwargs(cls_name: Any, kwargs: Any) -> tuple[str, dict[str, Any], int]:
    """The class name, checked constructor arguments and parameter elements of one layer spec."""
    if type(cls_name) is not str or cls_name not in _LAYERS:
        raise CodecError(f"refused module class {str(cls_name)[:40]!r}" if type(cls_name) is str
                         else "malformed module spec")
    allowed, size = _LAYERS[cls_name]
    if type(kwargs) is not list or len(kwargs) > len(allowed):
        raise CodecError(f"bad arguments for {cls_name}")
    kw: dict[str, Any] = {}
    for pair in kwargs:
        if type(pair) is not tuple or len(pair) != 2 or type(pair[0]) is not str:
            raise CodecError(f"bad arguments for {cls_name}")
        name, value = pair
        value = tuple(value) if type(value) is list else value
        check = allowed.get(name)
        if check is None or name in kw or not check(value):
            raise CodecError(f"refused argument {name[:40]!r} for {cls_name}")
        kw[name] = value
    return cls_name, kw, size(kw)

