"""Exceptions shared by the engine and the hidden suites."""

from __future__ import annotations


class NNGradeError(Exception):
    """A user-facing error: the CLI prints it as one line."""


class CheckFailure(AssertionError):
    """A hidden check failed; the message is shown to the student."""


class StudentError(Exception):
    """The student's code raised while the grader called it.

    Attributes:
        type_name: the exception's class name in the student process.
        detail: its message (already shortened).
    """

    def __init__(self, type_name: str, detail: str, where: str = "") -> None:
        self.type_name = type_name
        self.detail = detail
        self.where = where
        prefix = f"{where} raised " if where else ""
        super().__init__(f"{prefix}{type_name}: {detail}" if detail else f"{prefix}{type_name}")


class MissingName(StudentError):
    """The notebook does not define a name the suite needs."""

    def __init__(self, name: str) -> None:
        super().__init__("NameError", f"`{name}` is not defined in your notebook")
        self.name = name

    def __str__(self) -> str:
        return f"`{self.name}` is not defined in your notebook (check its spelling, and run the cell that defines it)"


class StudentTimeout(StudentError):
    """A call into the student's code ran past its time limit; the process was stopped."""

    def __init__(self, where: str, seconds: float) -> None:
        super().__init__("Timeout", f"stopped after {seconds:g} s", where)
        self.seconds = seconds


class StudentCrashed(StudentError):
    """The student's process died (exit, signal, memory limit) during a call."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__("ProcessDied", reason, where)
        self.reason = reason


class GradingDeadline(StudentTimeout):
    """The notebook's grading as a whole ran past ``grading_timeout``; the remaining checks are not run."""

    def __init__(self, where: str, seconds: float) -> None:
        super().__init__(where, seconds)
        self.reason = (f"the grading of your notebook ran past its total limit of {seconds:g} s "
                       "(grading_timeout); this and the remaining checks were not run")


class GraderFault(NNGradeError):
    """The grader or the machine failed (no student process could be started, the zygote died).

    Not the student's doing: a result that holds one is never cached and is graded again.
    """
