"""Headless Chromium for the rendering tests and the docs screenshots (no DevTools, no network).

A page is opened inside an iframe of a small wrapper page; once the page has loaded
(images included), the wrapper's script reads what a reader sees (``innerText``, which
leaves out hidden elements) and how many images decoded, and writes that as JSON into
its own DOM, which ``chromium --dump-dom`` prints.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--hide-scrollbars", "--allow-file-access-from-files",
         "--virtual-time-budget=8000"]

_PROBE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">
<pre id="nngrade-probe">pending</pre>
<iframe id="page" src="{src}" style="border:0;width:{width}px;height:{height}px"></iframe>
<script>
document.getElementById("page").addEventListener("load", function () {{
  var out = document.getElementById("nngrade-probe");
  try {{
    var doc = this.contentDocument;
    var imgs = Array.prototype.slice.call(doc.images);
    out.textContent = JSON.stringify({{
      title: doc.title,
      text: doc.body.innerText,
      html: doc.documentElement.outerHTML,
      images: imgs.length,
      loaded: imgs.filter(function (i) {{ return i.complete && i.naturalWidth > 0; }}).length,
      sizes: imgs.map(function (i) {{ return [i.naturalWidth, i.naturalHeight]; }})
    }});
  }} catch (e) {{ out.textContent = JSON.stringify({{error: String(e)}}); }}
}});
</script></body></html>
"""

_FRAME = """<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body style="margin:0;overflow:hidden">
<iframe id="page" src="{src}" style="border:0;width:{width}px;height:{height}px;display:block"></iframe>
<script>
document.getElementById("page").addEventListener("load", function () {{
  var needle = {needle};
  if (!needle) return;
  var doc = this.contentDocument, win = this.contentWindow;
  var walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {{
    if (walker.currentNode.nodeValue.indexOf(needle) >= 0) {{
      var box = walker.currentNode.parentElement.getBoundingClientRect();
      win.scrollTo(0, box.top + win.scrollY - {margin});
      return;
    }}
  }}
}});
</script></body></html>
"""


@dataclass(frozen=True)
class Rendered:
    """What Chromium made of a page: its visible text and its images."""

    title: str
    text: str
    images: int
    loaded: int
    sizes: list[list[int]]
    dom: str  # the page's DOM (outerHTML) after its scripts ran


def chromium() -> str | None:
    """The Chromium binary (``$NNGRADE_CHROMIUM``, else ``chromium`` on PATH), or None."""
    found = os.environ.get("NNGRADE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    return found if found and Path(found).exists() else None


def _run(args: list[str], workdir: Path, timeout: float = 120) -> str:
    binary = chromium()
    if binary is None:
        raise RuntimeError("chromium is not installed")
    profile = workdir / "chromium-profile"
    profile.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"chromium failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return proc.stdout


def render(page: Path, workdir: Path, width: int = 1280, height: int = 2000) -> Rendered:
    """Open ``page`` in headless Chromium and report its visible text, DOM and images."""
    workdir.mkdir(parents=True, exist_ok=True)
    probe = workdir / "probe.html"
    probe.write_text(_PROBE.format(src=page.resolve().as_uri(), width=width, height=height))
    dom = _run(["--dump-dom", probe.as_uri()], workdir)
    match = re.search(r'<pre id="nngrade-probe">(.*?)</pre>', dom, re.DOTALL)
    if match is None:
        raise RuntimeError(f"chromium printed no probe result:\n{dom[:1000]}")
    data = json.loads(html.unescape(match.group(1)))
    if "error" in data:
        raise RuntimeError(f"the probe could not read {page}: {data['error']}")
    return Rendered(data["title"], data["text"], data["images"], data["loaded"], data["sizes"], data["html"])


def screenshot(page: Path, png: Path, workdir: Path, *, width: int = 1280, height: int = 1600,
               scroll_to: str = "", margin: int = 16) -> Path:
    """A PNG of ``page`` at ``width`` x ``height``, scrolled so the first text containing
    ``scroll_to`` sits ``margin`` pixels below the top (top of the page when empty)."""
    workdir.mkdir(parents=True, exist_ok=True)
    target = page.resolve().as_uri()
    if scroll_to:
        frame = workdir / "frame.html"
        frame.write_text(_FRAME.format(src=target, needle=json.dumps(scroll_to), margin=margin,
                                       width=width, height=height))
        target = frame.as_uri()
    png.parent.mkdir(parents=True, exist_ok=True)
    _run([f"--screenshot={png.resolve()}", f"--window-size={width},{height}",
          "--run-all-compositor-stages-before-draw", target], workdir)
    if not png.exists():
        raise RuntimeError(f"chromium wrote no screenshot to {png}")
    return png
