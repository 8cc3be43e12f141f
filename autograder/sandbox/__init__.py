"""The sandbox layer, host side: starting and talking to the student's process.

A warm zygote (:mod:`.zygote`) forks one confined process per submission; a
:class:`~autograder.sandbox.submission.Submission` runs the notebook's cells there and lets the
hidden suites call the student's functions, bringing back values (never objects) through the
codec and the frames of :mod:`autograder.sandbox.runtime.protocol`. Above the base modules
(:mod:`autograder.config`, :mod:`autograder.errors`, :mod:`autograder.codes`) it imports only
its own ``runtime``; it knows nothing of suites, nbgrader or the course.
"""
