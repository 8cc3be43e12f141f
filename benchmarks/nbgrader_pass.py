"""Time each notebook of one ``nbgrader autograde`` run, in the nbgrader process itself.

Usage (from a course folder whose results are already stored, so nothing is graded):
    python /path/to/benchmarks/nbgrader_pass.py autograde a1_perceptron --force

Prints one JSON line on stderr at exit: how many notebooks, the first one's seconds (it also plans
the run and waits for the early start) and the median and mean of the others (nbgrader's
sanitize and autograde phases, our preprocessors, the gradebook, the written notebook). For
measuring only: it wraps ``Autograde.convert_single_notebook`` with a timer in this process.
"""

from __future__ import annotations

import atexit
import json
import statistics
import sys
import time
from typing import Any

from nbgrader.converters.autograde import Autograde

TIMES: list[float] = []
_convert = Autograde.convert_single_notebook


def _timed(self: Autograde, notebook_filename: str) -> Any:
    started = time.perf_counter()
    try:
        return _convert(self, notebook_filename)
    finally:
        TIMES.append(time.perf_counter() - started)


def _report() -> None:
    rest = TIMES[1:] or TIMES or [float("nan")]
    print(json.dumps({"notebooks": len(TIMES), "first_s": round(TIMES[0], 3) if TIMES else None,
                      "median_rest_s": round(statistics.median(rest), 4),
                      "mean_rest_s": round(statistics.mean(rest), 4)}), file=sys.stderr)


if __name__ == "__main__":
    Autograde.convert_single_notebook = _timed  # type: ignore[method-assign]
    atexit.register(_report)
    from nbgrader.apps.nbgraderapp import main

    sys.argv = ["nbgrader", *sys.argv[1:]]  # as typed: the course's nbgrader_config.py sees `nbgrader autograde`
    main()
