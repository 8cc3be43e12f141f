"""nngrade: the grading engine of the neural-network fundamentals course.

Hidden pytest suites run in the trusted grader process; each submission runs in
its own sandboxed process and is reached through the ``student`` fixture.
"""

__version__ = "0.1.0"
