"""Grader settings: one frozen dataclass, read from ``[tool.nngrade]``, the environment and the CLI."""

from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from autograder.errors import NNGradeError

# The course's libraries, as the sandbox's zygote preloads them: per top-level module a notebook
# imports, what the zygote imports before it forks (torch's optimizers all import torch._dynamo:
# 1-3 s per submission saved). ``Assignment.preload`` picks the rows its notebook needs; a
# zygote started without a list preloads ``DEFAULT_PRELOAD`` (every row).
PRELOADS: dict[str, tuple[str, ...]] = {
    "numpy": ("numpy",), "torch": ("torch", "torch._dynamo"), "matplotlib": ("matplotlib.pyplot",),
    "sklearn": ("sklearn.datasets",),
}
DEFAULT_PRELOAD = tuple(m for mods in PRELOADS.values() for m in mods)

@dataclass(frozen=True)
class GraderConfig:
    """How submissions are run and graded.

    Attributes:
        isolation: ``auto`` (strongest available), ``bwrap``, ``namespaces`` or ``process``.
        device: ``cpu``, ``cuda`` or ``auto`` (cuda when available); the suites' ``device`` fixture.
        cell_timeout: seconds one notebook cell may run before it is stopped and skipped.
        notebook_timeout: seconds for all cells of a notebook together.
        call_timeout: seconds one call from a hidden check into the student's code may run.
        grading_timeout: seconds for grading one notebook as a whole (all its runs, restarts and
            calls); past it, the remaining checks fail with a message that says so.
        memory_mb: data-segment limit of a student process (RLIMIT_DATA; CUDA-safe, unlike RLIMIT_AS).
        cpu_seconds: CPU-time limit of a student process (RLIMIT_CPU).
        file_size_mb: largest file a student process may write (RLIMIT_FSIZE).
        max_processes: RLIMIT_NPROC for student processes (ignored by the kernel for root;
            the PID namespace is what ends stray processes there).
        output_kb: output kept per cell; the rest is dropped and counted.
        max_restarts: fresh student processes a submission may use after crashes or timeouts.
        threads: torch/OpenMP threads per student process.
        jobs: grading processes for a class (``nbgrader autograde``, ``grade-batch``); 0 means
            this machine's cores. Never more than the class has submissions.
        hide_paths: extra folders hidden from student processes.
        student_uid: the user id student processes run as when the grader is root (it must own
            nothing of the grader's; 65534 is ``nobody``). An ordinary grader's students keep its id.
        tmp_mb: size of each student process's private ``/tmp`` (tmpfs; ``/dev/shm`` gets up to 64).
    """

    isolation: str = "auto"
    device: str = "cpu"
    cell_timeout: float = 60.0
    notebook_timeout: float = 300.0
    call_timeout: float = 30.0
    grading_timeout: float = 600.0
    memory_mb: int = 4096
    cpu_seconds: int = 600
    file_size_mb: int = 64
    max_processes: int = 256
    output_kb: int = 64
    max_restarts: int = 3
    threads: int = 1
    jobs: int = 0
    hide_paths: tuple[str, ...] = field(default_factory=tuple)
    student_uid: int = 65534
    tmp_mb: int = 256

    def resolved_device(self) -> str:
        """``cpu`` or ``cuda`` (``auto`` asks torch)."""
        if self.device == "auto":
            try:
                import torch

                return "cuda" if torch.cuda.is_available() else "cpu"
            except ImportError:
                return "cpu"
        return self.device

    def replace(self, **changes: Any) -> GraderConfig:
        """A copy with some fields changed (``None`` values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def student_settings(self) -> dict[str, Any]:
        """What a student process needs to know about its limits."""
        return {
            "memory_bytes": self.memory_mb * 2**20,
            "cpu_seconds": self.cpu_seconds,
            "file_size_bytes": self.file_size_mb * 2**20,
            "max_processes": self.max_processes,
            "threads": self.threads,
            "device": self.resolved_device(),
            "output_bytes": self.output_kb * 1024,
            "student_uid": self.student_uid,
            "tmp_mb": self.tmp_mb,
        }

    def describe_limits(self) -> str:
        """The limits in force, for reports."""
        return (f"cell {self.cell_timeout:g} s, notebook {self.notebook_timeout:g} s, call {self.call_timeout:g} s, "
                f"grading {self.grading_timeout:g} s, "
                f"CPU {self.cpu_seconds} s, memory {self.memory_mb} MiB, files {self.file_size_mb} MiB, "
                f"processes {self.max_processes}, output {self.output_kb} KiB per cell")


_ENV = {"NNGRADE_DEVICE": "device", "NNGRADE_ISOLATION": "isolation", "NNGRADE_JOBS": "jobs"}


def load_config(course_root: Path | None = None, **overrides: Any) -> GraderConfig:
    """Defaults, then ``[tool.nngrade]`` in the course's pyproject.toml, the environment, ``overrides``."""
    values: dict[str, Any] = {}
    if course_root is not None and (course_root / "pyproject.toml").exists():
        with open(course_root / "pyproject.toml", "rb") as f:
            values.update(tomllib.load(f).get("tool", {}).get("nngrade", {}))
    for env, key in _ENV.items():
        if os.environ.get(env):
            values[key] = os.environ[env]
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name: f for f in fields(GraderConfig)}
    unknown = set(values) - set(known)
    if unknown:
        raise NNGradeError(f"unknown grader setting(s): {', '.join(sorted(unknown))}")
    typed: dict[str, Any] = {}
    for key, value in values.items():
        default = getattr(GraderConfig(), key)
        try:
            typed[key] = tuple(value) if isinstance(default, tuple) else type(default)(value)
        except (TypeError, ValueError):
            raise NNGradeError(f"grader setting {key} = {value!r} is not a {type(default).__name__}") from None
    config = GraderConfig(**typed)
    if config.device not in ("cpu", "cuda", "auto"):
        raise NNGradeError(f"device must be cpu, cuda or auto, not {config.device!r}")
    return config
