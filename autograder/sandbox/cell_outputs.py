"""What a notebook cell displayed, as the student process reports it: checked, capped, turned into nbformat.

The student process (``runtime/shell.py``, ``runtime/cell_capture.py``) reports each cell's outputs as tuples of
``str``; nothing it sends is trusted, so :func:`keep` validates every item and caps it
again here. Outputs are for display only: no score is ever read from them.

Kinds kept (``keep``'s result, which ``CellRun.outputs`` holds):

- ``("stdout", text)``, ``("stderr", text)``
- ``("result", [(mime, data), ...])``: execute_result (an older ``("result", text)`` is text/plain)
- ``("display", [(mime, data), ...])``: display_data (an older ``("png", base64)`` is image/png)
- ``("error", ename, evalue, traceback)``
"""

from __future__ import annotations

import json
import re
from typing import Any

# the student side's own allowlist and image limits, checked again here with the same numbers
from autograder.sandbox.runtime.cell_capture import BINARY_MIMES, MAX_IMAGE_CHARS, MAX_IMAGES, MIMES

# Kept out of the autograded notebook: nbconvert puts them into the feedback and formgrader pages
# as they are, so a submission could run script in a TA's browser (and act in formgrader with
# the TA's session). Markdown is kept as its source text, as text/plain; HTML and SVG are dropped.
ACTIVE_MIMES = ("text/html", "image/svg+xml")
IMAGE_MIMES = BINARY_MIMES
MAX_ITEMS = 200
MAX_ERRORS = 4
_BASE64 = re.compile(r"[A-Za-z0-9+/=\n]*")


def _is_str(value: Any) -> bool:
    return type(value) is str


def _cut(text: str, room: int) -> str:
    room = max(0, room)
    if len(text) <= room:
        return text
    return text[:room] + f"\n[... {len(text) - room} more characters were dropped]\n"


def _valid_image(text: str) -> bool:
    """Base64 and nothing else (the text goes into data: URLs of feedback HTML)."""
    return _BASE64.fullmatch(text) is not None


