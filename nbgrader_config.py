"""nbgrader configuration of the course (the repository root is the course directory)."""

import sys
from pathlib import Path

# this course's own engine and hidden suites, not whichever copy of the package is installed
_COURSE = Path(__file__).resolve().parent  # traitlets sets __file__ when it loads this file
if (_COURSE / "autograder" / "__init__.py").is_file() and "autograder" not in sys.modules:
    sys.path.insert(0, str(_COURSE))

from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    ClearOutput,
    DeduplicateIds,
    GetGrades,
    IgnorePattern,
    LimitOutput,
    OverwriteCells,
    OverwriteKernelspec,
    SaveAutoGrades,
)

from autograder.integrations.gradebook_setup import RestoreHiddenTests, pre_convert_hook
from autograder.integrations.nbgrader_hook import GradeInSandbox
from autograder.integrations.nbgrader_sanitize import CheckCellMetadataSafely, SanitizeSubmission
from autograder.integrations.prefetch import start_early
from autograder.reports.feedback import FeedbackExporter, HideScoreOutputs

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "nn-fundamentals"
c.CourseDirectory.root = "."

# A fresh clone has no gradebook.db: before grading, autograde adds a missing assignment the way
# `nbgrader generate_assignment` would (its release goes to a scratch folder, release/ is untouched).
c.Autograde.pre_convert_hook = pre_convert_hook(_COURSE, c.CourseDirectory.course_id)

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
    RestoreHiddenTests,  # an untouched test cell gets its hidden region back: no false checksum warning
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
# Grader limits (timeouts, memory, isolation, device, jobs) live in [tool.nngrade] in pyproject.toml.
# `nbgrader autograde` grades the class in parallel ([tool.nngrade] jobs; 0: the machine's cores);
# its grading processes start now, while nbgrader itself starts (no-op for other commands).
start_early(c)

# Feedback: each test cell's report once (its score is in the cell header, not a bare `Out[ ]: 4`).
c.GenerateFeedback.preprocessors = [GetGrades, HideScoreOutputs, CSSHTMLHeaderPreprocessor]
# nbconvert's HTML page without its BeautifulSoup round trip (the same page, in about half the time)
c.GenerateFeedback.exporter_class = FeedbackExporter

# `nbgrader zip_collect <id>`: files in downloaded/<id>/archive/ named as Canvas's "Download
# Submissions" names them (<name>_<user id>_<submission id>_<file>, "LATE" after the name when
# late), or <student>_<file> (Moodle, hand-made); the student id is the part before the first "_".
c.FileNameCollectorPlugin.named_regexp = (
    r".*/(?P<student_id>[^/_]+)_(?:LATE_)?(?:\d+_\d+_)?(?P<file_id>[^/]+?)(?:-\d+)?\.ipynb$"
)
