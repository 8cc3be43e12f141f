"""What one notebook cell shows, kept as Jupyter saves it and capped (the student side).

Loaded by path in the student process (by ``shell.py``); imports nothing from the
``autograder`` package. :class:`CellOutputs` collects a cell's streams, display and
execute_result bundles and errors; :func:`figures` adds the matplotlib figures a cell
left open. What :meth:`CellOutputs.finish` returns is tuples of ``str``:

- ``("stdout", text)``, ``("stderr", text)``: streams, consecutive writes merged;
- ``("result", [(mime, data), ...])``: the execute_result of the last expression;
- ``("display", [(mime, data), ...])``: display_data (``display()``, figures, ``obj?``);
- ``("error", ename, evalue, traceback)``: IPython's own traceback, without colour codes.

Binary MIME data (PNG, JPEG) is base64; ``application/json`` is JSON text. Every
item is capped here, and the grader caps everything again (it trusts no cap of ours).
"""

from __future__ import annotations

import base64
import io
import json
import re
import sys
from typing import Any

MIMES = ("text/plain", "text/html", "text/markdown", "text/latex", "image/png", "image/jpeg",
         "image/svg+xml", "application/json")
BINARY_MIMES = ("image/png", "image/jpeg")
MAX_IMAGES = 8
MAX_IMAGE_CHARS = 4 * 2**20
MAX_BUNDLES = 200
MAX_ERROR_CHARS = 8000
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-_]")


def plain(text: str) -> str:
    """``text`` without ANSI colour and cursor codes."""
    return _ANSI.sub("", text)


def _shorten(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, keeping its start and its end."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} characters ...]\n{text[-half:]}"


# --- what one cell shows -------------------------------------------------------

class CellOutputs:
    """The outputs of one cell, in order, each capped.

    Args:
        limit: characters kept per stream (stdout, stderr) and per text item of a bundle.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(0, int(limit))
        self.items: list[list[Any]] = []
        self.stream_size = {"stdout": 0, "stderr": 0}
        self.stream_dropped = {"stdout": 0, "stderr": 0}
        self.bundle_text = 0
        self.bundles = 0
        self.images = 0
        self.dropped_bundles = 0
        self.by_display_id: dict[str, list[Any]] = {}
        self.stdout = _Stream(self, "stdout")
        self.stderr = _Stream(self, "stderr")

    def stream(self, name: str, text: str) -> None:
        """Append ``text`` to stream ``name`` (merged with the previous item when it is the same stream)."""
        room = self.limit - self.stream_size[name]
        keep = text[:room] if room > 0 else ""
        self.stream_dropped[name] += len(text) - len(keep)
        if not keep:
            return
        self.stream_size[name] += len(keep)
        if self.items and self.items[-1][0] == name:
            self.items[-1][1].append(keep)
        else:
            self.items.append([name, [keep]])

    def bundle(self, kind: str, data: Any, display_id: str | None = None, update: bool = False) -> None:
        """Keep a display_data (``kind="display"``) or execute_result (``"result"``) MIME bundle."""
        pairs = self._pairs(data)
        if update:
            target = self.by_display_id.get(display_id or "")
            if target is not None and pairs:
                target[1] = pairs
            return
        if not pairs or self.bundles >= MAX_BUNDLES:
            self.dropped_bundles += 1 if pairs else 0
            return
        self.bundles += 1
        item = [kind, pairs]
        self.items.append(item)
        if display_id:
            self.by_display_id[str(display_id)] = item

    def _pairs(self, data: Any) -> list[tuple[str, str]]:
        if not isinstance(data, dict) or self.limit <= 0:
            return []
        pairs = []
        has_image = False
        for mime in MIMES:
            if mime not in data:
                continue
            text = _as_text(mime, data[mime])
            if text is None:
                continue
            if mime in BINARY_MIMES:
                if len(text) > MAX_IMAGE_CHARS or self.images >= MAX_IMAGES:
                    continue
                has_image = True
            else:
                room = min(self.limit, 4 * self.limit - self.bundle_text)
                if room <= 0:
                    continue
                if len(text) > room:
                    text = text[:room] + f"\n[... {len(text) - room} more characters were dropped]"
                self.bundle_text += min(len(text), room)
            pairs.append((mime, text))
        self.images += has_image
        return pairs

    def error(self, ename: str, evalue: str, traceback: str) -> None:
        """Keep an error output (the cell raised)."""
        self.items.append(["error", str(ename)[:200], _shorten(str(evalue), 2000),
                           _shorten(plain(str(traceback)), MAX_ERROR_CHARS)])

    def clear(self) -> None:
        """``clear_output()``: forget what the cell showed so far (the caps stay used)."""
        self.items = []
        self.by_display_id = {}

    def finish(self) -> list[tuple[Any, ...]]:
        """The outputs as the protocol sends them (tuples of ``str``, bundles as lists of pairs)."""
        for name, dropped in self.stream_dropped.items():
            if dropped:
                self.items.append([name, [f"\n[... {dropped} more characters of output were dropped]\n"]])
        if self.dropped_bundles:
            self.items.append(["stderr", [f"\n[... {self.dropped_bundles} more displays were dropped]\n"]])
        out: list[tuple[Any, ...]] = []
        for item in self.items:
            if item[0] in ("stdout", "stderr"):
                if out and out[-1][0] == item[0]:
                    out[-1] = (item[0], out[-1][1] + "".join(item[1]))
                else:
                    out.append((item[0], "".join(item[1])))
            elif item[0] in ("display", "result"):
                out.append((item[0], [(str(m), str(t)) for m, t in item[1]]))
            else:
                out.append(tuple(str(x) for x in item))
        return out


def _as_text(mime: str, value: Any) -> str | None:
    """A bundle's value as text: base64 for binary images, JSON for application/json."""
    try:
        if mime == "application/json":
            return json.dumps(value)
        if mime in BINARY_MIMES and isinstance(value, (bytes, bytearray)):
            return base64.b64encode(bytes(value)).decode("ascii")
        if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
            return "".join(value)
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        if isinstance(value, str):
            return str(value)
    except (TypeError, ValueError, RecursionError):
        return None
    return None


class _Stream(io.TextIOBase):
    """``sys.stdout`` / ``sys.stderr`` while a cell runs: writes go into the cell's outputs."""

    def __init__(self, sink: CellOutputs, name: str) -> None:
        self._sink = sink
        self._name = name

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    @property
    def name(self) -> str:
        return f"<{self._name}>"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, s: Any) -> int:
        text = s if isinstance(s, str) else str(s)
        self._sink.stream(self._name, text)
        return len(text)

    def flush(self) -> None:
        pass


# --- figures ---------------------------------------------------------------------

def figures(outputs: CellOutputs) -> None:
    """Show the matplotlib figures a cell left open, then close them (what the inline backend does).

    With ``%matplotlib inline`` IPython has already shown and closed them; this covers the
    default (non-interactive) backend of the student process.
    """
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return
    try:
        nums = plt.get_fignums()
        for num in nums[:MAX_IMAGES]:
            fig = plt.figure(num)
            data: dict[str, Any] = {"text/plain": repr(fig)}
            if fig.axes or fig.lines:  # an empty figure shows as text only, as inline does
                buf = io.BytesIO()
                fig.savefig(buf, format="png", bbox_inches="tight")
                data["image/png"] = buf.getvalue()
            outputs.bundle("display", data)
        if nums:
            plt.close("all")
    except BaseException:
        pass
