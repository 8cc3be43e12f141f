"""nngrade: the grading engine of the neural-network fundamentals course.

Hidden pytest suites run in the trusted grader process; each submission runs in
its own sandboxed process and is reached through the ``student`` fixture.
"""

import sys

__version__ = "0.1.0"

# jsonschema imports rfc3987_syntax when it is installed (jupyter_events pulls it in), and that
# builds about 40 lark parsers at import: 3.4 s in every process that reads a notebook, for an
# "iri" string format no notebook schema uses. Where this package is imported before nbformat
# (grading processes, Dask workers, the CLI), jsonschema goes without it. Set
# NNGRADE_KEEP_RFC3987=1 to keep it.
if "rfc3987_syntax" not in sys.modules and not __import__("os").environ.get("NNGRADE_KEEP_RFC3987"):
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]
