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
import pickle
import struct
import sys
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

class Budget:
    """How much one decoded value may expand: a frame of n bytes yields at most ~n nodes and n array bytes.

    Shared references in a pickle would otherwise let a few kilobytes decode into gigabytes.
    """

    def __init__(self, frame_size: int) -> None:
        self.nodes = 64 + frame_size
        self.nbytes = 64 + frame_size

    def node(self) -> None:
        self.nodes -= 1
        if self.nodes < 0:
            raise CodecError("the value expands far beyond its size")

    def data(self, n: int) -> None:
        self.nbytes -= n
        if self.nbytes < 0:
            raise CodecError("the value's arrays expand far beyond its size")

_ALLOWED_DTYPES = set("biufc?")


def _array(dtype_str: str, shape: Any, raw: bytes, budget: Budget | None = None) -> np.ndarray:
    dtype = np.dtype(dtype_str)
    if dtype.kind not in _ALLOWED_DTYPES or dtype.hasobject:
        raise CodecError(f"refused dtype {dtype_str}")
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise CodecError("negative shape")
    count = int(np.prod(shape)) if shape else 1
    if not isinstance(raw, bytes) or count * dtype.itemsize != len(raw):
        raise CodecError("array size does not match its shape")
    if budget is not None:
        budget.data(len(raw))
    return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()


def decode(node: Any, resolve_handle: Callable[[Any], Any], device_map: Callable[[str], str] | None = None,
           depth: int = 0, budget: Budget | None = None) -> Any:
    """Rebuild a value from a primitive tree; handle nodes go through ``resolve_handle``.

    With a ``budget`` (the grader always passes one), expansion past the frame's size is refused.
    """
    if depth > 64:
        raise CodecError("value nested too deeply")
    if budget is not None:
        budget.node()
    if not isinstance(node, tuple) or not node or not isinstance(node[0], str):
        raise CodecError("malformed value")
    tag = node[0]
    if tag == "v":
        value = node[1]
        if value is not None and type(value) not in (bool, int, float, str, bytes):
            raise CodecError("malformed scalar")
        return value
    if tag == "c":
        return complex(float(node[1]), float(node[2]))
    if tag == "a":
        return _array(node[1], node[2], node[3], budget)
    if tag == "s":
        return _array(node[1], (), node[2], budget)[()]
    if tag == "l":
        return [decode(x, resolve_handle, device_map, depth + 1, budget) for x in node[1]]
    if tag == "t":
        return tuple(decode(x, resolve_handle, device_map, depth + 1, budget) for x in node[1])
    if tag == "d":
        out = {}
        for k, v in node[1]:
            key = decode(k, resolve_handle, device_map, depth + 1, budget)
            try:
                hash(key)
            except TypeError:
                raise CodecError("unhashable dict key") from None
            out[key] = decode(v, resolve_handle, device_map, depth + 1, budget)
        return out
    if tag == "h":
        return resolve_handle(node)
    t = _torch()
    if t is None:
        raise CodecError(f"value needs torch ({tag})")
    if tag == "Td":
        dtype = getattr(t, str(node[1]), None)
        if not isinstance(dtype, t.dtype):
            raise CodecError("unknown dtype")
        return dtype
    if tag == "Tv":
        return t.device(device_map(str(node[1])) if device_map else str(node[1]))
    if tag == "T":
        return _decode_tensor(node, device_map, budget)
    if tag == "M":
        return _decode_module(node, device_map, budget)
    raise CodecError(f"unknown tag {tag!r}")


def _decode_tensor(node: Any, device_map: Callable[[str], str] | None, budget: Budget | None = None) -> Any:
    t = _torch()
    if len(node) != 7:
        raise CodecError("malformed tensor")
    _, dtype_name, np_dtype, shape, raw, device, requires_grad = node
    dtype = getattr(t, str(dtype_name), None)
    if not isinstance(dtype, t.dtype):
        raise CodecError("unknown tensor dtype")
    arr = _array(np_dtype, shape, raw, budget)
    x = t.from_numpy(arr).to(dtype)
    target = device_map(str(device)) if device_map else str(device)
    if target != "cpu":
        x = x.to(target)
    if requires_grad and (x.is_floating_point() or x.is_complex()):
        x.requires_grad_(True)
    return x


def _decode_module(node: Any, device_map: Callable[[str], str] | None, budget: Budget | None = None) -> Any:
    """Rebuild a standard module: built on the meta device (no allocation at the sender's chosen
    sizes), then given the sent tensors, whose shapes must match the layer's own."""
    t = _torch()
    nn = t.nn
    _, tree, tensor_nodes = node
    tensors = [_decode_tensor(n, device_map, budget).detach() for n in tensor_nodes]
    params: dict[int, Any] = {}

    def build(spec: Any) -> Any:
        cls_name, kwargs, children, plist, blist, training = spec
        cls = getattr(nn, str(cls_name), None)
        if not isinstance(cls, type) or not issubclass(cls, nn.Module):
            raise CodecError(f"unknown module {cls_name!r}")
        kw = {str(k): (tuple(v) if isinstance(v, list) else v) for k, v in kwargs}
        if not all(isinstance(v, (int, float, str, bool, tuple, type(None))) for v in kw.values()):
            raise CodecError("bad module arguments")
        if budget is not None:
            budget.node()
        try:
            with t.device("meta"):
                mod = cls(**kw)
        except (TypeError, ValueError, RuntimeError) as exc:
            raise CodecError(f"bad arguments for {cls_name}: {exc}") from None
        for name, child in children:
            mod.add_module(str(name), build(child))
        for name, pid, requires_grad in plist:
            name = str(name)
            if pid is None:
                mod._parameters[name] = None
                continue
            if not isinstance(pid, int) or not 0 <= pid < len(tensors):
                raise CodecError("bad tensor reference")
            own = mod._parameters.get(name)
            if own is None or tuple(own.shape) != tuple(tensors[pid].shape):
                raise CodecError(f"{cls_name}.{name} does not match the layer's shape")
            if pid not in params:
                params[pid] = nn.Parameter(tensors[pid].clone(), requires_grad=bool(requires_grad))
            mod._parameters[name] = params[pid]
        for name, bid in blist:
            if bid is not None and (not isinstance(bid, int) or not 0 <= bid < len(tensors)):
                raise CodecError("bad tensor reference")
            mod._buffers[str(name)] = None if bid is None else tensors[bid].clone()
        left = [n for n, v in list(mod._parameters.items()) + list(mod._buffers.items())
                if v is not None and v.device.type == "meta"]
        if left:
            raise CodecError(f"{cls_name} arrived without {', '.join(left)}")
        mod.training = bool(training)
        return mod

    return build(tree)

