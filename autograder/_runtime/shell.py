"""Notebook cells run by IPython's own ``InteractiveShell`` (no kernel, no ZMQ), outputs kept.

Lives in the student process and imports nothing from the ``autograder`` package
(the student process loads ``_runtime`` files from a copy). :func:`prepare` runs
once in the zygote, before any fork: it imports IPython and builds and discards
one shell, so that every lazy import is done. Each student process then makes a
fresh :class:`NotebookShell` around its own ``__main__`` (:func:`new_shell`, a few
milliseconds) and runs its cells with :meth:`NotebookShell.run`.

What a cell displays is kept as Jupyter would save it, as tuples of ``str``:

- ``("stdout", text)``, ``("stderr", text)``: streams, consecutive writes merged;
- ``("result", [(mime, data), ...])``: the execute_result of the last expression;
- ``("display", [(mime, data), ...])``: display_data (``display()``, figures, ``obj?``);
- ``("error", ename, evalue, traceback)``: IPython's own traceback, without colour codes.

Binary MIME data (PNG, JPEG) is base64; ``application/json`` is JSON text. Every
item is capped here, and the grader caps everything again (it trusts no cap of ours).

One deliberate difference from Jupyter: before each cell the shell's input and AST
transformers are reset to IPython's defaults, so one cell cannot rewrite the source
of later cells (``get_ipython().input_transformers_cleanup``); each cell runs as the
student wrote it. Events, formatters and display hooks stay the student's: they only
change what the student's own cells show.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import re
import sys
import types
from typing import Any, Iterator

from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.inputtransformer2 import TransformerManager
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.profiledir import ProfileDir
from traitlets import Type
from traitlets.config import Config

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


# --- the shell -------------------------------------------------------------------

class _DisplayHook(DisplayHook):
    """The last expression of a cell becomes an execute_result bundle (no ``Out[n]:`` prompt)."""

    def write_output_prompt(self) -> None:
        pass

    def write_format_data(self, format_dict: dict[str, Any], md_dict: Any = None) -> None:
        outputs = getattr(self.shell, "outputs", None)
        if outputs is not None:
            outputs.bundle("result", format_dict)

    def finish_displayhook(self) -> None:
        self._is_active = False


class _DisplayPublisher(DisplayPublisher):
    """``display()`` (and figures, and the pager) become display_data bundles."""

    def publish(self, data: Any, metadata: Any = None, source: Any = None, *, transient: Any = None,
                update: bool = False, **kwargs: Any) -> None:
        display_id = transient.get("display_id") if isinstance(transient, dict) else None
        self.shell.outputs.bundle("display", data, str(display_id) if display_id else None, update)

    def clear_output(self, wait: bool = False) -> None:
        self.shell.outputs.clear()


class NotebookShell(InteractiveShell):
    """An ``InteractiveShell`` whose displays, results and tracebacks go into :class:`CellOutputs`."""

    displayhook_class = Type(_DisplayHook)
    display_pub_class = Type(_DisplayPublisher)

    def __init__(self, **kwargs: Any) -> None:
        self.outputs = CellOutputs(0)
        super().__init__(**kwargs)

    def _showtraceback(self, etype: Any, evalue: Any, stb: list[str]) -> None:
        try:
            text = self.InteractiveTB.stb2text(stb)
        except BaseException:
            text = ""
        self.outputs.error(_name_of(etype), _text_of(evalue), text)

    @contextlib.contextmanager
    def _tee(self, channel: str) -> Iterator[None]:
        # IPython keeps a copy of every stream write in its history: outputs here are kept
        # (capped) by CellOutputs, and an uncapped copy would let a print loop fill memory
        yield

    def init_virtualenv(self) -> None:
        pass

    def enable_gui(self, gui: str | None = None) -> None:
        """``%matplotlib inline`` needs no event loop; a GUI toolkit cannot run here."""
        if gui not in (None, "inline"):
            raise RuntimeError(f"no GUI event loop is available at grading (asked for {gui!r}); "
                               "use %matplotlib inline")

    def ask_exit(self) -> None:
        """``exit()``, ``quit()``: ignored at grading, so the rest of the notebook still runs."""
        self.exit_now = False

    def run(self, source: str, limit: int) -> list[tuple[Any, ...]]:
        """Run one cell as Jupyter would; its outputs, capped.

        Nothing the cell raises leaves this method: ``SystemExit``, ``exit()`` and
        ``KeyboardInterrupt`` are shown as errors (or, for ``exit()``, ignored) and
        the next cell runs.
        """
        self.outputs = outputs = CellOutputs(limit)
        self.reset_transformers()
        old = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = outputs.stdout, outputs.stderr
        try:
            self.run_cell(source, store_history=True)
        except BaseException as exc:  # raised outside the cell's own code (an event, a formatter)
            outputs.error(_name_of(type(exc)), _text_of(exc), "")
        finally:
            sys.stdout, sys.stderr = old
            self.exit_now = False
        figures(outputs)
        self.outputs = CellOutputs(0)  # displays made later, in the grader's calls, go nowhere
        return outputs.finish()

    def reset_transformers(self) -> None:
        """IPython's default input and AST transformers (what earlier cells added is dropped)."""
        self.input_transformer_manager = TransformerManager()
        self.input_transformers_post = []
        self.ast_transformers = []


