"""The value codec: what crosses the grader/student boundary, and what cannot."""

from __future__ import annotations

import io
import os
import pickle

import numpy as np
import pytest
import torch
from torch import nn

from autograder.sandbox.runtime import codec, protocol


def roundtrip(value):
    frame = protocol.dumps(codec.encode(value, None))
    return codec.decode(protocol.loads(frame[8:]), lambda node: pytest.fail("no handles expected"))


def test_primitives_and_containers():
    value = {"a": [1, 2.5, "x", None, True], ("t", 1): (b"raw", complex(1, 2)), 3: {"nested": []}}
    assert roundtrip(value) == value


@pytest.mark.parametrize("dtype", ["float64", "float32", "int64", "int8", "bool", "complex128", "uint16"])
def test_arrays_keep_dtype_shape_values(dtype):
    arr = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
    back = roundtrip(arr)
    assert back.dtype == arr.dtype and back.shape == arr.shape and np.array_equal(back, arr)
    assert back.flags.writeable


def test_numpy_scalars_and_noncontiguous():
    arr = np.arange(20.0).reshape(4, 5)[:, ::2]
    assert np.array_equal(roundtrip(arr), arr)
    assert roundtrip(np.float32(1.5)) == np.float32(1.5) and type(roundtrip(np.int64(3))) is np.int64


def test_object_arrays_are_refused():
    with pytest.raises(codec.CodecError):
        codec.encode(np.array([object()]), None)


def test_tensors_keep_dtype_and_requires_grad():
    x = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    back = roundtrip(x)
    assert back.dtype == torch.float64 and back.requires_grad and torch.equal(back.detach(), x.detach())
    bf = torch.ones(2, dtype=torch.bfloat16)
    assert roundtrip(bf).dtype == torch.bfloat16
    assert roundtrip(torch.float16) is torch.float16 and roundtrip(torch.device("cpu")) == torch.device("cpu")


def test_standard_module_with_tied_and_frozen_parameters():
    emb = nn.Embedding(10, 4)
    head = nn.Linear(4, 10, bias=False)
    head.weight = emb.weight
    model = nn.Sequential(emb, nn.ReLU(), head, nn.BatchNorm1d(10), nn.Dropout(0.3))
    model[3].weight.requires_grad_(False)
    model.eval()
    spec = codec.encode_module(model)
    back = codec.decode(protocol.loads(protocol.dumps(spec)[8:]), lambda n: None)
    assert [type(m).__name__ for m in back] == ["Embedding", "ReLU", "Linear", "BatchNorm1d", "Dropout"]
    assert back[2].weight is back[0].weight  # sharing survives
    assert not back[3].weight.requires_grad and back[4].p == 0.3 and not back.training
    assert sum(p.numel() for p in back.parameters()) == sum(p.numel() for p in model.parameters())
    for (k1, v1), (k2, v2) in zip(model.state_dict().items(), back.state_dict().items()):
        assert k1 == k2 and torch.equal(v1, v2)


def test_custom_module_is_not_standard():
    class Mine(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 2)

    assert not codec.is_standard_module(Mine())
    assert codec.is_standard_module(nn.Sequential(nn.Linear(2, 2)))


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_unpickler_refuses_every_global():
    body = pickle.dumps(("v", _Evil()))
    with pytest.raises(protocol.FrameError, match="refused global"):
        protocol.loads(body)
    with pytest.raises(protocol.FrameError):
        protocol.loads(pickle.dumps(np.zeros(3)))  # even harmless-looking globals


@pytest.mark.parametrize("node", [
    ("a", "|O", (1,), b"\0" * 8),          # object dtype
    ("a", "<f8", (3,), b"\0" * 8),         # size mismatch
    ("zz", 1),                              # unknown tag
    ("v", [1, 2]),                          # a list smuggled as a scalar
    "not a tuple",
])
def test_malformed_values_are_refused(node):
    with pytest.raises(codec.CodecError):
        codec.decode(node, lambda n: None)


