"""What IPython's shell costs a student process: once in the zygote, then per forked student.

Run ``python benchmarks/shell_cost.py [--forks N]``. It does what the zygote does
(import numpy, torch and matplotlib, then ``shell.prepare()``, which builds the shell
students take), then forks N children the way student processes are forked; each child
times ``take()`` (what ``Student.__init__`` does), its first cells, and for comparison a
new shell built after the fork, and reports back through a pipe.
No sandbox: only the shell's own cost is measured.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import types
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[1] / "autograder" / "sandbox" / "runtime"


def _child(write_fd: int) -> None:
    import shell

    t0 = time.perf_counter()
    sh = shell.take()  # what Student.__init__ does: the shell prepare() built before the fork
    t1 = time.perf_counter()
    sh.run("x = 21\nx * 2", 65536)
    t2 = time.perf_counter()
    sh.run("%%time\ndef f(v):\n    return v\nf(1)", 65536)
    t3 = time.perf_counter()
    t4 = time.perf_counter()
    shell.new_shell(types.ModuleType("__main__"))  # the fallback, when nothing was prepared
    t5 = time.perf_counter()
    os.write(write_fd, json.dumps([t1 - t0, t2 - t1, t3 - t2, t5 - t4]).encode())
    os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forks", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.path.insert(0, str(RUNTIME))
    t0 = time.perf_counter()
    for name in ("numpy", "torch", "matplotlib.pyplot"):
        __import__(name)
    t1 = time.perf_counter()
    import shell

    t2 = time.perf_counter()
    shell.prepare()
    t3 = time.perf_counter()
    rows: list[list[float]] = []
    for _ in range(args.forks):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _child(write_fd)
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as pipe:
            rows.append(json.loads(pipe.read()))
        os.waitpid(pid, 0)

    def ms(values: list[float]) -> str:
        values = sorted(values)
        p90 = values[min(len(values) - 1, int(0.9 * len(values)))]
        return f"{1e3 * statistics.median(values):8.2f} {1e3 * p90:8.2f}"

    print(f"{'once, in the zygote':<44}{'ms':>9}")
    print(f"{'  import numpy, torch, matplotlib':<44}{1e3 * (t1 - t0):9.1f}")
    print(f"{'  import IPython and the shell module':<44}{1e3 * (t2 - t1):9.1f}")
    print(f"{'  shell.prepare() (warm-up, the shell to take)':<44}{1e3 * (t3 - t2):9.1f}")
    print()
    print(f"{f'per student ({args.forks} forks)':<44}{'median':>8} {'p90':>8}")
    print(f"{'  take the prepared shell (take)':<44}{ms([r[0] for r in rows])}")
    print(f"{'  first cell (x * 2, an execute_result)':<44}{ms([r[1] for r in rows])}")
    print(f"{'  a %%time cell defining a function':<44}{ms([r[2] for r in rows])}")
    print(f"{'  a new shell instead (new_shell, fallback)':<44}{ms([r[3] for r in rows])}")


if __name__ == "__main__":
    main()