def _name_of(etype: Any) -> str:
    try:
        return str(etype.__name__)
    except BaseException:
        return "Exception"


def _text_of(value: Any) -> str:
    try:
        return str(value)
    except BaseException:
        return "(unprintable)"


def _config() -> Config:
    config = Config()
    config.HistoryManager.enabled = False  # no sqlite file
    config.HistoryManager.hist_file = ":memory:"
    config.InteractiveShell.colors = "nocolor"
    config.InteractiveShell.display_page = True  # `obj?` is shown in the cell's output, as JupyterLab does
    config.InteractiveShell.warn_venv = False
    config.InteractiveShell.logstart = False
    config.IPCompleter.use_jedi = False
    return config


def new_shell(module: types.ModuleType, ipython_dir: str = "/tmp/.ipython") -> NotebookShell:
    """A fresh shell whose user namespace is ``module`` (registered as ``sys.modules[module.__name__]``).

    No profile, history file, startup file or configuration file is read or written:
    the profile directory has no location and history lives in memory.
    """
    NotebookShell.clear_instance()
    InteractiveShell.clear_instance()
    return NotebookShell.instance(config=_config(), user_module=module, ipython_dir=ipython_dir,
                                  profile_dir=ProfileDir())


_READY: NotebookShell | None = None


def prepare() -> None:
    """In the zygote, before forking: import IPython, warm it, and build the shell students take.

    A throw-away shell runs a few cells first, so that every lazy import is done; then
    the shell each student process takes is built and left untouched: it has run
    nothing (:func:`take`). ``sys.modules["__main__"]`` stays the zygote's own.
    """
    global _READY
    saved_main = sys.modules.get("__main__")
    try:
        warm = new_shell(types.ModuleType("__nngrade_warmup__"))
        warm.run("x = 1\nx", 1024)
        warm.run("%%capture\n%time x", 1024)
        warm.run("1/0", 1024)
        warm.run("x?", 1024)
        with contextlib.suppress(ImportError):  # what `!cmd` lines use
            import IPython.utils._process_posix  # noqa: F401
        if "matplotlib" in sys.modules:
            import matplotlib_inline.backend_inline  # noqa: F401  (%matplotlib inline, made cheap)
        sys.modules.pop("__nngrade_warmup__", None)
        _READY = new_shell(types.ModuleType("__main__"))
    finally:
        if saved_main is not None:
            sys.modules["__main__"] = saved_main


def take() -> NotebookShell:
    """The shell of this student process: the one :func:`prepare` built before the fork, else a new one.

    Either way it has run nothing; its user namespace is a fresh module, registered here
    as ``sys.modules["__main__"]`` (as in Jupyter).
    """
    global _READY
    shell: NotebookShell | None = _READY
    _READY = None
    if shell is None:
        return new_shell(types.ModuleType("__main__"))
    if InteractiveShell._instance is not shell:  # get_ipython() must answer this shell
        for klass in NotebookShell._walk_mro():
            klass._instance = shell  # type: ignore[assignment]
    sys.modules["__main__"] = shell.user_module
    shell.starting_dir = os.getcwd()
    if shell.history_manager is not None:
        shell.history_manager.dir_hist[:] = [shell.starting_dir]
    return shell


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
