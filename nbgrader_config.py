"""nbgrader configuration of the course (the repository root is the course directory)."""

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    ClearOutput,
    DeduplicateIds,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from autograder.nbgrader_hook import GradeInSandbox
from autograder.nbgrader_sanitize import CheckCellMetadataSafely, SanitizeSubmission

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "nn-fundamentals"
c.CourseDirectory.root = "."

# Autograde: the submission runs in the engine's sandbox instead of nbgrader's Execute
# kernel, and each test cell is scored by its hidden-suite part in the grader process.
# One submission's broken or forged nbgrader metadata (a copy-pasted grade cell, a cell carrying
# a task cell's metadata) must not stop the run for everyone: SanitizeSubmission removes it
# first (noted in that student's result), and CheckCellMetadataSafely never aborts the run.
c.Autograde.sanitize_preprocessors = [
    SanitizeSubmission,
    ClearOutput,
    DeduplicateIds,
    OverwriteKernelspec,
    OverwriteCells,
    CheckCellMetadataSafely,
]
c.Autograde.autograde_preprocessors = [
    GradeInSandbox,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadataSafely,
]
# Grader limits (timeouts, memory, isolation, device) live in [tool.nngrade] in pyproject.toml.