def test_unencodable_values_become_handles():
    seen = []

    def make_handle(obj):
        seen.append(obj)
        return ("h", len(seen), type(obj).__name__)

    node = codec.encode({"f": open, "n": 1}, make_handle)
    assert seen == [open]
    assert dict((k[1], v) for k, v in node[1])["f"] == ("h", 1, "builtin_function_or_method")


def test_bytes_io_not_by_value():
    with pytest.raises(codec.CodecError):
        codec.encode(io.BytesIO(b"x"), None)


# --- the decoder's budget: bounds checked before anything is allocated or constructed ----------

def budgeted(node, deadline=None):
    """Decode ``node`` as the grader does: under the budget of the frame it would arrive in."""
    frame = protocol.dumps(node)
    return codec.decode(protocol.loads(frame[8:]), lambda n: pytest.fail("no handles expected"),
                        budget=codec.Budget(len(frame) - 8, deadline))


def test_honest_values_fit_their_budget():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(),
                          nn.Linear(8 * 4 * 4, 10), nn.LayerNorm(10), nn.Dropout(0.1))
    emb = nn.Embedding(50, 16)
    tied = nn.Sequential(emb, nn.Linear(16, 50, bias=False))
    tied[1].weight = emb.weight
    for m in (model, tied):
        back = budgeted(codec.encode_module(m))
        for (k1, v1), (k2, v2) in zip(m.state_dict().items(), back.state_dict().items()):
            assert k1 == k2 and torch.equal(v1, v2)
    value = {"x": np.arange(1000.0), "t": torch.ones(3, 4, dtype=torch.bfloat16), "n": [1, (2, "a")]}
    back = budgeted(codec.encode(value, None))
    assert np.array_equal(back["x"], value["x"]) and back["t"].dtype == torch.bfloat16


def _never(monkeypatch, target, name):
    def boom(*args, **kwargs):
        pytest.fail(f"{name} was reached before the spec was refused")
    monkeypatch.setattr(target, name, boom)


@pytest.mark.parametrize("spec,why", [
    (("Linear", [("in_features", 4), ("out_features", 4), ("device", "cpu")], [], [], [], True), "device"),
    (("Linear", [("in_features", 4), ("out_features", 4), ("dtype", "float64")], [], [], [], True), "dtype"),
    (("LSTM", [("input_size", 1), ("hidden_size", 1), ("num_layers", 30000)], [], [], [], True), "LSTM"),
    (("Linear", [("in_features", 10**6), ("out_features", 10**6)], [], [], [], True), "far larger"),
    (("Conv2d", [("in_channels", 4096), ("out_channels", 4096), ("kernel_size", (64, 64))], [], [], [],
      True), "far larger"),
    (("Embedding", [("num_embeddings", 10**7), ("embedding_dim", 512)], [], [], [], True), "far larger"),
    (("Linear", [("in_features", 4.5), ("out_features", 4)], [], [], [], True), "in_features"),
    (("Linear", [("in_features", 4)] * 2, [], [], [], True), "in_features"),
])
def test_module_specs_are_refused_before_construction(spec, why, monkeypatch):
    for cls in (nn.Linear, nn.Conv2d, nn.Embedding, nn.LSTM):
        _never(monkeypatch, cls, "__init__")
    with pytest.raises(codec.CodecError, match=why):
        budgeted(("M", spec, []))


def test_every_reference_to_a_tensor_is_counted():
    n = 2**14
    tensors = [codec._encode_tensor(torch.zeros(n), None), codec._encode_tensor(torch.tensor(0), None)]
    layer = ("BatchNorm1d", [("num_features", n), ("affine", False)], [], [],
             [("running_mean", 0), ("running_var", 0), ("num_batches_tracked", 1)], True)
    two = ("M", ("Sequential", [], [(str(i), layer) for i in range(1)], [], [], True), tensors)
    assert budgeted(two)[0].running_mean.shape == (n,)  # two names for one tensor: fine
    many = ("M", ("Sequential", [], [(str(i), layer) for i in range(400)], [], [], True), tensors)
    with pytest.raises(codec.CodecError, match="expand"):
        budgeted(many)
    arrays = ("l", [codec.encode(np.zeros(2**16), None)] * 8)
    with pytest.raises(codec.CodecError, match="expand"):
        budgeted(arrays)


