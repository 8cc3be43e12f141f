"""Grade a4's answer key and known-wrong submissions on the GPU and on the CPU; compare every check.

Usage:
    python benchmarks/gpu_check.py [--assignment a4_pytorch_loop] [--markdown FILE]

Each submission is graded twice with the same settings but ``device`` (``--device cuda`` and
``cpu``): the hidden suites' ``device`` fixture and the student process's device come from it.
The table lists, per submission, both scores, the checks whose outcome differs (there should be
none: a submission scores the same on both), and both grading times. Exit status 1 when any
check differs or any result is not the student's (a grader failure).

Without a CUDA device it says so, writes that note (``--markdown``) and exits 0: the check is for
a GPU machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from autograder.authoring.known_wrong import load_mutants  # noqa: E402
from autograder.config import load_config  # noqa: E402
from autograder.engine.assignment import Assignment  # noqa: E402
from autograder.engine.grade import grade_notebook  # noqa: E402
from autograder.sandbox.zygote import close_all  # noqa: E402


def cuda_note() -> str:
    """Why there is no GPU run here ("" when there is a CUDA device)."""
    try:
        import torch
    except ImportError:
        return "torch is not installed"
    if not torch.cuda.is_available():
        built = torch.version.cuda or "none (a CPU-only build)"
        return f"no CUDA device is available (torch {torch.__version__}, CUDA build {built})"
    return ""


def outcomes(graded) -> dict[str, tuple[bool, float]]:
    """check id [case] -> (passed, points)."""
    return {f"{c.check_id}[{c.case}]": (c.passed, c.points) for p in graded.result.parts for c in p.checks}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="a4_pytorch_loop")
    parser.add_argument("--markdown", default="", help="also write the table (or the note) here")
    args = parser.parse_args()
    note = cuda_note()
    if note:
        text = (f"GPU check not run: {note}. Nothing was compared; run `python benchmarks/gpu_check.py` "
                "on a machine with a CUDA GPU (and torch built for it).")
        print(text)
        if args.markdown:
            Path(args.markdown).write_text(text + "\n")
        return 0
    import torch

    aid = args.assignment
    asg = Assignment.load(ROOT, aid)
    key = nbformat.read(str(ROOT / "solutions" / aid / f"{aid}.ipynb"), as_version=4)
    rows = [("answer-key", key)] + [(f"wrong-{m.name}", m.apply(key)) for m in load_mutants(aid)]
    runs = {}
    for device in ("cuda", "cpu"):
        config = load_config(ROOT, device=device)
        close_all()
        for name, nb in rows:
            started = time.perf_counter()
            graded = grade_notebook(nb, asg, config, student_id=name)
            runs[(device, name)] = (graded, time.perf_counter() - started)
    lines = [f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}; "
             f"{aid}, {len(rows)} submissions", "",
             "| submission | cuda score | cpu score | checks that differ | cuda s | cpu s |",
             "|---|---|---|---|---|---|"]
    bad = 0
    for name, _ in rows:
        (gpu, gs), (cpu, cs) = runs[("cuda", name)], runs[("cpu", name)]
        a, b = outcomes(gpu), outcomes(cpu)
        differ = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
        faults = [d for d, g in (("cuda", gpu), ("cpu", cpu)) if g.cause != "student"]
        bad += bool(differ or faults or gpu.result.device != "cuda")
        shown = ", ".join(differ) or "none"
        if faults:
            shown += f" (not the student's result on {', '.join(faults)})"
        lines.append(f"| {name} | {gpu.result.score:g} / {gpu.result.max_score:g} | {cpu.result.score:g} | "
                     f"{shown} | {gs:.1f} | {cs:.1f} |")
    lines += ["", f"submissions with any difference: {bad} of {len(rows)}"]
    print("\n".join(lines))
    if args.markdown:
        Path(args.markdown).write_text("\n".join(lines) + "\n")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
