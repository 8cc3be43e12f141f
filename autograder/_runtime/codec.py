"""Safe values across the grader/student boundary (used on both sides).

Every value is turned into a tree of builtin primitives (tuples, lists, str,
bytes, int, float, bool, None) and framed with ``pickle``; frames are read
back with an unpickler that refuses every global, so nothing from the student
process can make the grader import or call anything. Arrays travel as dtype,
shape and raw bytes (object arrays are refused); tensors as arrays plus dtype,
device and ``requires_grad``; standard ``torch.nn`` modules as a spec plus
state, with shared parameters kept shared. Everything else stays where it was
made and travels as a handle id.

This file must import nothing from the ``autograder`` package: the student
process loads it from a copy outside the course.
"""

from __future__ import annotations

import io
import math
import pickle
import re
import struct
import sys
import time
from typing import Any, Callable

import numpy as np

MAX_FRAME = 512 * 2**20  # bytes; a larger frame is refused


class CodecError(Exception):
    """A frame or value could not be decoded safely."""


class _NoGlobals(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise CodecError(f"refused global {module}.{name}")


def dumps(tree: Any) -> bytes:
    """Frame a primitive tree: 8-byte length, then pickle protocol 4."""
    body = pickle.dumps(tree, protocol=4)
    return struct.pack("!Q", len(body)) + body


def loads(body: bytes) -> Any:
    """Unpickle a frame body, refusing every global."""
    try:
        return _NoGlobals(io.BytesIO(body)).load()
    except CodecError:
        raise
    except Exception as exc:  # malformed frame
        raise CodecError(f"malformed frame: {type(exc).__name__}") from None


def _torch() -> Any:
    return sys.modules.get("torch")


# --- modules -----------------------------------------------------------------

_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")


def _init_kwargs(m: Any) -> dict[str, Any] | None:
    """Constructor arguments of a standard layer, or None when it is not one we rebuild."""
    nn = _torch().nn
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
    t = _torch()
    if t is None or not isinstance(m, t.nn.Module):
        return False
    return all(_init_kwargs(sub) is not None for sub in m.modules())


# --- encoding ----------------------------------------------------------------

def encode(obj: Any, make_handle: Callable[[Any], Any] | None, depth: int = 0) -> Any:
    """Turn ``obj`` into a primitive tree; unencodable parts go through ``make_handle``.

    ``make_handle(obj)`` returns a primitive node for an object that stays put;
    where it is None, an unencodable value raises CodecError.
    """
    if depth > 64:
        raise CodecError("value nested too deeply")
    if obj is None or isinstance(obj, (bool, str, bytes)):
        return ("v", obj)
    if type(obj) is int or type(obj) is float:
        return ("v", obj)
    if isinstance(obj, complex):
        return ("c", obj.real, obj.imag)
    if isinstance(obj, np.ndarray):
        if obj.dtype.hasobject:
            return _fallback(obj, make_handle, "an object array")
        arr = np.asarray(obj, order="C")
        return ("a", arr.dtype.str, tuple(int(s) for s in arr.shape), arr.tobytes())
    if isinstance(obj, np.generic):
        if isinstance(obj, np.object_):
            return _fallback(obj, make_handle, "an object scalar")
        arr = np.asarray(obj)
        return ("s", arr.dtype.str, arr.tobytes())
    t = _torch()
    if t is not None:
        if isinstance(obj, t.Tensor):
            return _encode_tensor(obj, make_handle)
        if isinstance(obj, t.dtype):
            return ("Td", str(obj).replace("torch.", ""))
        if isinstance(obj, t.device):
            return ("Tv", str(obj))
        if isinstance(obj, t.nn.Module):
            return _fallback(obj, make_handle, "a module")
    if isinstance(obj, int):  # int subclasses other than bool (IntEnum etc.)
        return ("v", int(obj))
    if isinstance(obj, float):
        return ("v", float(obj))
    if type(obj) in (list, tuple) or (isinstance(obj, tuple) and hasattr(obj, "_fields")):
        tag = "l" if isinstance(obj, list) else "t"
        return (tag, [encode(x, make_handle, depth + 1) for x in obj])
    if isinstance(obj, dict) and type(obj).__name__ in ("dict", "OrderedDict", "defaultdict"):
        return ("d", [(encode(k, make_handle, depth + 1), encode(v, make_handle, depth + 1))
                      for k, v in obj.items()])
    return _fallback(obj, make_handle, type(obj).__name__)


def _fallback(obj: Any, make_handle: Callable[[Any], Any] | None, what: str) -> Any:
    if make_handle is None:
        raise CodecError(f"cannot send {what} by value")
    return make_handle(obj)


def _encode_tensor(x: Any, make_handle: Callable[[Any], Any] | None) -> Any:
    t = _torch()
    if x.is_sparse or x.is_quantized:
        return _fallback(x, make_handle, "a sparse tensor")
    dtype = str(x.dtype).replace("torch.", "")
    data = x.detach()
    if data.device.type != "cpu":
        data = data.cpu()
    if x.dtype == t.bfloat16:
        data = data.float()
    arr = np.asarray(data.numpy(), order="C")
    return ("T", dtype, arr.dtype.str, tuple(int(s) for s in arr.shape), arr.tobytes(),
            str(x.device), bool(x.requires_grad))


def encode_module(m: Any) -> Any:
    """Spec of a standard module, with a table of its tensors so sharing survives."""
    table: dict[int, Any] = {}

    def tensor_id(tensor: Any) -> int:
        key = id(tensor)
        if key not in table:
            table[key] = (len(table), _encode_tensor(tensor, None))
        return table[key][0]

    def spec(mod: Any) -> Any:
        kwargs = _init_kwargs(mod)
        if kwargs is None:
            raise CodecError(f"{type(mod).__name__} is not a standard torch.nn layer")
        children = [(name, spec(child)) for name, child in mod._modules.items() if child is not None]
        params = [(name, None if p is None else tensor_id(p), None if p is None else bool(p.requires_grad))
                  for name, p in mod._parameters.items()]
        buffers = [(name, None if b is None else tensor_id(b)) for name, b in mod._buffers.items()]
        return (type(mod).__name__, list(kwargs.items()), children, params, buffers, bool(mod.training))

    tree = spec(m)
    tensors = sorted(table.values(), key=lambda pair: pair[0])
    return ("M", tree, [node for _, node in tensors])


# --- decoding ----------------------------------------------------------------
#
# Everything below reads a tree that came from the student process, so it trusts nothing:
# every field's type is checked before it is used, sizes are checked against the budget
# before anything is allocated or constructed, and module specs are limited to the layers
# and constructor arguments listed in ``_LAYERS``.

class DecodeTimeout(CodecError):
    """Decoding ran past the call's deadline."""


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


_ALLOWED_DTYPES = set("biufc?")
_DTYPE_TEXT = re.compile(r"[<>|=]?[biufc?][0-9]{0,2}")
_MAX_DIMS = 32


def _shape(shape: Any) -> tuple[int, ...]:
    if type(shape) not in (tuple, list) or len(shape) > _MAX_DIMS:
        raise CodecError("malformed shape")
    if not all(type(s) is int and 0 <= s <= 2**40 for s in shape):
        raise CodecError("malformed shape")
    return tuple(shape)


def _dtype(dtype_str: Any) -> np.dtype:
    if type(dtype_str) is not str or not _DTYPE_TEXT.fullmatch(dtype_str):
        raise CodecError("refused dtype")
    try:
        dtype = np.dtype(dtype_str)
    except TypeError:
        raise CodecError(f"refused dtype {dtype_str}") from None
    if dtype.kind not in _ALLOWED_DTYPES or dtype.hasobject:
        raise CodecError(f"refused dtype {dtype_str}")
    return dtype


def _checked_array(dtype_str: Any, shape: Any, raw: Any, budget: Budget | None) -> tuple[Any, ...]:
    """Check an array node's fields and charge its size, before anything is allocated."""
    dtype = _dtype(dtype_str)
    dims = _shape(shape)
    count = math.prod(dims)
    if type(raw) is not bytes or count * dtype.itemsize != len(raw):
        raise CodecError("array size does not match its shape")
    if budget is not None:
        budget.data(len(raw))
    return dtype_str, dims, raw


def _array(dtype_str: str, shape: Any, raw: bytes) -> np.ndarray:
    """A fresh writable array (fields already checked by ``_checked_array``)."""
    dtype = _dtype(dtype_str)
    try:
        return np.frombuffer(raw, dtype=dtype).reshape(_shape(shape)).copy()
    except ValueError as exc:
        raise CodecError(f"malformed array ({exc})") from None


def decode(node: Any, resolve_handle: Callable[[Any], Any], device_map: Callable[[str], str] | None = None,
           depth: int = 0, budget: Budget | None = None) -> Any:
    """Rebuild a value from a primitive tree; handle nodes go through ``resolve_handle``.

    With a ``budget`` (the grader always passes one), expansion past the frame's size, and
    decoding past the budget's deadline, are refused before the memory is taken.
    """
    if depth > 64:
        raise CodecError("value nested too deeply")
    if budget is not None:
        budget.node()
    if type(node) is not tuple or not node or type(node[0]) is not str:
        raise CodecError("malformed value")
    tag = node[0]
    if tag == "v" and len(node) == 2:
        value = node[1]
        if value is not None and type(value) not in (bool, int, float, str, bytes):
            raise CodecError("malformed scalar")
        if type(value) is int and value.bit_length() > 4096:
            raise CodecError("integer too large")
        return value
    if tag == "c" and len(node) == 3:
        if not all(type(x) in (int, float) for x in node[1:]):
            raise CodecError("malformed complex number")
        try:
            return complex(float(node[1]), float(node[2]))
        except OverflowError:
            raise CodecError("malformed complex number") from None
    if tag == "a" and len(node) == 4:
        return _array(*_checked_array(node[1], node[2], node[3], budget))
    if tag == "s" and len(node) == 3:
        return _array(*_checked_array(node[1], (), node[2], budget))[()]
    if tag in ("l", "t") and len(node) == 2 and type(node[1]) is list:
        items = [decode(x, resolve_handle, device_map, depth + 1, budget) for x in node[1]]
        return items if tag == "l" else tuple(items)
    if tag == "d" and len(node) == 2 and type(node[1]) is list:
        out = {}
        for pair in node[1]:
            if type(pair) is not tuple or len(pair) != 2:
                raise CodecError("malformed dict item")
            key = decode(pair[0], resolve_handle, device_map, depth + 1, budget)
            try:
                hash(key)
            except TypeError:
                raise CodecError("unhashable dict key") from None
            out[key] = decode(pair[1], resolve_handle, device_map, depth + 1, budget)
        return out
    if tag == "h":
        return resolve_handle(node)
    if tag not in ("Td", "Tv", "T", "M") or _torch() is None:
        raise CodecError(f"malformed or unknown value ({tag[:20]!r})")
    t = _torch()
    if tag == "Td" and len(node) == 2:
        return _torch_dtype(node[1])
    if tag == "Tv" and len(node) == 2:
        if type(node[1]) is not str or len(node[1]) > 32:
            raise CodecError("malformed device")
        try:
            return t.device(_target_device(node[1], device_map))
        except (RuntimeError, ValueError):
            raise CodecError("malformed device") from None
    if tag == "T":
        return _decode_tensor(node, device_map, budget)
    if tag == "M" and len(node) == 3:
        return _decode_module(node, device_map, budget)
    raise CodecError(f"malformed value ({tag!r})")


def _torch_dtype(name: Any) -> Any:
    t = _torch()
    dtype = getattr(t, name, None) if type(name) is str and name.isidentifier() else None
    if not isinstance(dtype, t.dtype):
        raise CodecError("unknown dtype")
    return dtype


def _target_device(device: str, device_map: Callable[[str], str] | None) -> str:
    """Where a value is put in the grader: cuda (as mapped) or cpu; nothing else."""
    target = device_map(device) if device_map else device
    return target if target.startswith("cuda") else "cpu"


def _decode_tensor(node: Any, device_map: Callable[[str], str] | None, budget: Budget | None = None) -> Any:
    t = _torch()
    if type(node) is not tuple or len(node) != 7:
        raise CodecError("malformed tensor")
    if budget is not None:
        budget.node()
    _, dtype_name, np_dtype, shape, raw, device, requires_grad = node
    dtype = _torch_dtype(dtype_name)
    fields = _checked_array(np_dtype, shape, raw, budget)
    if type(device) is not str or len(device) > 32 or type(requires_grad) is not bool:
        raise CodecError("malformed tensor")
    wider = dtype.itemsize - _dtype(np_dtype).itemsize
    if budget is not None and wider > 0:
        budget.data(math.prod(fields[1]) * wider)  # widening is counted at the wider size, first
    try:
        x = t.from_numpy(_array(*fields)).to(dtype)
        target = _target_device(device, device_map)
        if target != "cpu":
            x = x.to(target)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise CodecError(f"malformed tensor ({type(exc).__name__})") from None
    if requires_grad and (x.is_floating_point() or x.is_complex()):
        x.requires_grad_(True)
    return x


# --- module specs: the layers the grader rebuilds, with the arguments each may take ---------

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


def _layer_kwargs(cls_name: Any, kwargs: Any) -> tuple[str, dict[str, Any], int]:
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


def _decode_module(node: Any, device_map: Callable[[str], str] | None, budget: Budget | None = None) -> Any:
    """Rebuild a standard module from its spec.

    Each layer's class and constructor arguments are checked against ``_LAYERS`` and its
    parameter count charged to the budget before it is constructed (on the ``meta`` device,
    so construction allocates nothing); it then receives the sent tensors, whose shapes must
    match the layer's own. Anything else in the spec is refused.
    """
    t = _torch()
    nn = t.nn
    _, tree, tensor_nodes = node
    if type(tensor_nodes) is not list:
        raise CodecError("malformed module spec")
    tensors = [_decode_tensor(n, device_map, budget).detach() for n in tensor_nodes]
    params: dict[int, Any] = {}
    named: set[int] = set()

    def tensor_ref(ref: Any) -> Any:
        if type(ref) is not int or not 0 <= ref < len(tensors):
            raise CodecError("bad tensor reference")
        if budget is not None and ref in named:  # the first was charged when decoded; every other counts
            budget.data(tensors[ref].numel() * tensors[ref].element_size())
        named.add(ref)
        return tensors[ref]

    def build(spec: Any, depth: int) -> Any:
        if depth > 64:
            raise CodecError("module nested too deeply")
        if type(spec) is not tuple or len(spec) != 6:
            raise CodecError("malformed module spec")
        cls_name, kwargs, children, plist, blist, training = spec
        if not all(type(x) is list for x in (children, plist, blist)) or type(training) is not bool:
            raise CodecError("malformed module spec")
        cls_name, kw, elements = _layer_kwargs(cls_name, kwargs)
        if budget is not None:
            budget.layer(elements)  # before construction
        cls = getattr(nn, cls_name)
        try:
            with t.device("meta"):
                mod = cls(**kw)
        except (TypeError, ValueError, RuntimeError, ZeroDivisionError) as exc:
            raise CodecError(f"bad arguments for {cls_name}: {str(exc)[:200]}") from None
        for pair in children:
            if type(pair) is not tuple or len(pair) != 2 or type(pair[0]) is not str:
                raise CodecError("malformed module spec")
            try:
                mod.add_module(pair[0], build(pair[1], depth + 1))
            except (KeyError, TypeError) as exc:
                raise CodecError(f"bad child module name ({type(exc).__name__})") from None
        for entry in plist:
            if type(entry) is not tuple or len(entry) != 3 or type(entry[0]) is not str:
                raise CodecError("malformed module spec")
            name, pid, requires_grad = entry
            if name not in mod._parameters:
                raise CodecError(f"{cls_name} has no parameter {name[:40]!r}")
            if pid is None:
                mod._parameters[name] = None
                continue
            own, sent = mod._parameters[name], tensor_ref(pid)
            if own is None or tuple(own.shape) != tuple(sent.shape):
                raise CodecError(f"{cls_name}.{name} does not match the layer's shape")
            if pid not in params:
                if not (sent.is_floating_point() or sent.is_complex()):
                    raise CodecError(f"{cls_name}.{name} is not a floating-point tensor")
                params[pid] = nn.Parameter(sent, requires_grad=bool(requires_grad))
            mod._parameters[name] = params[pid]
        for entry in blist:
            if type(entry) is not tuple or len(entry) != 2 or type(entry[0]) is not str:
                raise CodecError("malformed module spec")
            name, bid = entry
            if name not in mod._buffers:
                raise CodecError(f"{cls_name} has no buffer {name[:40]!r}")
            own = mod._buffers[name]
            sent = None if bid is None else tensor_ref(bid)
            if sent is not None and own is not None and tuple(own.shape) != tuple(sent.shape):
                raise CodecError(f"{cls_name}.{name} does not match the layer's shape")
            mod._buffers[name] = sent
        left = [n for n, v in list(mod._parameters.items()) + list(mod._buffers.items())
                if v is not None and v.device.type == "meta"]
        if left:
            raise CodecError(f"{cls_name} arrived without {', '.join(left)}")
        mod.training = training
        return mod

    return build(tree, 0)