def test_dtype_widening_is_counted_before_the_copy(monkeypatch):
    node = ("T", "complex128", "|u1", (2**20,), bytes(2**20), "cpu", False)
    _never(monkeypatch, codec, "_array")
    with pytest.raises(codec.CodecError, match="expand"):
        budgeted(node)


def test_decoding_stops_at_the_deadline():
    import time

    node = codec.encode([[i, float(i)] for i in range(5000)], None)
    with pytest.raises(codec.DecodeTimeout):
        budgeted(node, deadline=time.monotonic() - 1)
    assert len(budgeted(node, deadline=time.monotonic() + 60)) == 5000


@pytest.mark.parametrize("node", [
    ("a", "(1000,1000)f8", (1,), b"\0" * 8),                 # a subarray dtype
    ("a", "<f8", (2**40, 2**40, 0), b""),                    # absurd dimensions
    ("a", "<f8", [1.5], b"\0" * 8),                          # a shape that is not integers
    ("T", "float32", "<f4", (1,), b"\0" * 4, [["cpu"]], False),   # a device that is not text
    ("T", "Tensor", "<f4", (1,), b"\0" * 4, "cpu", False),   # a torch name that is not a dtype
    ("c", [1], 2.0),                                         # a complex part that is not a number
    ("d", [("v", 1)]),                                       # a dict item that is not a pair
    ("M", ("Linear", [("in_features", 2), ("out_features", 2)], [], [("weight", 0, True)], [], True), [7]),
    ("M", ("Linear", [], [("..", ("ReLU", [], [], [], [], True))], [], [], True), []),
])
def test_malformed_nodes_are_codec_errors(node):
    with pytest.raises(codec.CodecError):
        budgeted(node)


# --- the protocol's frames: one reader for the grader, the zygote and the student ---------------

def _pair():
    import socket

    return socket.socketpair()


def test_frames_round_trip_and_report_their_size():
    a, b = _pair()
    with a, b:
        protocol.write_frame(a, (protocol.OK, ("v", 1)))
        tree, size = protocol.read_frame(b)
        assert tree == (protocol.OK, ("v", 1)) and size == len(protocol.dumps(tree)) - protocol.HEADER.size


def test_an_oversized_frame_is_refused_before_its_body_is_read():
    a, b = _pair()
    with a, b:
        a.sendall(protocol.HEADER.pack(protocol.MAX_FRAME + 1) + b"x" * 16)
        with pytest.raises(protocol.FrameTooLarge):
            protocol.read_frame(b)
        assert b.recv(64) == b"x" * 16  # nothing of the body was consumed


def test_a_frame_that_does_not_arrive_in_time_is_a_timeout():
    import time

    a, b = _pair()
    with a, b:
        a.sendall(protocol.dumps("whole")[:-1])  # one byte short
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            protocol.read_frame(b, deadline=time.monotonic() + 0.2)
        assert time.monotonic() - started < 2


def test_a_closed_socket_is_end_of_file():
    a, b = _pair()
    with b:
        a.sendall(protocol.dumps("half")[:5])
        a.close()
        with pytest.raises(EOFError):
            protocol.read_frame(b)


def test_file_descriptors_travel_with_a_frame():
    import os as _os

    a, b = _pair()
    r, w = _os.pipe()
    with a, b:
        protocol.write_frame(a, (protocol.SPAWN, []), [w])
        fds: list[int] = []
        tree, _ = protocol.read_frame(b, fds=fds)
        assert tree == (protocol.SPAWN, []) and len(fds) == 1
        _os.write(fds[0], b"!")
        assert _os.read(r, 1) == b"!"
        for fd in (r, w, *fds):
            _os.close(fd)


def test_message_names_are_distinct():
    names = [v for k, v in vars(protocol).items() if k.isupper() and type(v) is str]
    assert len(names) == len(set(names)), sorted(names)
    assert protocol.REQUESTS.isdisjoint(protocol.REPLIES)
