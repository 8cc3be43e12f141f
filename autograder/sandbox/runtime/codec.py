"""Safe values across the grader/student boundary (used on both sides).

Every value is turned into a tree of builtin primitives (tuples, lists, str,
bytes, int, float, bool, None), which travels in the protocol's frames
(:mod:`protocol`: a pickle read back with every global refused). Arrays travel
as dtype, shape and raw bytes (object arrays are refused); tensors as arrays
plus dtype, device and ``requires_grad``; standard ``torch.nn`` modules as a
spec plus state, with shared parameters kept shared. Everything else stays
where it was made and travels as a handle id.

The walk over a value is here (:func:`encode`, :func:`decode`); what it accepts
(errors, the decode budget, dtypes, the catalog of layers) is in :mod:`codec_rules`.

This file must import nothing from the ``autograder`` package: the student
process loads it from a copy outside the course.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

try:  # the grader: this folder is the package autograder.sandbox.runtime
    from . import codec_rules as rules
    from . import protocol
except ImportError:  # the student process: loaded by path, this folder first on sys.path
    import codec_rules as rules  # type: ignore[no-redef]
    import protocol  # type: ignore[no-redef]

CodecError = rules.CodecError
DecodeTimeout = rules.DecodeTimeout
Budget = rules.Budget
is_standard_module = rules.is_standard_module
_torch = rules.torch_module


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
        kwargs = rules.init_kwargs(mod)
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
# and constructor arguments of ``codec_rules``.

def _array(dtype_str: str, shape: Any, raw: bytes) -> np.ndarray:
    """A fresh writable array (fields already checked by ``_checked_array``)."""
    dtype = rules.check_dtype(dtype_str)
    try:
        return np.frombuffer(raw, dtype=dtype).reshape(rules.check_shape(shape)).copy()
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
        return _array(*rules.checked_array(node[1], node[2], node[3], budget))
    if tag == "s" and len(node) == 3:
        return _array(*rules.checked_array(node[1], (), node[2], budget))[()]
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
    if tag == protocol.HANDLE:  # (HANDLE, id, type name)
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
    fields = rules.checked_array(np_dtype, shape, raw, budget)
    if type(device) is not str or len(device) > 32 or type(requires_grad) is not bool:
        raise CodecError("malformed tensor")
    wider = dtype.itemsize - rules.check_dtype(np_dtype).itemsize
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


def _decode_module(node: Any, device_map: Callable[[str], str] | None, budget: Budget | None = None) -> Any:
    """Rebuild a standard module from its spec.

    Each layer's class and constructor arguments are checked against ``codec_rules``' catalog and its
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
        cls_name, kw, elements = rules.layer_kwargs(cls_name, kwargs)
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
