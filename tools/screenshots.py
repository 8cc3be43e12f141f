"""Screenshots for the guides: a student's feedback page and the class report, from headless Chromium.

Builds the small a1_perceptron class of the report tests (``tests/report_class.py``) in a
course copy, grades it with real ``nbgrader autograde`` and ``generate_feedback``, runs
``nngrade report``, and photographs both pages. Run from the repository root:

    python tools/screenshots.py                  # writes docs/img/feedback.png and docs/img/report.png
    python tools/screenshots.py --course /tmp/shots-course   # keep (and on a re-run, reuse) the course
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from autograder.cli.main import main as nngrade  # noqa: E402
from tests import browser  # noqa: E402
from tests.report_class import AID, build_graded_class  # noqa: E402

MAX_BYTES = 400_000
FEEDBACK_STUDENT = "step_strict"  # known-wrong: step uses z > 0


def shrink(png: Path, max_bytes: int = MAX_BYTES) -> None:
    """Re-save a screenshot with an adaptive 256-colour palette when it is too big for the repository."""
    if png.stat().st_size <= max_bytes:
        return
    with Image.open(png) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT,
                                           dither=Image.Dither.NONE)
    small.save(png, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, default=None,
                        help="course folder to build (default: a temporary one); reused when already graded")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="folder for the PNGs")
    args = parser.parse_args()
    if browser.chromium() is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    course = args.course or Path(tempfile.mkdtemp(prefix="nngrade-shots-"))
    if not (course / "feedback" / FEEDBACK_STUDENT / AID / f"{AID}.html").exists():
        print(f"grading the class in {course} (about a minute) ...", flush=True)
        build_graded_class(ROOT, course)
    reports = course / "reports"
    nngrade(["report", AID, "--course", str(course), "--out", str(reports)], standalone_mode=False)
    work = course / "screenshots-work"
    args.out.mkdir(parents=True, exist_ok=True)
    feedback = browser.screenshot(course / "feedback" / FEEDBACK_STUDENT / AID / f"{AID}.html",
                                  args.out / "feedback.png", work, width=1100, height=820,
                                  scroll_to="Student's answer", margin=44)
    report = browser.screenshot(reports / f"{AID}_report.html", args.out / "report.png", work,
                                width=1280, height=2150)
    for png in (feedback, report):
        shrink(png)
        print(f"wrote {png.relative_to(ROOT) if png.is_relative_to(ROOT) else png} "
              f"({png.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
