"""The integrations layer: the engine inside the tools a course already uses.

nbgrader's autograde (preprocessors, sanitizing, the gradebook), a class graded in parallel on
one machine or on a Dask cluster (:mod:`.batch`, :mod:`.prefetch`, :mod:`.shipping`),
Gradescope's autograder zip, and grade exports for an LMS. It uses the engine and never the
reports, authoring or CLI layers above it.
"""
