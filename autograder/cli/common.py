"""What every ``nngrade`` command shares: the course folder, one-line errors, the common options.

The command modules (:mod:`autograder.cli.main`, :mod:`autograder.cli.batch`,
:mod:`autograder.cli.exports`) import this module only; :mod:`autograder.cli.main` puts their
commands on the ``nngrade`` group.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import click

from autograder.errors import NNGradeError

F = TypeVar("F", bound=Callable[..., Any])

REEXEC_ENV = "NNGRADE_COURSE_PACKAGE"


def friendly(fn: F) -> F:
    """Turn user errors into one line and exit code 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except NNGradeError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return cast(F, wrapper)


def _use_course_package(root: Path) -> None:
    """Run this command with the course's own ``autograder`` package (engine and hidden suites).

    A course folder that holds the package (a clone of this repository) is graded with its
    own suites, not with those of whichever clone was installed into the virtual environment:
    the ``nngrade`` command starts again with the course first on ``sys.path``. Only the
    console command does this (never a caller that imported the CLI).
    """
    import autograder

    own = root / "autograder" / "__init__.py"
    here = Path(autograder.__file__).resolve()
    if not own.is_file() or own.resolve() == here or Path(sys.argv[0]).name != "nngrade":
        return
    if os.environ.get(REEXEC_ENV):
        raise NNGradeError(f"{root} holds its own autograder package, but {here.parent} was imported")
    env = dict(os.environ, **{REEXEC_ENV: "1"})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH", "")]))
    os.execve(sys.executable, [sys.executable, "-m", "autograder.cli.main", *sys.argv[1:]], env)


def course_root(course: str | None, near: str | None = None) -> Path:
    """The course folder: ``--course``, else the nearest above the current folder, else the nearest
    above ``near`` (a notebook being graded), else the clone this package was installed from."""
    from autograder.engine.assignment import find_course_root

    if course:
        root = find_course_root(Path(course))
    else:
        starts = [Path.cwd()] + ([Path(near).resolve().parent] if near else [])
        starts.append(Path(__file__).resolve().parents[2])
        for start in starts:
            try:
                root = find_course_root(start)
                break
            except NNGradeError:
                continue
        else:
            root = find_course_root(None)  # the one-line error for the current folder
    _use_course_package(root)
    return root


def backend_of(use_dask: bool, scheduler: str | None) -> str:
    """Where a class is graded: ``dask`` with ``--dask`` or ``--scheduler``, else ``local``."""
    return "dask" if (use_dask or scheduler) else "local"


course_option = click.option("--course", type=click.Path(file_okay=False), default=None,
                             help="Course folder (default: the nearest one above the current folder).")
device_option = click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), default=None,
                             help="Device for the hidden suites (default: [tool.nngrade] device, or NNGRADE_DEVICE).")
isolation_option = click.option("--isolation", type=click.Choice(["auto", "bwrap", "namespaces", "process"]),
                                default=None, help="Sandbox level (default: auto, the strongest available).")
quiet_option = click.option("--quiet", "-q", is_flag=True, help="Plain line-per-item output, no progress bar.")


def jobs_option(help_text: str) -> Callable[[F], F]:
    """``--jobs``/``-j``: how many submissions are graded at once."""
    return click.option("--jobs", "-j", type=int, default=None, help=help_text)


def grader_options(fn: F) -> F:
    """``--course``, ``--device`` and ``--isolation`` (in that order)."""
    return course_option(device_option(isolation_option(fn)))


def class_options(fn: F) -> F:
    """``--jobs``, ``--dask`` and ``--scheduler``: how a whole class is graded (in that order)."""
    fn = click.option("--scheduler", default=None,
                      help="Address of a running Dask scheduler (implies --dask).")(fn)
    fn = click.option("--dask", "use_dask", is_flag=True,
                      help="Run on a local Dask cluster of --jobs worker processes.")(fn)
    return jobs_option("Submissions graded at once (default: [tool.nngrade] jobs).")(fn)
