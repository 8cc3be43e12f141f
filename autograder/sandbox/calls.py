"""Calls into the student process: handles to its objects, values out and back, replies read.

The grader's half of the request/reply exchange that :class:`~autograder.sandbox.submission.Submission`
drives. A reply is read as data and trusted in nothing: any reply of the wrong shape is a
:class:`Violation` (the process is then killed and the check fails with one line); values
are rebuilt by the codec within a budget fixed by the frame's size and the call's deadline.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from autograder.errors import MissingName, StudentCrashed, StudentError, StudentTimeout
from autograder.sandbox.runtime import codec, protocol

_SAFE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


class Violation(Exception):
    """Something the student process sent breaks the protocol (its text is the grader's own words)."""


def protocol_crash(where: str, what: str) -> StudentCrashed:
    """The error a check fails with when the process broke the protocol."""
    return StudentCrashed(where, f"the process broke the grader's protocol ({what}); it was stopped")


class _Caller(Protocol):
    def _call(self, handle: Handle, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any: ...

    def _fetch(self, handle: Handle) -> Any: ...


class Handle:
    """A value that stays in the student process: call it, take attributes, or ``fetch()`` it."""

    __slots__ = ("_sub", "_root", "_path", "_type", "_gen")

    def __init__(self, sub: _Caller, root: Any, path: tuple[str, ...], type_name: str, gen: int) -> None:
        self._sub = sub
        self._root = root
        self._path = path
        self._type = type_name
        self._gen = gen

    def __getattr__(self, name: str) -> Handle:
        if name.startswith("__"):
            raise AttributeError(name)
        return Handle(self._sub, self._root, self._path + (name,), "", self._gen)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._sub._call(self, args, kwargs)

    def fetch(self) -> Any:
        """The remote value itself (standard torch modules are rebuilt from their spec)."""
        return self._sub._fetch(self)

    def _describe(self) -> str:
        base = self._root[1] if self._root[0] == protocol.GLOBAL else (self._type or "object")
        return ".".join((str(base),) + self._path)

    def __repr__(self) -> str:
        return f"<student {self._describe()}>"

    def __bool__(self) -> bool:
        raise TypeError("a student-side object has no truth value here; fetch() it first")


def global_handle(sub: _Caller, name: str) -> Handle:
    """A handle to the notebook's global ``name`` (valid in every process of the submission)."""
    return Handle(sub, (protocol.GLOBAL, name), (), "", 0)


def read_reply(reply: Any, request: Any, where: str, limit: float, expect: str,
               decode: Callable[[Any], Any]) -> Any:
    """The value in ``reply`` (rebuilt by ``decode``), or the student's error.

    Args:
        reply: the frame the student sent for ``request``.
        request: what the grader asked.
        where: what the call is, for messages.
        limit: the call's time limit (decoding past it is a timeout).
        expect: ``handle`` or ``bool`` where the value must be one, else ''.
        decode: rebuilds the value of an ``OK`` reply.

    Raises:
        Violation: the reply is malformed.
        StudentTimeout, StudentError, MissingName: the student's call failed.
    """
    if type(reply) is not tuple or not reply or type(reply[0]) is not str:
        raise Violation("a reply that is not a (kind, ...) tuple")
    kind = reply[0]
    texts = all(type(x) is str for x in reply[1:])
    if kind == protocol.OK and len(reply) == 2:
        try:
            value = decode(reply[1])
        except codec.DecodeTimeout:
            raise StudentTimeout(where, limit) from None
        except Violation:
            raise
        except codec.CodecError as exc:
            raise StudentError("InvalidValue", f"the value could not be received safely ({exc})",
                               where) from None
        except Exception as exc:  # anything the checks above missed is still the value's fault
            raise StudentError("InvalidValue", "the value could not be received safely "
                               f"({type(exc).__name__})", where) from None
        if expect == "handle" and not isinstance(value, Handle):
            raise Violation("a value where the grader expected a handle")
        if expect == "bool" and type(value) is not bool:
            raise Violation("a non-boolean answer to a yes/no request")
        return value
    if kind == protocol.MISSING and len(reply) == 2 and texts:
        name = asked_name(request)
        if name is None:
            raise Violation("a 'missing name' reply to a request that names none")
        raise MissingName(name)
    if kind == protocol.ERR and len(reply) == 4 and texts:
        raise StudentError(reply[1][:100], reply[2][:500], where)
    if kind == protocol.FAULT and len(reply) == 2 and texts:
        raise StudentError("InvalidValue", reply[1][:300], where)
    raise Violation(f"an unexpected {kind[:20]!r} reply" if kind in protocol.REPLIES
                    else "a reply of an unknown kind")


def asked_name(request: Any) -> str | None:
    """The notebook global a request looks up (what a ``MISSING`` reply may be about), if any."""
    if request[0] in (protocol.CALL, protocol.FETCH, protocol.PIN):
        root = request[1][0]
        return str(root[1]) if root[0] == protocol.GLOBAL else None
    return None


def decode_value(sub: _Caller, node: Any, gen: int, frame_size: int, deadline: float | None) -> Any:
    """Rebuild a value the student sent; its handles belong to ``sub``'s process generation ``gen``."""

    def resolve(hnode: Any) -> Handle:
        if (type(hnode) is not tuple or len(hnode) != 3 or type(hnode[1]) is not int or hnode[1] < 0
                or type(hnode[2]) is not str):
            raise Violation("a malformed handle")
        type_name = hnode[2] if _SAFE_NAME.fullmatch(hnode[2]) else "object"
        return Handle(sub, (protocol.HANDLE, hnode[1]), (), type_name, gen)

    def device_map(device: str) -> str:
        if device.startswith("cuda"):
            try:
                import torch

                return device if torch.cuda.is_available() else "cpu"
            except ImportError:
                return "cpu"
        return device

    return codec.decode(node, resolve, device_map, budget=codec.Budget(frame_size, deadline))


def encode_value(value: Any, pin: Callable[[Handle], Any]) -> Any:
    """A value the grader sends: handles become the student's own references (``pin``), standard
    torch modules travel as specs; anything else that is not plain data is refused."""

    def make_handle(obj: Any) -> Any:
        if isinstance(obj, Handle):
            return pin(obj)
        if codec.is_standard_module(obj):
            return codec.encode_module(obj)
        raise codec.CodecError(f"the grader cannot send a {type(obj).__name__}")

    return codec.encode(value, make_handle)