def _valid_json(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


class _Budget:
    """Characters left for one cell: per stream, and for all text together."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.stream = {"stdout": limit, "stderr": limit}
        self.total = 2 * limit
        self.images = 0
        self.errors = 0

    def take(self, text: str, stream: str | None = None) -> str:
        room = min(self.total, self.stream[stream] if stream else self.limit)
        kept = _cut(text, room)
        used = min(len(text), max(0, room))
        self.total -= used
        if stream:
            self.stream[stream] -= used
        return kept


def _bundle(pairs: Any, budget: _Budget) -> list[tuple[str, str]] | None:
    """A MIME bundle, allowlisted and capped; None when nothing of it can be kept."""
    if type(pairs) not in (list, tuple) or len(pairs) > len(MIMES):
        return None
    kept: list[tuple[str, str]] = []
    image = False
    for pair in pairs:
        if type(pair) not in (list, tuple) or len(pair) != 2 or not all(_is_str(x) for x in pair):
            continue
        mime, data = pair
        if mime == "text/markdown":
            mime = "text/plain"  # shown as the text it is, escaped like any text
            kept = [(m, d) for m, d in kept if m != "text/plain"]
        elif mime == "text/plain" and any(m == "text/plain" for m, _ in kept):
            continue  # the markdown's source stands in for the object's repr
        if mime not in MIMES or mime in ACTIVE_MIMES or any(m == mime for m, _ in kept):
            continue
        if mime in IMAGE_MIMES:
            if budget.images >= MAX_IMAGES or len(data) > MAX_IMAGE_CHARS or not _valid_image(data):
                continue
            image = True
        elif mime == "application/json":
            if len(data) > min(budget.limit, budget.total) or not _valid_json(data):
                continue  # cut JSON is not JSON
            budget.total -= len(data)
        else:
            if budget.total <= 0:
                continue
            data = budget.take(data)
        kept.append((mime, data))
    budget.images += image
    return kept or None


def keep(outputs: Any, limit: int) -> list[tuple[Any, ...]]:
    """The outputs of one cell that are well formed, each capped (``limit`` characters per stream).

    All text together stays under ``2 * limit`` characters (plus short notes), at most
    ``MAX_IMAGES`` images of ``MAX_IMAGE_CHARS`` each, ``MAX_ITEMS`` items. Anything
    malformed is dropped silently.
    """
    budget = _Budget(max(0, int(limit)))
    kept: list[tuple[Any, ...]] = []
    for item in outputs[:MAX_ITEMS * 4] if type(outputs) is list else []:
        if len(kept) >= MAX_ITEMS:
            break
        if type(item) is not tuple or not item or not _is_str(item[0]):
            continue
        kind = item[0]
        if kind in ("stdout", "stderr") and len(item) == 2 and _is_str(item[1]):
            if budget.stream[kind] > 0 and budget.total > 0:
                kept.append((kind, budget.take(item[1], kind)))
        elif kind == "result" and len(item) == 2 and _is_str(item[1]):
            bundle = _bundle([("text/plain", item[1])], budget)
            if bundle:
                kept.append(("result", bundle))
        elif kind == "png" and len(item) == 2 and _is_str(item[1]):
            bundle = _bundle([("image/png", item[1])], budget)
            if bundle:
                kept.append(("display", bundle))
        elif kind in ("result", "display") and len(item) == 2:
            bundle = _bundle(item[1], budget)
            if bundle:
                kept.append((kind, bundle))
        elif (kind == "error" and len(item) == 4 and all(_is_str(x) for x in item)
              and budget.errors < MAX_ERRORS):
            budget.errors += 1
            tb = item[3] if len(item[3]) <= 8000 else item[3][:2000] + "\n[...]\n" + item[3][-6000:]
            kept.append(("error", item[1][:100], item[2][:1000], tb))
    return kept


def _data(pairs: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for pair in pairs if isinstance(pairs, (list, tuple)) else []:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2:
            continue
        mime, text = str(pair[0]), str(pair[1])
        if mime not in MIMES:
            continue
        if mime == "application/json":
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                continue
            data[mime] = value
        else:
            data[mime] = text
    if data and "text/plain" not in data and not any(m in data for m in IMAGE_MIMES):
        data["text/plain"] = ""
    return data


def to_nbformat(outputs: Any) -> list[dict[str, Any]]:
    """nbformat v4 output dicts for kept outputs (also accepts them after a JSON round trip)."""
    out: list[dict[str, Any]] = []
    for item in outputs if isinstance(outputs, (list, tuple)) else []:
        if not isinstance(item, (list, tuple)) or not item:
            continue
        kind = item[0]
        if kind in ("stdout", "stderr") and len(item) == 2:
            if out and out[-1]["output_type"] == "stream" and out[-1]["name"] == kind:
                out[-1]["text"] += str(item[1])
            else:
                out.append({"output_type": "stream", "name": kind, "text": str(item[1])})
        elif kind in ("result", "display", "png") and len(item) == 2:
            if kind == "png":
                data = _data([("image/png", item[1])])
            elif isinstance(item[1], str):
                data = _data([("text/plain", item[1])])
            else:
                data = _data(item[1])
            if not data:
                continue
            if kind == "result":
                out.append({"output_type": "execute_result", "execution_count": None, "metadata": {},
                            "data": data})
            else:
                out.append({"output_type": "display_data", "metadata": {}, "data": data})
        elif kind == "error" and len(item) == 4:
            lines = str(item[3]).splitlines()
            if not any(str(item[1]) in line for line in lines[-3:]):
                lines.append(f"{item[1]}: {item[2]}")
            out.append({"output_type": "error", "ename": str(item[1]), "evalue": str(item[2]),
                        "traceback": lines})
    return out
