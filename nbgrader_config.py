"""nbgrader configuration of the course (the repository root is the course directory)."""

from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)

from autograder.nbgrader_hook import GradeInSandbox

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "nn-fundamentals"
c.CourseDirectory.root = "."

# Autograde: the submission runs in the engine's sandbox instead of nbgrader's Execute
# kernel, and each test cell is scored by its hidden-suite part in the grader process.
c.Autograde.autograde_preprocessors = [
    GradeInSandbox,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
# Grader limits (timeouts, memory, isolation, device) live in [tool.nngrade] in pyproject.toml.
