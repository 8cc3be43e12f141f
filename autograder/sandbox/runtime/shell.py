"""Notebook cells run by IPython's own ``InteractiveShell`` (no kernel, no ZMQ), outputs kept.

Lives in the student process and imports nothing from the ``autograder`` package
(the student process loads the ``runtime`` files from a copy). :func:`prepare` runs
once in the zygote, before any fork: it imports IPython and builds and discards
one shell, so that every lazy import is done. Each student process then makes a
fresh :class:`NotebookShell` around its own ``__main__`` (:func:`new_shell`, a few
milliseconds) and runs its cells with :meth:`NotebookShell.run`. What a cell shows
is collected and capped by ``cell_capture.py``, as Jupyter would save it.

A cell is run as IPython reads it: its magics, ``!`` lines and ``obj?`` are turned
into Python by the shell's own input transformers (nothing here rewrites a cell).
One deliberate difference from Jupyter: before each cell the shell's input and AST
transformers are reset to IPython's defaults, so one cell cannot rewrite the source
of later cells (``get_ipython().input_transformers_cleanup``); each cell runs as the
student wrote it. Events, formatters and display hooks stay the student's: they only
change what the student's own cells show.
"""

from __future__ import annotations

import contextlib
import os
import sys
import types
from collections.abc import Iterator
from typing import Any

from IPython.core.displayhook import DisplayHook
from IPython.core.displaypub import DisplayPublisher
from IPython.core.inputtransformer2 import TransformerManager
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.profiledir import ProfileDir
from traitlets import Type
from traitlets.config import Config

try:  # the grader's tools import this file as part of the package
    from .cell_capture import CellOutputs, figures
except ImportError:  # the student process: loaded by path, this folder first on sys.path
    from cell_capture import CellOutputs, figures  # type: ignore[no-redef]


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
